// Supervisor: pod setup, signals and reaping, readiness, the pod's end; see supervisor.h. The
// app lifecycle is in supervisor_apps.cc, the control operations in supervisor_control.cc.
#include "supervisor/supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "image/snapshot.h"
#include "network/port_mapping.h"
#include "os/file.h"
#include "pod/pod_networks.h"
#include "pod/spare_pod_dir.h"
#include "pod/teardown.h"
#include "pod/volatile_dir.h"
#include "supervisor/pod_net.h"
#include "supervisor/pod_setup.h"

namespace comet::supervisor {
namespace {

std::string Now() {
  return FormatRfc3339Nano(std::chrono::system_clock::now());
}

// The pod's pause process (share_pid): pid 1 of the pod's pid namespace, reaping the orphans
// that land there until the supervisor kills it or dies. Runs right after clone(2) in a copy of
// this single-threaded process: only async-signal-safe calls. `alive` is the read end of a pipe
// whose write end only the supervisor holds: its end of file is the supervisor's death, with no
// race against a death before this process could arm PR_SET_PDEATHSIG.
[[noreturn]] void PauseMain(int alive) {
  ::prctl(PR_SET_NAME, "comet-pause");
  // The pod lock above all must not stay held by us; only the pipe's read end stays.
  if (alive > 3) {
    ::syscall(SYS_close_range, 3U, static_cast<unsigned int>(alive) - 1, 0U);
  }
  ::syscall(SYS_close_range, static_cast<unsigned int>(alive) + 1, ~0U, 0U);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const int signal_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) {
    ::_exit(1);
  }
  struct pollfd fds[2] = {{alive, POLLIN, 0}, {signal_fd, POLLIN, 0}};
  while (true) {
    if (::poll(fds, 2, -1) < 0) {
      continue;  // EINTR
    }
    if (fds[0].revents != 0) {
      ::_exit(0);  // end of file (or an error): the supervisor is gone
    }
    signalfd_siginfo info{};
    while (::read(signal_fd, &info, sizeof(info)) > 0) {
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
}

}  // namespace

void CrashAt(const char* step) {
  const char* wanted = std::getenv("COMET_TEST_CRASH_AT");  // NOLINT(concurrency-mt-unsafe)
  if (wanted != nullptr && std::strcmp(wanted, step) == 0) {
    ::kill(::getpid(), SIGKILL);
  }
}

Supervisor::Supervisor(EventLoop& loop, AppIo& io, SupervisorOptions options)
    : loop_(loop),
      io_(io),
      options_(std::move(options)),
      backoff_policy_(pod::BackoffPolicy::FromEnvironment()) {
  runtime_.root = pod::RuntimeRoot(options_.pod_dir);
  // Beside the pods' volatile root (/run/comet/seccomp as root): per boot, this user's only.
  const std::string volatile_root = pod::VolatileRoot();
  const std::string per_boot = volatile_root.substr(0, volatile_root.rfind('/'));
  runtime_.seccomp_cache_dir = os::JoinPath(per_boot, "seccomp");
  // In the data directory, beside the image layers: on their filesystem (SnapshotOptions).
  etc_stubs_dir_ = os::JoinPath(options_.data_dir, "stubs");
}

Supervisor::~Supervisor() {
  if (signal_fd_) {
    loop_.Remove(signal_fd_.get());
  }
}

std::chrono::milliseconds Supervisor::DefaultGrace() const {
  return std::chrono::seconds(manifest_.stop_grace_seconds);
}

void Supervisor::WriteSupervisorStatus() {
  if (auto st = pod::WriteSupervisorStatus(options_.pod_dir, status_); !st) {
    log::Warning("writing supervisor status: {}", st.error().ToString());
  }
}

// The one line on the ready fd; stage0 stops relaying the startup log when it reads it, so
// what the pod logs from then on goes to /dev/null (a detached pod has no terminal).
void Supervisor::SayReady(std::string_view line) {
  if (options_.ready_fd < 0) {
    return;
  }
  (void)os::WriteAll(options_.ready_fd, line);
  ::close(options_.ready_fd);
  options_.ready_fd = -1;
  if (options_.startup_log_fd >= 0) {
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
      (void)::dup3(null, options_.startup_log_fd, O_CLOEXEC);
      ::close(null);
    }
    options_.startup_log_fd = -1;
  }
}

Status Supervisor::Start() {
  status_.pid = ::getpid();
  status_.started = Now();
  auto st = SetUp();
  if (!st) {
    failed_ = true;
    FailStart(st.error(), std::nullopt);
    return st;
  }
  return Ok();
}

Status Supervisor::SetUp() {
  // Statuses, the pid and the runtime's state go to tmpfs from here on (volatile_dir.h).
  RETURN_IF_ERROR_CTX(pod::EnsureVolatileDir(options_.pod_dir), "the pod's volatile directory");
  RETURN_IF_ERROR(os::ReplaceFile(os::JoinPath(options_.pod_dir, pod::kPidFile),
                                  std::to_string(status_.pid) + "\n", 0644));
  WriteSupervisorStatus();
  RETURN_IF_ERROR(WatchSignals());
  ASSIGN_OR_RETURN(manifest_, pod::ReadManifest(options_.pod_dir));
  runtime_.rootless = manifest_.rootless;
  os::UniqueFd pod_netns;
  if (manifest_.net == pod::NetMode::kNetworks && manifest_.rootless) {
    ASSIGN_OR_RETURN(pod_netns, SetUpRootlessNetwork());
    CrashAt("networks");
  } else if (manifest_.net == pod::NetMode::kNetworks) {
    ASSIGN_OR_RETURN(std::vector<network::NetworkAttachment> plan, PrepareNetworks());
    ASSIGN_OR_RETURN(AttachedNetworks attached,
                     AttachPodNetworks(options_.pod_dir, manifest_.uuid, std::move(plan)));
    networks_ = std::move(attached.records);
    pod_netns = std::move(attached.netns);
    CrashAt("networks");
  }
  RETURN_IF_ERROR_CTX(SetUpPodNamespaces(manifest_, pod_netns.get()), "pod namespaces");
  CrashAt("namespaces");
  ASSIGN_OR_RETURN(resolv_conf_,
                   WritePodEtcFiles(options_.pod_dir, manifest_, pod::NetworkAddresses(networks_)));
  if (rootless_net_ && manifest_.dns.empty() && manifest_.dns_search.empty() &&
      manifest_.dns_opt.empty()) {
    // The helper's DNS (slirp4netns's 10.0.2.3) before the host's reachable nameservers.
    auto host = os::ReadFileLimited("/etc/resolv.conf", 1 << 20);
    RETURN_IF_ERROR(os::ReplaceFile(
        PodEtcFile(options_.pod_dir, "resolv.conf"),
        RootlessResolvConf(rootless_net_->kind(), host ? *host : std::string()), 0644));
    resolv_conf_ = true;
  }
  RETURN_IF_ERROR_CTX(SetUpVolumes(options_.pod_dir, manifest_), "pod volumes");
  if (manifest_.share_pid) {
    RETURN_IF_ERROR(StartPauseProcess());
  }
  for (const pod::App& app : manifest_.apps) {
    auto record = std::make_unique<AppRecord>();
    record->app = app;
    record->backoff = pod::Backoff(backoff_policy_);
    record->status.name = app.name;
    record->status.created = Now();
    apps_.push_back(std::move(record));
  }
  for (auto& record : apps_) {
    RETURN_IF_ERROR_CTX(PrepareApp(*record), "app " + record->app.name);
  }
  CrashAt("snapshot");
  // The pod is up (namespaces, volumes, snapshots); its apps start next.
  RecordEvent(pod::EventType::kPodStarted);
  phase_ = Phase::kInitContainers;
  ContinueStart();
  return Ok();
}

// Before the pod's network namespace exists: stage0's plan, the published host ports still free
// (a `prepare`d pod may run long after its plan was made), and handles on the host's network
// and mount namespaces, where the networks are detached at the end.
Result<std::vector<network::NetworkAttachment>> Supervisor::PrepareNetworks() {
  ASSIGN_OR_RETURN(std::vector<network::NetworkAttachment> plan,
                   pod::ReadNetworkPlan(options_.pod_dir));
  if (plan.empty()) {
    return Err(Error::Invalid("the pod has contained networks but no network plan"));
  }
  // Held while the pod runs (as podman's conmon does): portmap's DNAT rules hold no socket, so
  // without these another pod or program could take a published port unnoticed.
  for (const network::NetworkAttachment& record : plan) {
    ASSIGN_OR_RETURN(std::vector<os::UniqueFd> sockets,
                     network::ReserveHostPorts(record.invocation.port_mappings));
    for (os::UniqueFd& socket : sockets) {
      reserved_ports_.push_back(std::move(socket));
    }
  }
  ASSIGN_OR_RETURN(host_namespaces_, OpenHostNamespaces());
  return plan;
}

// A rootless pod's network (rootless_net.h): the helper is forked while this process is still
// in the user's network namespace, which it cannot re-enter once it left; then the pod's
// namespace is made here (owned by our user namespace) and the helper starts on it. Returns the
// namespace, which SetUpPodNamespaces joins (this process is in it already).
Result<os::UniqueFd> Supervisor::SetUpRootlessNetwork() {
  ASSIGN_OR_RETURN(rootless_net_, RootlessNet::Prepare(manifest_, options_.pod_dir));
  if (::unshare(CLONE_NEWNET) != 0) {
    return Err(Error::FromErrno("unshare", "the pod's network namespace"));
  }
  RETURN_IF_ERROR_CTX(BringLoopbackUp(), "pod network namespace");
  os::UniqueFd netns(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!netns) {
    return Err(Error::FromErrno("open", "/proc/self/ns/net"));
  }
  ASSIGN_OR_RETURN(network::NetworkAttachment record, rootless_net_->Start());
  networks_ = {std::move(record)};
  RETURN_IF_ERROR_CTX(pod::WriteNetworkRecords(options_.pod_dir, networks_),
                      "recording the pod's network");
  return netns;
}

Status Supervisor::WatchSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) {
    sigaddset(&set, signal);
  }
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    return Err(Error::FromErrno("sigprocmask", ""));
  }
  signal_fd_.Reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_) {
    return Err(Error::FromErrno("signalfd", ""));
  }
  return loop_.Add(signal_fd_.get(), EPOLLIN, [this](uint32_t) { OnSignals(); });
}

void Supervisor::OnSignals() {
  signalfd_siginfo info{};
  bool child = false;
  bool stop = false;
  while (::read(signal_fd_.get(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
    if (info.ssi_signo == SIGCHLD) {
      child = true;
    } else {
      log::Debug("signal {}: stopping the pod", info.ssi_signo);
      stop = true;
    }
  }
  // Reap first: an app that just exited must not be signalled as if it ran.
  if (child) {
    Reap();
  }
  if (stop) {
    // A second SIGINT/SIGTERM while stopping (a second ^C) kills what is left at once.
    StopPod(std::chrono::milliseconds(phase_ == Phase::kStopping ? 0 : -1));
  }
}

void Supervisor::Reap() {
  while (true) {
    int wait_status = 0;
    pid_t pid = ::waitpid(-1, &wait_status, WNOHANG);
    if (pid <= 0) {
      return;
    }
    bool signaled = WIFSIGNALED(wait_status);
    int code = signaled ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
    if (rootless_net_ && pid == rootless_net_->pid()) {
      rootless_net_->Exited(wait_status);
      continue;
    }
    if (pid == pause_pid_) {
      log::Warning("the pod's pause process exited ({})", code);
      pause_pid_ = 0;
      continue;
    }
    if (auto exec = execs_.find(pid); exec != execs_.end()) {
      std::function<void(int)> on_exit = std::move(exec->second);
      execs_.erase(exec);
      if (on_exit) {
        on_exit(code);
      }
      continue;
    }
    for (auto& record : apps_) {
      if (record->pid == pid) {
        OnAppExit(*record, code, signaled);
        break;
      }
    }
    // Anything else is an orphan that a container left to us, the subreaper: reaped, forgotten.
  }
}

Status Supervisor::StartPauseProcess() {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Err(Error::FromErrno("pipe2", "pause process"));
  }
  os::UniqueFd read_end(pipe_fds[0]);
  os::UniqueFd write_end(pipe_fds[1]);
  long pid = ::syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    return Err(Error::FromErrno("clone", "pod pid namespace"));
  }
  if (pid == 0) {
    PauseMain(read_end.get());
  }
  pause_pid_ = static_cast<pid_t>(pid);
  pause_pipe_ = std::move(write_end);  // close-on-exec: no app or exec'd process inherits it
  return Ok();
}

void Supervisor::MarkReady() {
  if (status_.ready) {
    return;
  }
  CrashAt("started");
  status_.ready = true;
  WriteSupervisorStatus();
  std::string link = os::JoinPath(options_.pod_dir, pod::kReadyLink);
  (void)::unlink(link.c_str());
  if (::symlink("ready", link.c_str()) != 0) {
    log::Warning("{}", Error::FromErrno("symlink", link).ToString());
  }
  SayReady("ok\n");
}

void Supervisor::FailStart(const Error& error, std::optional<int> exit_code) {
  // A detached run's caller prints the ready line's error; logging it too would show it twice.
  if (options_.startup_log_fd < 0 || options_.ready_fd < 0) {
    log::Error("{}", error.ToString());
  }
  if (exit_code) {
    init_failure_code_ = exit_code;
  } else {
    failed_ = true;
  }
  if (failed_ && !status_.ready) {
    // The pod never ran: Finish removes it, and only then answers on the ready fd.
    start_error_ = "error: " + error.ToString() + "\n";
  } else if (options_.ready_fd >= 0) {
    SayReady("error: " + error.ToString() + "\n");
  }
  if (phase_ == Phase::kSetup) {
    CleanUpAfterFailure();
    return;
  }
  StopPod(std::chrono::milliseconds(-1));
}

// Setup failed before the event loop ran: nothing can be waited for asynchronously, so apps are
// killed and reaped here and what was made (containers, snapshots) goes.
void Supervisor::CleanUpAfterFailure() {
  for (auto& record : apps_) {
    if (record->pid > 0) {
      ::kill(record->pid, SIGKILL);
      (void)::waitpid(record->pid, nullptr, 0);
      record->pid = 0;
    }
    DeleteContainer(*record);
    if (record->prepared) {
      if (auto st = image::RemoveSnapshot(pod::AppSnapshotDir(options_.pod_dir, record->app.name));
          !st) {
        log::Warning("removing the snapshot of {}: {}", record->app.name, st.error().ToString());
      }
      record->prepared = false;
    }
  }
  phase_ = Phase::kDone;
  loop_.Stop();
}

void Supervisor::KillApps(int signal) {
  for (auto it = apps_.rbegin(); it != apps_.rend(); ++it) {
    if ((*it)->pid > 0) {
      ::kill((*it)->pid, signal);
    }
  }
}

void Supervisor::StopPod(std::chrono::milliseconds grace) {
  if (grace.count() < 0) {
    grace = DefaultGrace();
  }
  if (phase_ == Phase::kDone || phase_ == Phase::kSetup) {
    return;
  }
  // A stop before the pod was ready is a failed start, unless it is one already (FailStart
  // stops the pod, and its error, not this one, is what the caller must see).
  if (options_.ready_fd >= 0 && start_error_.empty()) {
    FailStart(Error(ECANCELED, "the pod was stopped before all its apps started"), 0);
    return;
  }
  bool first = phase_ != Phase::kStopping;
  phase_ = Phase::kStopping;
  for (auto& record : apps_) {
    CancelPendingRestart(*record);
  }
  if (first) {
    KillApps(SIGTERM);  // reverse manifest order
  }
  // A second stop (a `comet stop --force` after a plain one) may only bring the SIGKILL nearer.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  if (stop_timer_ == 0 || deadline < stop_deadline_) {
    if (stop_timer_ != 0) {
      loop_.CancelTimer(stop_timer_);
    }
    stop_deadline_ = deadline;
    stop_timer_ = loop_.AddTimer(grace, [this] {
      stop_timer_ = 0;
      KillApps(SIGKILL);
    });
  }
  MaybeEnd();
}

void Supervisor::MaybeEnd() {
  if (phase_ == Phase::kDone) {
    return;
  }
  if (manifest_.mutable_pod && phase_ != Phase::kStopping) {
    return;
  }
  if (phase_ == Phase::kInitContainers) {
    return;  // ContinueStart decides
  }
  for (const auto& record : apps_) {
    if (record->pid > 0 || record->restart_timer != 0) {
      return;
    }
  }
  phase_ = Phase::kDone;
  if (stop_timer_ != 0) {
    loop_.CancelTimer(stop_timer_);
    stop_timer_ = 0;
  }
  loop_.Stop();
}

// The apps' containers are deleted: their parent, the pod's cgroup, is empty in every hierarchy
// now; rmdir(2) refuses a cgroup that is not. Teardown removes it too (after a crash).
void Supervisor::RemoveEmptyPodCgroups() const {
  std::string relative = pod::PodCgroupPath(manifest_.uuid);
  if (manifest_.uuid.empty() || !pod::IsValidUuid(manifest_.uuid)) {
    return;
  }
  DIR* root = ::opendir("/sys/fs/cgroup");
  if (root == nullptr) {
    return;
  }
  (void)::rmdir(("/sys/fs/cgroup" + relative).c_str());  // cgroup v2
  while (const dirent* entry = ::readdir(root)) {        // NOLINT(concurrency-mt-unsafe)
    if (entry->d_name[0] != '.') {
      (void)::rmdir(("/sys/fs/cgroup/" + std::string(entry->d_name) + relative).c_str());
    }
  }
  ::closedir(root);
}

// The pod's networks at its end (its apps are gone): the rootless helper stops, taking its
// published ports along; contained networks are detached. Returns false when those could not be:
// their records stay in the volatile directory, and the pod stays for gc.
bool Supervisor::EndNetworks() {
  if (rootless_net_) {
    rootless_net_->Stop();
    rootless_net_.reset();
    networks_.clear();
    (void)::unlink(os::JoinPath(options_.pod_dir, pod::kNetworkRecordsFile).c_str());
  }
  if (!host_namespaces_.net) {
    return true;
  }
  Status detached = DetachPodNetworks(options_.pod_dir, manifest_.uuid, host_namespaces_);
  networks_.clear();
  reserved_ports_.clear();
  if (!detached) {
    log::Warning("{} (the pod stays for `comet gc`)", detached.error().ToString());
    return false;
  }
  return true;
}

// `run --rm`, or a pod that failed to start: its snapshots become spares when it ran, then it
// is torn down and removed.
void Supervisor::RemovePod() {
  // The lock stays ours through the removal (it is an fd on the directory), so no other
  // command can take the pod while it goes.
  // Out of the pod directory it removes (nothing to do if even "/" is refused).
  if (::chdir("/") != 0) {
    log::Debug("{}", Error::FromErrno("chdir", "/").ToString());
  }
  if (!failed_) {
    RecycleSnapshots();
  }
  pod::TeardownOptions teardown;
  teardown.image_store_dir = os::JoinPath(options_.data_dir, "images");
  teardown.rootless = manifest_.rootless;
  if (auto st = pod::TeardownPod(options_.pod_dir, manifest_.uuid, teardown); !st) {
    log::Warning("tearing the pod down: {}", st.error().ToString());
  } else if (auto removed = RemovePodDir(); !removed) {
    log::Warning("removing {}: {}", options_.pod_dir, removed.error().ToString());
  } else {
    RecordEvent(pod::EventType::kPodGarbageCollected);
  }
}

// A rootful pod's directory is left as a spare for the next pod (pod/spare_pod_dir.h); a
// rootless one is removed, as its snapshots are.
Status Supervisor::RemovePodDir() const {
  if (manifest_.rootless) {
    return os::RemoveAll(options_.pod_dir);
  }
  return pod::RecyclePodDir(os::JoinPath(options_.data_dir, "pods"), options_.pod_dir,
                            manifest_.uuid);
}

int Supervisor::Finish() {
  io_.Shutdown();
  for (auto& record : apps_) {
    if (record->pid > 0) {  // the loop failed: nothing must outlive the supervisor
      ::kill(record->pid, SIGKILL);
      (void)::waitpid(record->pid, nullptr, 0);
      record->pid = 0;
    }
    DeleteContainer(*record);
    if (failed_ && record->prepared) {  // the pod never started: what was made goes
      (void)image::RemoveSnapshot(pod::AppSnapshotDir(options_.pod_dir, record->app.name));
      record->prepared = false;
    }
  }
  if (pause_pid_ > 0) {
    ::kill(pause_pid_, SIGKILL);
    (void)::waitpid(pause_pid_, nullptr, 0);
    pause_pid_ = 0;
  }
  RemoveEmptyPodCgroups();
  const bool networks_left = !EndNetworks();
  int exit_code = 0;
  if (failed_) {
    exit_code = kSupervisorFailure;
  } else if (init_failure_code_) {
    exit_code = *init_failure_code_;
  } else {
    for (const auto& record : apps_) {
      if (!record->app.init && record->status.exit_code > 0) {
        exit_code = record->status.exit_code;
        break;
      }
    }
  }
  status_.finished = Now();
  status_.exit_code = exit_code;
  WriteSupervisorStatus();
  RecordEvent(pod::EventType::kPodExited, {{"exit-code", std::to_string(exit_code)}});
  // A pod that failed to start (bad input: an unknown user, a missing layer...) leaves nothing
  // behind: no directory, no image lease. The ready fd learns of the failure afterwards.
  if ((options_.remove || (failed_ && !status_.ready)) && !networks_left) {
    RemovePod();
  } else if (auto kept = pod::PersistVolatileDir(options_.pod_dir); !kept) {
    // The statuses stay readable on tmpfs until a reboot; gc removes them with the pod.
    log::Warning("keeping the pod's final status on disk: {}", kept.error().ToString());
  }
  if (options_.ready_fd >= 0) {
    SayReady(start_error_.empty() ? "error: the pod ended before it was ready\n" : start_error_);
  }
  return exit_code;
}

}  // namespace comet::supervisor
