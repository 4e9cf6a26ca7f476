// comet-node: the kubelet-style node agent (`comet node`, docs/node.md): runs the static pods of
// --pod-manifest-path as comet pods supervised by systemd units (or detached, without systemd)
// until SIGTERM/SIGINT, which leave the pods running; `get pods` and `describe pod` show them.
// The exception catch-all (base/run_main.h) wraps Main here: layers return errors.
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "base/run_main.h"
#include "node/agent.h"
#include "node/node_command_line.h"
#include "node/node_commands.h"
#include "os/file.h"
#include "os/unique_fd.h"
#include "pod/restart_backoff.h"

namespace {

constexpr const char* kProgram = "comet-node";
constexpr int kExitError = 254;  // rkt's exit status on error
// How long a stopping agent waits for pod operations in progress (a prepare pulling an image may
// take longer: it is left to finish on its own, and its pod is adopted at the next start).
constexpr auto kStopWait = std::chrono::seconds(10);

void Say(const std::string& line) {
  (void)comet::os::WriteAll(STDERR_FILENO, fmt::format("{}: {}\n", kProgram, line));
}

int Fail(const std::string& what) {
  Say(what);
  return kExitError;
}

std::string SelfPath() {
  std::vector<char> buffer(4096);
  const ssize_t n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  return n > 0 ? std::string(buffer.data(), static_cast<size_t>(n)) : "";
}

// systemd or direct supervision: auto means systemd when a bus was named or systemd runs here
// (sd_booted(3): /run/systemd/system exists).
bool UseSystemd(const comet::node::NodeFlags& flags) {
  switch (flags.supervision) {
    case comet::node::Supervision::kSystemd:
      return true;
    case comet::node::Supervision::kDirect:
      return false;
    case comet::node::Supervision::kAuto:
      return !flags.systemd_bus.empty() || comet::os::IsDirectory("/run/systemd/system");
  }
  return true;
}

int RunAgent(const comet::node::NodeFlags& flags) {
  auto rkt = comet::node::ResolveRktPath(flags.rkt_path, SelfPath());
  if (!rkt) {
    return Fail(rkt.error().ToString());
  }
  comet::node::AgentOptions options;
  options.manifest_dir = flags.pod_manifest_path;
  options.root_dir = flags.root_dir;
  options.api_endpoint = flags.api_endpoint;
  options.sync_frequency = flags.sync_frequency;
  options.backoff = comet::pod::BackoffPolicy::FromEnvironment();  // before threads
  options.supervision.systemd = UseSystemd(flags);
  options.supervision.systemd_bus = flags.systemd_bus;
  options.supervision.unit_dir = flags.unit_dir;
  options.supervision.root_dir = flags.root_dir;
  options.supervision.runner.program = *rkt;
  options.supervision.runner.data_dir = flags.data_dir;
  options.supervision.runner.net = flags.net;
  if (!options.supervision.systemd) {
    Say(flags.supervision == comet::node::Supervision::kDirect
            ? "--pod-supervision=direct: pods run as detached comet pods (run-prepared -d), "
              "without systemd units"
            : "no systemd on this machine (/run/systemd/system is missing): pods run as "
              "detached comet pods (run-prepared -d), without systemd units "
              "(--pod-supervision=direct)");
  }

  // Before any thread exists (gRPC's included): every thread inherits the mask, and the signals
  // wait for the loop's signalfd.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  comet::os::UniqueFd stop(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!stop) {
    return Fail(comet::Error::FromErrno("signalfd").ToString());
  }
  (void)std::signal(SIGPIPE, SIG_IGN);  // a probe's peer gone mid-write is a failed probe

  auto agent = comet::node::Agent::Create(std::move(options));
  if (!agent) {
    return Fail(agent.error().ToString());
  }
  comet::Status ran = (*agent)->Run(stop.get());
  if (!ran) {
    return Fail(ran.error().ToString());
  }
  Say("stopping; pods are left running");
  if (!(*agent)->WaitForOperations(kStopWait)) {
    Say("pod operations still in progress are left to finish on their own");
    std::_Exit(0);  // their threads may not be joined: the process ends around them
  }
  return 0;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  comet::node::NodeInvocation in;
  if (comet::Status parsed = comet::node::ParseNodeCommandLine(args, in); !parsed) {
    return Fail(parsed.error().ToString());
  }
  if (!in.output.empty()) {
    (void)comet::os::WriteAll(STDOUT_FILENO, in.output);
    return 0;
  }
  comet::log::Options log_options;
  log_options.program = kProgram;
  log_options.min_level = in.flags.debug ? comet::log::Level::kDebug
                          : in.command == comet::node::NodeInvocation::Command::kRun
                              ? comet::log::Level::kInfo
                              : comet::log::Level::kWarning;
  comet::log::Configure(log_options);
  comet::Result<int> result = 0;
  switch (in.command) {
    case comet::node::NodeInvocation::Command::kRun:
      return RunAgent(in.flags);
    case comet::node::NodeInvocation::Command::kGetPods:
      result = comet::node::RunGetPods(in);
      break;
    case comet::node::NodeInvocation::Command::kDescribePod:
      result = comet::node::RunDescribePod(in);
      break;
  }
  if (!result) {
    return Fail(result.error().ToString());
  }
  return *result;
}

}  // namespace

int main(int argc, char** argv) {
  return comet::RunMain(kProgram, Main, argc, argv);
}
