// TempDir.
#include "os/temp_dir.h"

#include <stdlib.h>  // NOLINT(modernize-deprecated-headers): mkdtemp is POSIX

#include <vector>

#include "os/file.h"

namespace comet::os {

Result<TempDir> TempDir::Create(const std::string& prefix, const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* env = ::secure_getenv("TMPDIR");
    base = env != nullptr && *env != '\0' ? env : "/tmp";
  }
  std::string pattern = JoinPath(base, prefix + "XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return Err(Error::FromErrno("mkdtemp", pattern));
  }
  return TempDir(std::string(buf.data()));
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) {
      (void)RemoveAll(path_);
    }
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    (void)RemoveAll(path_);
  }
}

std::string TempDir::Release() {
  std::string out = std::move(path_);
  path_.clear();
  return out;
}

}  // namespace comet::os
