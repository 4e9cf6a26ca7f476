// PodTest: the fixture of the pod end-to-end tests. Each test gets a fresh data dir
// (`comet --dir=<tmp>/data`) with a busybox image imported from a rootfs tarball, runs the real
// `comet` binary (and, through it, comet-supervisor), and ends by stopping and collecting every
// pod it made, then fails if anything is left: a pod directory, a mount under its temp dir, a
// /comet/pod-* cgroup that appeared during the test, or a process carrying the test's marker.
// Not thread-safe: one test at a time per process.
#ifndef COMET_TESTS_E2E_POD_POD_FIXTURE_H_
#define COMET_TESTS_E2E_POD_POD_FIXTURE_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/subprocess.h"
#include "os/temp_dir.h"

namespace comet::e2e::pod {

using namespace std::chrono_literals;

// The comet binary under test: $COMET, else the one built beside this test.
const std::string& CometBinary();
// comet-supervisor as comet will find it ($COMET_SUPERVISOR, else beside comet).
std::string SupervisorBinary();
// A busybox-static root filesystem (bin/ with every applet, etc/passwd, tmp, ...), built once
// per process: the directory and a tarball of it.
const std::string& BusyboxTree();
const std::string& BusyboxTarball();

// `key=value` lines (comet status).
std::map<std::string, std::string> ParseKv(const std::string& text);
// An RFC 3339 time with optional fraction ("2026-11-29T12:00:00.123456789Z") as nanoseconds
// since the epoch; -1 when it does not parse.
int64_t ParseRfc3339Nanos(const std::string& text);
bool LooksLikeRfc3339(const std::string& text);
std::string Trim(const std::string& text);
std::vector<std::string> Lines(const std::string& text);
bool Contains(const std::string& haystack, const std::string& needle);

// A process started in the background (own process group), stdout+stderr to a file.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const std::string& output_path);
  ~Background();  // SIGKILLs the group when still running
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  Background(Background&&) = delete;
  Background& operator=(Background&&) = delete;
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] std::string Output() const;
  // Exit code (or -signal) once exited within `timeout`; nullopt-like INT32_MIN when still running.
  int Wait(std::chrono::milliseconds timeout);
  [[nodiscard]] bool Running();

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string output_path_;
};
inline constexpr int kStillRunning = -100000;

// A process on a pseudo-terminal (forkpty): the test drives the master side.
class PtyProcess {
 public:
  PtyProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env);
  ~PtyProcess();
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;
  PtyProcess(PtyProcess&&) = delete;
  PtyProcess& operator=(PtyProcess&&) = delete;
  [[nodiscard]] bool started() const { return pid_ > 0; }
  void Write(const std::string& data) const;
  // Reads until `needle` appears in everything read so far or `timeout` passes.
  bool ReadUntil(const std::string& needle, std::chrono::milliseconds timeout);
  [[nodiscard]] const std::string& transcript() const { return transcript_; }
  int Wait(std::chrono::milliseconds timeout);  // as Background::Wait

 private:
  pid_t pid_ = -1;
  int master_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string transcript_;
};

class PodTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // comet --dir=<data> args... with the test's marker in the environment; `run` and `prepare`
  // also get --set-env=COMET_E2E_MARK=<marker> so that apps carry it too.
  ProcResult Comet(std::vector<std::string> args, ProcOptions options = {});
  ProcResult CometWith(const std::string& binary, std::vector<std::string> args,
                       ProcOptions options = {});
  // Expects exit 0; returns stdout.
  std::string Ok(const std::vector<std::string>& args, ProcOptions options = {});
  // `run -d ARGS...`: expects exit 0 and a UUID on stdout; returns it ("" on failure).
  std::string RunDetached(const std::vector<std::string>& args, ProcOptions options = {});
  // `status UUID` parsed.
  std::map<std::string, std::string> Status(const std::string& uuid);
  // `<pods>/<phase>/<uuid>` of the pod wherever it is; "" when none.
  std::string PodPath(const std::string& uuid) const;
  // Every `<phase>/<uuid>` under <data>/pods.
  std::vector<std::string> PodDirs() const;
  // <pod>/state/apps/<app>/status.json parsed (null when missing).
  nlohmann::json AppStatus(const std::string& uuid, const std::string& app) const;
  // The pod's log file of `app`.
  std::string LogFile(const std::string& uuid, const std::string& app) const;

  static bool WaitUntil(const std::function<bool()>& condition,
                        std::chrono::milliseconds timeout = 20s);

  // Processes (not this one) whose environment holds this test's marker.
  std::vector<pid_t> MarkedProcesses() const;
  // Mount points below this test's temp dir in /proc/self/mountinfo.
  static std::vector<std::string> MountsUnder(const std::string& prefix);
  // Where comet keeps pods' volatile directories for this user (src/pod/volatile_dir.h):
  // /run/comet/pods as root, $XDG_RUNTIME_DIR/comet/pods or /tmp/comet-<uid>/pods rootless.
  static std::string VolatileRoot();
  // The names (pod uuids) in VolatileRoot().
  static std::set<std::string> VolatileDirs();
  // Every "<hierarchy>/.../comet/pod-<uuid>" cgroup dir on this machine.
  static std::set<std::string> PodCgroups();
  // The uuids of the pods made in this test's data dir (its event log and pod dirs): what the
  // leak checks look at, so that pods of tests running at the same time (ctest -j) do not count.
  std::set<std::string> OwnPodUuids() const;
  static bool IsOwnPodCgroup(const std::string& cgroup, const std::set<std::string>& uuids);
  // The cgroup dir of `relative` ("/comet/pod-<uuid>/<app>") in the v1 `controller` hierarchy,
  // searched below the hierarchy's root (comet nests it under its own group); "" when none.
  static std::string FindCgroupDir(const std::string& controller, const std::string& relative);

  // Stops every running pod (--force), collects (gc --grace-period=0s twice) and checks that
  // nothing is left (see the file comment), naming `context` in failures.
  void CleanUpAndExpectNothingLeft(const std::string& context);
  // Only the checks.
  void ExpectNothingLeft(const std::string& context);

  // A fresh host directory under the temp dir.
  std::string HostDir(const std::string& name);
  // --volume/--mount flags mounting host dir `source` at `target` (volume "v") in every app.
  static std::vector<std::string> HostVolume(const std::string& source,
                                             const std::string& target = "/v");
  // One app: the image named `name`, its `flags`, running `/bin/sh -c script`.
  static std::vector<std::string> ShellApp(const std::string& name, const std::string& script,
                                           const std::vector<std::string>& flags = {});
  // The parts one after the other (pod flags, apps and their "---" separators).
  static std::vector<std::string> Concat(std::vector<std::vector<std::string>> parts);

  const std::string& tmp() const { return tmp_->path(); }
  const std::string& data() const { return data_; }
  const std::string& marker() const { return marker_; }
  // The image every test can run: "local/busybox:1" (app name "busybox").
  static constexpr const char* kImage = "local/busybox:1";
  static constexpr const char* kApp = "busybox";
  // A long-running app script that ends promptly on SIGTERM (as pid 1 of its pid namespace, a
  // process without a handler would ignore it).
  static constexpr const char* kSleeper = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

  std::set<std::string> cgroups_before_;
  std::set<std::string> volatile_before_;

 private:
  std::unique_ptr<os::TempDir> tmp_;
  std::string data_;
  std::string marker_;
};

// True when cgroup v1 controllers are mounted (the hybrid layout of this machine).
bool HaveCgroupV1(const std::string& controller);

}  // namespace comet::e2e::pod

#endif  // COMET_TESTS_E2E_POD_POD_FIXTURE_H_
