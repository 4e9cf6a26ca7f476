// The runtime verbs that act on an existing container: start, state, kill, delete, list, ps,
// pause, resume, update.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "oci/spec_json.h"
#include "os/file.h"
#include "os/file_lock.h"
#include "runtime/container_ops.h"
#include "runtime/hooks.h"

namespace comet::runtime {
namespace {

// Waits until `pid` is gone (or a zombie); it is not our child, so poll /proc.
bool WaitGone(const ContainerRecord& record, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (ProcessStartTime(record.pid) == record.pid_start_time && record.pid_start_time != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// After init's go-ahead byte: the startContainer hooks run, then the program is exec'd, which
// closes init's end of the fifo. A failure comes as "1" and a message instead (init.cc).
Status WaitForExec(int fifo, const ContainerRecord& record) {
  int flags = ::fcntl(fifo, F_GETFL);
  if (flags < 0 || ::fcntl(fifo, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return Err(Error::FromErrno("fcntl", "exec fifo"));
  }
  ASSIGN_OR_RETURN(std::string rest, os::ReadFd(fifo, 64U << 10));
  if (rest.empty()) {
    return Ok();
  }
  std::string message(TrimSpace(std::string_view(rest).substr(1)));
  return Err(Error(ECANCELED, "starting container " + record.id + ": " + message));
}

// Reads the byte init writes once it is past the exec fifo. `init` must be waiting there.
Status OpenExecFifo(const RuntimeContext& context, const ContainerRecord& record) {
  std::string path = context.store.FifoPath(record.id);
  ASSIGN_OR_RETURN(os::UniqueFd fifo, os::Open(path, O_RDONLY | O_NONBLOCK));
  while (true) {
    struct pollfd pfd {};
    pfd.fd = fifo.get();
    pfd.events = POLLIN;
    int ready = ::poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR) {
      return Err(Error::FromErrno("poll", path));
    }
    if (ready > 0) {
      char byte = 0;
      ssize_t n = ::read(fifo.get(), &byte, 1);
      if (n == 1) {
        RETURN_IF_ERROR(WaitForExec(fifo.get(), record));
        break;
      }
      if (n == 0 && (pfd.revents & POLLHUP) != 0) {
        // init opened and closed its end without a byte for us: another start took it.
        return Err(Error(EBUSY, "container " + record.id + " was started by another caller"));
      }
    }
    if (ProcessStartTime(record.pid) != record.pid_start_time) {
      return Err(Error(ESRCH, "container init exited before it was started"));
    }
  }
  if (::unlink(path.c_str()) != 0) {
    return Err(Error::FromErrno("unlink", path));
  }
  return Ok();
}

Result<ContainerRecord> LoadRecord(const RuntimeContext& context, const std::string& id) {
  return context.store.Load(id);
}

}  // namespace

Status StartContainer(const RuntimeContext& context, ContainerRecord& record,
                      const oci::Hooks* hooks) {
  std::string status = ComputeStatus(context, record);
  if (status != "created") {
    return Err(Error(EINVAL, "cannot start a container that is " + status));
  }
  RETURN_IF_ERROR(OpenExecFifo(context, record));
  record.started = true;
  RETURN_IF_ERROR(context.store.Save(record));
  std::optional<oci::Spec> loaded;
  hooks = HooksOf(context, record.id, hooks, loaded);
  if (hooks != nullptr && !hooks->poststart.empty()) {
    // runtime-spec: a failing poststart hook is logged and the container keeps running.
    RunHooksWarnOnly(hooks->poststart, oci::StateToJson(MakeState(record, "running")), "poststart");
  }
  return Ok();
}

Status DestroyContainer(const RuntimeContext& context, const ContainerRecord& record,
                        const oci::Hooks* hooks) {
  if (record.pid > 0 && !WaitGone(record, std::chrono::milliseconds(0))) {
    ::kill(record.pid, SIGKILL);
  }
  auto cgroups = OpenCgroups(record);
  if (cgroups && *cgroups) {
    if (auto st = (*cgroups)->Destroy(); !st) {
      return Err(std::move(st).error().AddContext("removing cgroups of " + record.id));
    }
  } else if (!cgroups) {
    log::Warning("{}", cgroups.error().ToString());
  }
  if (record.pid > 0 && !WaitGone(record, std::chrono::seconds(10))) {
    return Err(Error(
        EBUSY, fmt::format("process {} of container {} did not exit", record.pid, record.id)));
  }
  std::optional<oci::Spec> loaded;
  hooks = HooksOf(context, record.id, hooks, loaded);
  if (hooks != nullptr && !hooks->poststop.empty()) {
    RunHooksWarnOnly(hooks->poststop, oci::StateToJson(MakeState(record, "stopped")), "poststop");
  }
  return context.store.Remove(record.id);
}

Result<pid_t> Create(const GlobalOptions& global, const CreateOptions& options) {
  RuntimeContext context = MakeContext(global);
  auto created = CreateContainer(context, options, false);
  if (!created) {
    return Err(std::move(created).error());
  }
  return created->record.pid;
}

Status Start(const GlobalOptions& global, const std::string& id, const oci::Hooks* hooks) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(os::FileLock lock, context.store.Lock(id));
  ASSIGN_OR_RETURN(ContainerRecord record, LoadRecord(context, id));
  return StartContainer(context, record, hooks);
}

Result<oci::State> GetState(const GlobalOptions& global, const std::string& id) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(ContainerRecord record, LoadRecord(context, id));
  return MakeState(record, ComputeStatus(context, record));
}

Status Kill(const GlobalOptions& global, const KillOptions& options) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(ContainerRecord record, LoadRecord(context, options.id));
  std::string status = ComputeStatus(context, record);
  if (status == "stopped" || status == "creating") {
    return Err(Error(ESRCH, "container " + options.id + " is not running"));
  }
  if (options.all) {
    ASSIGN_OR_RETURN(auto cgroups, OpenCgroups(record));
    if (cgroups) {
      return cgroups->KillAll(options.signal);
    }
  }
  // Through a pidfd checked against the saved start time, so a recycled pid is never signalled.
  os::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, record.pid, 0)));
  if (!pidfd || ProcessStartTime(record.pid) != record.pid_start_time) {
    return Err(Error(ESRCH, "container " + options.id + " is not running"));
  }
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), options.signal, nullptr, 0) != 0) {
    return Err(Error::FromErrno("kill", std::to_string(record.pid)));
  }
  return Ok();
}

Status Delete(const GlobalOptions& global, const std::string& id, bool force,
              const oci::Hooks* hooks) {
  RuntimeContext context = MakeContext(global);
  RETURN_IF_ERROR(ContainerStore::ValidateId(id));
  auto lock = context.store.Lock(id);
  auto record = LoadRecord(context, id);
  if (!record) {
    if (force && record.error().code() == ENOENT) {
      // A create that died before its first save leaves a directory without state.
      return context.store.Remove(id);
    }
    return Err(std::move(record).error());
  }
  std::string status = ComputeStatus(context, *record);
  if ((status == "running" || status == "paused") && !force) {
    return Err(Error(EBUSY, "cannot delete container " + id + " that is " + status +
                                ": stop it first or use --force"));
  }
  if (status == "paused") {
    if (auto cgroups = OpenCgroups(*record); cgroups && *cgroups) {
      (void)(*cgroups)->Thaw();
    }
  }
  return DestroyContainer(context, *record, hooks);
}

Result<std::vector<std::string>> ContainerIds(const GlobalOptions& global) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(std::vector<std::string> ids, context.store.ListIds());
  // As List: a container whose state cannot be read (removed meanwhile, or torn) is left out.
  std::erase_if(ids, [&](const std::string& id) { return !context.store.Load(id); });
  return ids;
}

Result<std::vector<pid_t>> Pids(const GlobalOptions& global, const std::string& id) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(ContainerRecord record, LoadRecord(context, id));
  ASSIGN_OR_RETURN(auto cgroups, OpenCgroups(record));
  if (cgroups) {
    return cgroups->Pids();
  }
  if (ComputeStatus(context, record) == "stopped") {
    return std::vector<pid_t>{};
  }
  return std::vector<pid_t>{record.pid};
}

namespace {

Result<std::unique_ptr<cgroup::Manager>> RequireCgroups(const RuntimeContext& context,
                                                        const std::string& id,
                                                        std::string_view verb) {
  ASSIGN_OR_RETURN(ContainerRecord record, context.store.Load(id));
  std::string status = ComputeStatus(context, record);
  if (status == "stopped") {
    return Err(Error(ESRCH, fmt::format("cannot {} container {}: it is stopped", verb, id)));
  }
  ASSIGN_OR_RETURN(auto cgroups, OpenCgroups(record));
  if (!cgroups) {
    return Err(Error(ENOTSUP, fmt::format("cannot {} container {}: it runs without cgroups "
                                          "(not delegated to this user)",
                                          verb, id)));
  }
  return cgroups;
}

}  // namespace

Status Pause(const GlobalOptions& global, const std::string& id) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(auto cgroups, RequireCgroups(context, id, "pause"));
  return cgroups->Freeze();
}

Status Resume(const GlobalOptions& global, const std::string& id) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(auto cgroups, RequireCgroups(context, id, "resume"));
  return cgroups->Thaw();
}

Status Update(const GlobalOptions& global, const std::string& id, const oci::Resources& resources) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(auto cgroups, RequireCgroups(context, id, "update"));
  return cgroups->Apply(resources);
}

}  // namespace comet::runtime
