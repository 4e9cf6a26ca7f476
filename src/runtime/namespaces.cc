// Namespace table and preparation.
#include "runtime/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <fmt/format.h>

namespace comet::runtime {

const std::vector<NamespaceKind>& AllNamespaces() {
  // The user namespace first: joining it first gives the rights to join the others.
  static const std::vector<NamespaceKind> kKinds = {
      {"user", "user", CLONE_NEWUSER},       {"mount", "mnt", CLONE_NEWNS},
      {"pid", "pid", CLONE_NEWPID},          {"network", "net", CLONE_NEWNET},
      {"ipc", "ipc", CLONE_NEWIPC},          {"uts", "uts", CLONE_NEWUTS},
      {"cgroup", "cgroup", CLONE_NEWCGROUP}, {"time", "time", CLONE_NEWTIME},
  };
  return kKinds;
}

const NamespaceKind* FindNamespace(std::string_view oci_type) {
  for (const NamespaceKind& kind : AllNamespaces()) {
    if (kind.oci_type == oci_type) {
      return &kind;
    }
  }
  return nullptr;
}

namespace {

void Note(NamespaceSetup& setup, int flag, bool is_new) {
  if (flag == CLONE_NEWNS) {
    setup.has_mount_ns = true;
    setup.new_mount_ns = is_new;
  }
  if (!is_new) {
    return;
  }
  if (flag == CLONE_NEWUSER) {
    setup.new_user_ns = true;
    return;
  }
  setup.unshare_flags |= flag;
  setup.new_cgroup_ns = setup.new_cgroup_ns || flag == CLONE_NEWCGROUP;
  setup.new_pid_ns = setup.new_pid_ns || flag == CLONE_NEWPID;
  setup.new_net_ns = setup.new_net_ns || flag == CLONE_NEWNET;
}

}  // namespace

Result<NamespaceSetup> PrepareNamespaces(const std::vector<oci::Namespace>& spec) {
  NamespaceSetup setup;
  // Visit in AllNamespaces() order so that the user namespace is joined first.
  for (const NamespaceKind& kind : AllNamespaces()) {
    for (size_t i = 0; i < spec.size(); ++i) {
      if (spec[i].type != kind.oci_type) {
        continue;
      }
      if (spec[i].path.empty()) {
        Note(setup, kind.flag, true);
        continue;
      }
      int fd = ::open(spec[i].path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        return Err(
            Error::FromErrno(fmt::format("linux.namespaces[{}].path: open", i), spec[i].path));
      }
      setup.fds.emplace_back(fd);
      setup.joins.push_back({fd, kind.flag});
      Note(setup, kind.flag, false);
    }
  }
  for (size_t i = 0; i < spec.size(); ++i) {
    if (FindNamespace(spec[i].type) == nullptr) {
      return Err(
          Error::Invalid(fmt::format("linux.namespaces[{}].type: unknown namespace type "
                                     "\"{}\"",
                                     i, spec[i].type)));
    }
  }
  return setup;
}

Result<NamespaceSetup> PrepareJoinAll(pid_t pid) {
  NamespaceSetup setup;
  for (const NamespaceKind& kind : AllNamespaces()) {
    std::string theirs = fmt::format("/proc/{}/ns/{}", pid, kind.proc_name);
    std::string ours = fmt::format("/proc/self/ns/{}", kind.proc_name);
    struct stat their_stat {};
    struct stat our_stat {};
    if (::stat(theirs.c_str(), &their_stat) != 0) {
      if (errno == ENOENT && kind.flag == CLONE_NEWTIME) {
        continue;  // kernels without time namespaces
      }
      return Err(Error::FromErrno("stat", theirs));
    }
    if (::stat(ours.c_str(), &our_stat) == 0 && our_stat.st_ino == their_stat.st_ino &&
        our_stat.st_dev == their_stat.st_dev) {
      continue;  // already there; setns to one's own user namespace fails with EINVAL
    }
    int fd = ::open(theirs.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return Err(Error::FromErrno("open", theirs));
    }
    setup.fds.emplace_back(fd);
    setup.joins.push_back({fd, kind.flag});
    Note(setup, kind.flag, false);
  }
  return setup;
}

}  // namespace comet::runtime
