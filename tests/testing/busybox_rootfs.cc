// A busybox rootfs for tests; see busybox_rootfs.h.
#include "testing/busybox_rootfs.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

namespace comet::testing {

namespace fs = std::filesystem;

bool HaveBusybox() {
  std::error_code ec;
  return fs::exists(kHostBusybox, ec);
}

Status MakeBusyboxRootfs(const std::string& rootfs, std::initializer_list<const char*> applets) {
  std::error_code ec;
  for (const char* dir : {"bin", "proc", "sys", "dev", "tmp", "etc", "root"}) {
    if (fs::create_directories(fs::path(rootfs) / dir, ec); ec) {
      return Err(Error::Invalid(fmt::format("creating {}/{}: {}", rootfs, dir, ec.message())));
    }
  }
  if (fs::copy_file(kHostBusybox, rootfs + "/bin/busybox", ec); ec) {
    return Err(Error::Invalid(fmt::format("copying {}: {}", kHostBusybox, ec.message())));
  }
  for (const char* applet : applets) {
    if (fs::create_symlink("busybox", rootfs + "/bin/" + applet, ec); ec) {
      return Err(Error::Invalid(fmt::format("linking /bin/{}: {}", applet, ec.message())));
    }
  }
  return Ok();
}

}  // namespace comet::testing
