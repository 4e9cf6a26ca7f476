// OCI namespace types and their kernel names and flags; opening namespaces to join.
// Thread-safe (pure functions and fds owned by the caller).
#ifndef COMET_RUNTIME_NAMESPACES_H_
#define COMET_RUNTIME_NAMESPACES_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"
#include "os/unique_fd.h"
#include "runtime/linux/init_plan.h"

namespace comet::runtime {

struct NamespaceKind {
  std::string_view oci_type;   // "network"
  std::string_view proc_name;  // "net" (/proc/<pid>/ns/net)
  int flag;                    // CLONE_NEWNET
};

// nullptr for an unknown type.
const NamespaceKind* FindNamespace(std::string_view oci_type);
const std::vector<NamespaceKind>& AllNamespaces();

struct NamespaceSetup {
  std::vector<os::UniqueFd> fds;     // owns the fds referenced by `joins`
  std::vector<NamespaceJoin> joins;  // user namespace first
  bool new_user_ns = false;
  int unshare_flags = 0;      // all new namespaces except user
  bool has_mount_ns = false;  // new or joined
  bool new_mount_ns = false;
  bool new_cgroup_ns = false;
  bool new_pid_ns = false;
  bool new_net_ns = false;
};

// From linux.namespaces: opens each path to join (errors name the field), collects the flags of
// new ones.
[[nodiscard]] Result<NamespaceSetup> PrepareNamespaces(const std::vector<oci::Namespace>& spec);

// For exec: joins every namespace of `pid` that differs from the caller's own.
[[nodiscard]] Result<NamespaceSetup> PrepareJoinAll(pid_t pid);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_NAMESPACES_H_
