// DynamicLibrary over dlopen/dlsym: see dynamic_library.h. Thread-safe (dlerror's text is per
// thread in glibc).
#include "os/dynamic_library.h"

#include <dlfcn.h>

#include <cerrno>
#include <utility>

namespace comet::os {
namespace {

std::string LastDlError(std::string_view fallback) {
  const char* text = dlerror();  // NOLINT(concurrency-mt-unsafe): per-thread state in glibc
  return text != nullptr ? std::string(text) : std::string(fallback);
}

}  // namespace

Result<DynamicLibrary> DynamicLibrary::Open(const std::string& soname) {
  void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return Err(Error(ELIBACC, LastDlError(soname + ": cannot be loaded")));
  }
  return DynamicLibrary(soname, handle);
}

Result<void*> DynamicLibrary::Symbol(const char* name) const {
  dlerror();  // NOLINT(concurrency-mt-unsafe): clears this thread's last error
  void* address = dlsym(handle_, name);
  if (address == nullptr) {
    return Err(Error(ELIBACC, LastDlError(soname_ + ": no symbol " + name)));
  }
  return address;
}

}  // namespace comet::os
