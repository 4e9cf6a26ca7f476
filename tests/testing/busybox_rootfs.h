// A minimal rootfs for tests that run containers: the host's static busybox (Debian's
// busybox-static, /bin/busybox) with the applets a test asks for. Thread-safe.
#ifndef COMET_TESTING_BUSYBOX_ROOTFS_H_
#define COMET_TESTING_BUSYBOX_ROOTFS_H_

#include <initializer_list>
#include <string>

#include "base/result.h"

namespace comet::testing {

inline constexpr const char* kHostBusybox = "/bin/busybox";

// True when kHostBusybox exists (tests skip without it).
bool HaveBusybox();

// Creates `rootfs` with bin, proc, sys, dev, tmp, etc and root, /bin/busybox copied from the
// host and a symlink /bin/<applet> -> busybox for each applet.
[[nodiscard]] Status MakeBusyboxRootfs(const std::string& rootfs,
                                       std::initializer_list<const char*> applets);

}  // namespace comet::testing

#endif  // COMET_TESTING_BUSYBOX_ROOTFS_H_
