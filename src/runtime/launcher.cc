// The parent's side of the setup conversation (see runtime/linux/sync.h for the messages).
#include "runtime/launcher.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "runtime/hooks.h"
#include "runtime/linux/init.h"
#include "runtime/linux/sync.h"

namespace comet::runtime {
namespace {

void Reap(pid_t pid) {
  if (pid <= 0) {
    return;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

Error FromReport(const ChildReport& report) {
  std::string what = report.stage;
  if (report.detail[0] != '\0') {
    what += ' ';
    what += report.detail;
  }
  return Error::FromCode(report.err, what);
}

class Conversation {
 public:
  Conversation(int sock, const LaunchCallbacks& callbacks) : sock_(sock), callbacks_(callbacks) {}

  // Handles one message. Returns true when `until` is reached.
  Result<bool> Step(LaunchUntil until);
  [[nodiscard]] pid_t init() const { return init_; }
  void set_intermediate(pid_t pid) { intermediate_ = pid; }
  // Init's pid is known (from the intermediate, or from the clone that made init).
  Status SetInit(pid_t pid);

  void Abort() {
    if (init_ > 0) {
      ::kill(init_, SIGKILL);
    }
    if (intermediate_ > 0) {
      ::kill(intermediate_, SIGKILL);
      Reap(intermediate_);
      intermediate_ = 0;
    }
    Reap(init_);
  }

 private:
  [[nodiscard]] Status Reply(SyncType type, int fd = -1, int value = 0) const {
    int rc = SyncSend(sock_, type, value, fd);
    if (rc != 0) {
      return Err(Error::FromCode(-rc, "sync with container init"));
    }
    return Ok();
  }

  int sock_;
  const LaunchCallbacks& callbacks_;
  pid_t init_ = 0;
  pid_t intermediate_ = 0;
  bool created_ = false;
};

Status Conversation::SetInit(pid_t pid) {
  init_ = pid;
  Reap(intermediate_);
  intermediate_ = 0;
  if (callbacks_.on_init_pid) {
    RETURN_IF_ERROR(callbacks_.on_init_pid(init_));
  }
  return Ok();
}

Result<bool> Conversation::Step(LaunchUntil until) {
  static SyncMessage message;
  int fd = -1;
  int rc = SyncReceive(sock_, &message, &fd);
  os::UniqueFd passed(fd);
  if (rc == -EPIPE) {
    if (until == LaunchUntil::kExecuted && created_) {
      return true;  // the socket closed on exec
    }
    return Err(Error(ECHILD, "container init exited during setup"));
  }
  if (rc != 0) {
    return Err(Error::FromCode(-rc, "sync with container init"));
  }
  switch (message.type) {
    case SyncType::kUsernsReady:
      if (callbacks_.on_namespaces_ready) {
        // The process that joined the namespaces: the intermediate, or init made directly.
        RETURN_IF_ERROR(callbacks_.on_namespaces_ready(intermediate_ > 0 ? intermediate_ : init_));
      }
      RETURN_IF_ERROR(Reply(SyncType::kGo));
      return false;
    case SyncType::kInitPid:
      RETURN_IF_ERROR(SetInit(message.value));
      return false;
    case SyncType::kRuntimeHooks: {
      HookStates states;
      if (callbacks_.on_runtime_hooks) {
        ASSIGN_OR_RETURN(states, callbacks_.on_runtime_hooks(init_));
      }
      os::UniqueFd create_fd;
      os::UniqueFd start_fd;
      if (!states.create_container.empty()) {
        ASSIGN_OR_RETURN(create_fd, StateMemfd(states.create_container));
      }
      if (!states.start_container.empty()) {
        ASSIGN_OR_RETURN(start_fd, StateMemfd(states.start_container));
      }
      RETURN_IF_ERROR(Reply(SyncType::kRuntimeHooksDone, create_fd.get(), start_fd ? 1 : 0));
      if (start_fd) {
        RETURN_IF_ERROR(Reply(SyncType::kStartState, start_fd.get()));
      }
      return false;
    }
    case SyncType::kConsole:
      if (callbacks_.on_console) {
        RETURN_IF_ERROR(callbacks_.on_console(std::move(passed)));
      }
      return false;
    case SyncType::kListener:
      if (callbacks_.on_listener) {
        RETURN_IF_ERROR(callbacks_.on_listener(std::move(passed)));
      }
      RETURN_IF_ERROR(Reply(SyncType::kListenerDone));
      return false;
    case SyncType::kCreated:
      created_ = true;
      return until == LaunchUntil::kCreated;
    case SyncType::kError:
      return Err(FromReport(message.report));
    default:
      return Err(Error(EPROTO, fmt::format("unexpected message {} from container init",
                                           static_cast<int>(message.type))));
  }
}

}  // namespace

Result<pid_t> Launch(InitPlan& plan, const LaunchCallbacks& callbacks, LaunchUntil until) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return Err(Error::FromErrno("socketpair"));
  }
  os::UniqueFd parent_end(fds[0]);
  os::UniqueFd child_end(fds[1]);
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return Err(Error::FromErrno("prctl", "PR_SET_CHILD_SUBREAPER"));
  }
  plan.sync_fd = child_end.get();
  // Without a user namespace init is cloned straight into its pid namespace: one process less
  // to fork, run and reap per container (docs/architecture.md, "Why an intermediate process").
  const bool direct = CanCloneInitDirectly(plan);
  pid_t child = direct ? static_cast<pid_t>(::syscall(SYS_clone, DirectInitCloneFlags(plan),
                                                      nullptr, nullptr, nullptr, nullptr))
                       : ::fork();
  if (child < 0) {
    return Err(Error::FromErrno(direct ? "clone" : "fork", "container setup process"));
  }
  if (child == 0) {
    ::close(parent_end.get());
    if (direct) {
      RunDirectInit(plan);
    }
    RunIntermediate(plan);
  }
  child_end.Reset();
  Conversation conversation(parent_end.get(), callbacks);
  if (direct) {
    if (auto known = conversation.SetInit(child); !known) {
      conversation.Abort();
      return Err(std::move(known).error());
    }
  } else {
    conversation.set_intermediate(child);
  }
  while (true) {
    auto done = conversation.Step(until);
    if (!done) {
      conversation.Abort();
      return Err(std::move(done).error());
    }
    if (*done) {
      return conversation.init();
    }
  }
}

}  // namespace comet::runtime
