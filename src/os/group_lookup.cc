// LookupGroup (group_dir.h): apart from the other group-dir helpers because it asks the system's
// group database (NSS), which a statically linked binary such as comet-supervisor must not link:
// only stage0 looks the group up.
#include <grp.h>

#include <cerrno>
#include <vector>

#include "os/group_dir.h"

namespace comet::os {

Result<std::optional<gid_t>> LookupGroup(const std::string& name) {
  struct group entry {};
  struct group* found = nullptr;
  std::vector<char> buffer(16 << 10);
  for (;;) {
    const int err = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (err == ERANGE && buffer.size() < (1 << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    // getgrnam_r(3): 0 (or, on some NSS modules, ENOENT/ESRCH...) with found == nullptr when the
    // group does not exist.
    if (found != nullptr) {
      return std::optional<gid_t>(found->gr_gid);
    }
    if (err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM) {
      return std::optional<gid_t>();
    }
    return Err(Error::FromCode(err, "getgrnam", name));
  }
}

}  // namespace comet::os
