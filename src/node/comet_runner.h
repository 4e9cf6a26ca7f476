// CometRunner: the comet commands the node agent runs, as the kubelet ran `rkt` (its
// --rkt-path): `play --prepare` of one Kubernetes pod, the `run-prepared` command line of a pod's
// unit, `exec` for probes and hooks, `run-prepared -d` and `stop` without systemd, and `rm`.
// Every command gets --dir when the agent was given one, a timeout, and its stderr quoted in
// errors. Thread-safe (no shared state; each call is its own process).
#ifndef COMET_NODE_COMET_RUNNER_H_
#define COMET_NODE_COMET_RUNNER_H_

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "os/subprocess.h"

namespace comet::node {

struct CometRunnerOptions {
  std::string program;   // the comet binary (absolute)
  std::string data_dir;  // --dir; empty: comet's default
  std::string net;       // play --net; empty: comet's default
  // A prepare pulls missing images: it may take long, but not forever.
  std::chrono::milliseconds prepare_timeout{std::chrono::minutes(10)};
  std::chrono::milliseconds command_timeout{std::chrono::minutes(2)};
};

// One Kubernetes pod to prepare: `file` holds its YAML (with the ConfigMaps and Secrets it
// uses), `annotations` are added to the comet pod.
struct PrepareRequest {
  std::string file;
  std::string namespace_name;
  std::string name;
  std::map<std::string, std::string> annotations;
};

class CometRunner {
 public:
  explicit CometRunner(CometRunnerOptions options) : options_(std::move(options)) {}

  // `comet play --prepare -q --only NS/NAME --annotation K=V... [--net=...] FILE`: the prepared
  // pod's UUID. Warnings play printed are appended to *warnings (may be null).
  [[nodiscard]] Result<std::string> Prepare(const PrepareRequest& request,
                                            std::vector<std::string>* warnings) const;
  // ExecStart= of a pod's unit: `<comet> [--dir=D] run-prepared <uuid>` (comet stays in the
  // foreground: it becomes the pod's supervisor, the unit's main process).
  [[nodiscard]] std::vector<std::string> RunPreparedArgv(const std::string& uuid) const;
  // `run-prepared -d <uuid>`: the pod runs detached (--pod-supervision=direct).
  [[nodiscard]] Status RunPreparedDetached(const std::string& uuid) const;
  // `stop --timeout=<grace> <uuid>` (direct supervision); a pod that is not running is fine.
  [[nodiscard]] Status Stop(const std::string& uuid, std::chrono::seconds grace) const;
  // `rm <uuid>`; a pod that no longer exists is fine.
  [[nodiscard]] Status Remove(const std::string& uuid) const;
  // `exec --app=APP <uuid> -- COMMAND...`, killed after `timeout`: what it did (its exit code is
  // the command's). An Error only when comet could not be started.
  [[nodiscard]] Result<os::SubprocessResult> Exec(const std::string& uuid, const std::string& app,
                                                  const std::vector<std::string>& command,
                                                  std::chrono::milliseconds timeout) const;

  [[nodiscard]] const CometRunnerOptions& options() const { return options_; }

 private:
  [[nodiscard]] std::vector<std::string> Argv(std::vector<std::string> tail) const;
  [[nodiscard]] Result<os::SubprocessResult> Run(std::vector<std::string> tail,
                                                 std::chrono::milliseconds timeout) const;

  CometRunnerOptions options_;
};

// "comet play: pod x: ..." from a failed command: its last stderr line (comet prints its error
// last), else how it ended.
[[nodiscard]] std::string CommandFailure(const os::SubprocessResult& result);

}  // namespace comet::node

#endif  // COMET_NODE_COMET_RUNNER_H_
