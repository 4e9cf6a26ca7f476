// Device access rules (linux.resources.devices): the writes that express them in the v1 devices
// controller, and the eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) that enforces them on v2.
// Thread-safe (pure functions; the attach touches only the given group).
#ifndef COMET_CGROUP_DEVICES_H_
#define COMET_CGROUP_DEVICES_H_

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace comet::cgroup {

// One write to devices.allow (allow) or devices.deny.
struct V1DeviceWrite {
  bool allow = false;
  std::string line;  // "a", "c 1:3 rwm", "b *:* m"
};

// OCI applies the rules in order, a later rule overriding an earlier one. The v1 controller
// applies writes in order too: "a" to devices.deny empties the allow list and denies by default,
// an allow adds an exception, a deny removes the matching exception. So the writes are "deny a"
// followed by one write per rule. The kernel removes only exceptions that match a deny exactly
// (devcgroup's dev_exception_rm), so a narrow deny after a wider allow does not carve a hole;
// the v2 program below has no such gap.
[[nodiscard]] Result<std::vector<V1DeviceWrite>> V1DeviceWrites(
    const std::vector<oci::DeviceCgroup>& rules);

// The program: the rules are tried last to first and the first match decides (allow: the
// requested access is a subset of the rule's; deny: it intersects it); no match denies.
[[nodiscard]] Result<std::vector<bpf_insn>> BuildDeviceProgram(
    const std::vector<oci::DeviceCgroup>& rules);
// Loads the program and attaches it to the group at `dir` (BPF_F_ALLOW_MULTI), then detaches the
// device programs that were attached before, so that Apply can be repeated (update).
[[nodiscard]] Status AttachDeviceProgram(const std::string& dir, const std::vector<bpf_insn>& prog);

}  // namespace comet::cgroup

#endif  // COMET_CGROUP_DEVICES_H_
