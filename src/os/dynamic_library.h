// Shared libraries loaded at run time (dlopen) with their functions resolved by name, so that
// comet loads the libraries of rarer commands (libcurl for pulls, libarchive for tar streams)
// only when one runs. Thread-safe: dlopen and dlsym are; a DynamicLibrary is immutable.
#ifndef COMET_OS_DYNAMIC_LIBRARY_H_
#define COMET_OS_DYNAMIC_LIBRARY_H_

#include <bit>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "base/result.h"

namespace comet::os {

class DynamicLibrary {
 public:
  // dlopen(soname, RTLD_NOW | RTLD_LOCAL): every symbol is bound now, none leaks into the global
  // namespace. The library is never unloaded (function pointers taken from it may outlive this
  // object). Errors (ELIBACC) carry dlerror's text.
  [[nodiscard]] static Result<DynamicLibrary> Open(const std::string& soname);

  // Sets `function` to the library's symbol `name`; a missing symbol is an error naming it.
  // `Function` comes from the library's own header (decltype(&curl_easy_init)), so the compiler
  // checks every call made through the pointer.
  template <typename Function>
  [[nodiscard]] Status Resolve(const char* name, Function*& function) const {
    static_assert(std::is_function_v<Function>);
    ASSIGN_OR_RETURN(void* address, Symbol(name));
    function = std::bit_cast<Function*>(address);
    return Ok();
  }

  [[nodiscard]] const std::string& soname() const { return soname_; }

 private:
  DynamicLibrary(std::string soname, void* handle) : soname_(std::move(soname)), handle_(handle) {}
  [[nodiscard]] Result<void*> Symbol(const char* name) const;

  std::string soname_;
  void* handle_;
};

// Opens `soname` and fills a table of its functions with `resolve(library, table)`; any failure
// is an error saying what needs the library ("image pulls need libcurl.so.4: ...").
template <typename Table, typename ResolveAll>
[[nodiscard]] Result<Table> LoadFunctionTable(const std::string& soname, std::string_view needed_by,
                                              ResolveAll resolve) {
  Table table{};
  Status status = DynamicLibrary::Open(soname).and_then(
      [&](const DynamicLibrary& library) { return resolve(library, table); });
  if (!status) {
    const Error& error = status.error();
    return Err(
        Error(error.code(), std::string(needed_by) + " need " + soname + ": " + error.message()));
  }
  return table;
}

}  // namespace comet::os

#endif  // COMET_OS_DYNAMIC_LIBRARY_H_
