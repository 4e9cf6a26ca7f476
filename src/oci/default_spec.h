// The config.json that `comet-runtime spec` writes: a busybox-style shell in its own namespaces
// with a small capability set, like `runc spec` produces. Thread-safe (reads euid/egid only).
#ifndef COMET_OCI_DEFAULT_SPEC_H_
#define COMET_OCI_DEFAULT_SPEC_H_

#include "oci/spec.h"

namespace comet::oci {

// rootless: add a user namespace mapping the caller's euid/egid to 0, drop the network namespace
// (an unprivileged user could not configure it), bind /sys instead of mounting sysfs (sysfs
// needs a network namespace of one's own), drop devpts gid=5 (unmapped) and the device cgroup
// rules (no cgroup to write them to).
Spec DefaultSpec(bool rootless);

}  // namespace comet::oci

#endif  // COMET_OCI_DEFAULT_SPEC_H_
