// Releasing a named lease (and checking lease names), kept apart from the rest of the store so
// that the pod supervisor can release its pod's lease without linking the store's hashing and
// archive code (store.h: ReleaseStoreLease).
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "image/store.h"
#include "image/store_internal.h"
#include "os/file.h"

namespace comet::image {

namespace store_internal {

Status ValidateLeaseName(std::string_view name) {
  const bool valid_chars = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
  if (name.empty() || name.size() > 255 || !valid_chars || name.front() == '.' ||
      name.starts_with("tmp-")) {
    return Err(Error::Invalid(fmt::format(
        "invalid lease name {:?}: want [A-Za-z0-9_.-]+, not starting with '.' or \"tmp-\"",
        name.substr(0, 300))));
  }
  return Ok();
}

}  // namespace store_internal

Status ReleaseStoreLease(const std::string& root, std::string_view name) {
  namespace si = store_internal;
  RETURN_IF_ERROR(si::ValidateLeaseName(name));
  const std::string path = os::JoinPath(si::LeasesDir(root), name);
  ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(root));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("unlink", path));
  }
  return Ok();
}

}  // namespace comet::image
