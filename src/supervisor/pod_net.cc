// Attaching and detaching a pod's networks from the supervisor; see pod_net.h.
#include "supervisor/pod_net.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/log.h"
#include "network/netns.h"
#include "network/pod_network.h"
#include "os/file.h"
#include "pod/pod_networks.h"

namespace comet::supervisor {
namespace {

// The child's report: nothing on success, else the error's text.
constexpr size_t kMaxReportBytes = 64 << 10;

Result<os::UniqueFd> OpenNamespace(const char* path) {
  os::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return Err(Error::FromErrno("open", path));
  }
  return fd;
}

// Undoes a failed attach: the networks already rolled back, the pin and the records go.
void DropPinAndRecords(const std::string& pod_dir, const std::string& pin) {
  if (Status removed = network::RemovePinnedNetns(pin); !removed) {
    log::Warning("{}", removed.error().ToString());
  }
  (void)::unlink(os::JoinPath(pod_dir, pod::kNetworkRecordsFile).c_str());
}

}  // namespace

Result<HostNamespaces> OpenHostNamespaces() {
  HostNamespaces host;
  ASSIGN_OR_RETURN(host.net, OpenNamespace("/proc/self/ns/net"));
  ASSIGN_OR_RETURN(host.mnt, OpenNamespace("/proc/self/ns/mnt"));
  return host;
}

Result<AttachedNetworks> AttachPodNetworks(const std::string& pod_dir, const std::string& uuid,
                                           std::vector<network::NetworkAttachment> plan) {
  const std::string pin = pod::NetnsPinPath(uuid);
  for (network::NetworkAttachment& record : plan) {
    record.invocation.netns = pin;
  }
  // Recorded before the pin and any ADD: a crash from here on leaves what gc needs.
  RETURN_IF_ERROR_CTX(pod::WriteNetworkRecords(pod_dir, plan), "recording the pod's networks");
  if (Status pinned = network::CreatePinnedNetns(pin); !pinned) {
    DropPinAndRecords(pod_dir, pin);
    return Err(std::move(pinned).error());
  }
  AttachedNetworks attached;
  auto netns = network::OpenNetns(pin);
  // After every plugin: a DEL after a kill -9 then has the results some plugins need (the
  // firewall plugin removes its rules only by the ADD's addresses).
  auto checkpoint = [&pod_dir](const std::vector<network::NetworkAttachment>& records) {
    return pod::WriteNetworkRecords(pod_dir, records);
  };
  Status done = netns ? network::Attach(&plan, pod::CniOptionsFromEnvironment(), checkpoint)
                      : Status(Err(netns.error()));
  if (done) {
    done = pod::WriteNetworkRecords(pod_dir, plan);
    if (!done) {  // the records must hold what was added, or gc could not undo it
      (void)network::Detach(plan, pod::CniOptionsFromEnvironment());
    }
  }
  if (!done) {
    // Attach rolled back what it added; a DEL of everything again tells whether that worked.
    // If not, the records and the pin stay: gc DELs from them.
    if (Status undone = network::Detach(plan, pod::CniOptionsFromEnvironment()); !undone) {
      log::Warning("the pod's networks are left for gc: {}", undone.error().ToString());
      return Err(std::move(done).error());
    }
    DropPinAndRecords(pod_dir, pin);
    return Err(std::move(done).error());
  }
  attached.records = std::move(plan);
  attached.netns = std::move(*netns);
  return attached;
}

Status DetachPodNetworks(const std::string& pod_dir, const std::string& uuid,
                         const HostNamespaces& host) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Err(Error::FromErrno("pipe2"));
  }
  os::UniqueFd read_end(fds[0]);
  os::UniqueFd write_end(fds[1]);
  // The supervisor is single-threaded: its child may allocate and spawn plugins freely.
  const pid_t child = ::fork();
  if (child < 0) {
    return Err(Error::FromErrno("fork"));
  }
  if (child == 0) {
    read_end.Reset();
    Status done = Ok();
    if (::setns(host.mnt.get(), CLONE_NEWNS) != 0) {
      done = Err(Error::FromErrno("setns", "the host's mount namespace"));
    } else if (::setns(host.net.get(), CLONE_NEWNET) != 0) {
      done = Err(Error::FromErrno("setns", "the host's network namespace"));
    } else {
      done = pod::DetachNetworks(pod_dir, uuid);
    }
    if (!done) {
      (void)os::WriteAll(write_end.get(), done.error().ToString());
    }
    ::_exit(done ? 0 : 1);
  }
  write_end.Reset();
  auto report = os::ReadFd(read_end.get(), kMaxReportBytes);
  int wait_status = 0;
  while (::waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (report && !report->empty()) {
    return Err(Error::Invalid(*report));
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return Err(Error::Invalid(fmt::format(
        "detaching the pod's networks: the helper process failed (status {})", wait_status)));
  }
  return Ok();
}

}  // namespace comet::supervisor
