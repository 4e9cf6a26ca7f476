// A pod's life through the CLI: run -d, list (table and json), status (key=value, --wait,
// --wait-ready), stop, rm, prepare + run-prepared, --uuid-file-save/--uuid-file, UUID prefixes,
// cat-manifest and gc.
// Bodies that the Rootless* tests run too are PodChecks members (pod_checks.h).
#include <signal.h>

#include <regex>

#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {

void PodChecks::DetachedListStatusStopRm() {
  const std::string uuid_file = tmp() + "/uuid";
  const std::string uuid =
      RunDetached({"--uuid-file-save=" + uuid_file, kImage, "--", "/bin/sh", "-c", kSleeper});
  ASSERT_FALSE(uuid.empty());
  EXPECT_EQ(Trim(ReadFileOrEmpty(uuid_file)), uuid);

  auto status = Status(uuid);
  EXPECT_EQ(status["state"], "running");
  EXPECT_EQ(status["exited"], "false");
  EXPECT_TRUE(LooksLikeRfc3339(status["created"])) << status["created"];
  EXPECT_TRUE(LooksLikeRfc3339(status["started"])) << status["started"];
  const pid_t pid = static_cast<pid_t>(std::atoi(status["pid"].c_str()));
  ASSERT_GT(pid, 0) << "status has no pid";
  EXPECT_EQ(::kill(pid, 0), 0) << "the supervisor " << pid << " is not alive";
  EXPECT_EQ(Trim(ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/comm")), "comet-superviso")
      << "pid= names the supervisor (same pid as stage0 after exec)";
  EXPECT_EQ(Comet({"status", "--wait-ready=10s", uuid}).exit_code, 0);

  // list: table, --full, --no-legend, json.
  const std::string table = Ok({"list"});
  EXPECT_TRUE(Contains(table, "UUID")) << table;
  EXPECT_TRUE(Contains(table, uuid.substr(0, 8))) << table;
  EXPECT_FALSE(Contains(table, uuid)) << "the table shows 8 characters without --full";
  EXPECT_TRUE(Contains(table, "busybox")) << table;
  EXPECT_TRUE(Contains(table, "running")) << table;
  EXPECT_TRUE(Contains(Ok({"list", "--full"}), uuid));
  EXPECT_FALSE(Contains(Ok({"list", "--no-legend"}), "UUID"));
  for (const char* format : {"--format=json", "--format=json-pretty"}) {
    const std::string text = Ok({"list", format});
    auto json = nlohmann::json::parse(text, nullptr, false);
    ASSERT_TRUE(json.is_array()) << format << ": " << text;
    ASSERT_EQ(json.size(), 1U) << text;
    EXPECT_TRUE(Contains(json[0].dump(), uuid)) << text;
    EXPECT_TRUE(Contains(json[0].dump(), "\"running\"")) << text;
    EXPECT_TRUE(Contains(json[0].dump(), "busybox")) << text;
  }

  // cat-manifest by UUID, prefix and --uuid-file.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"cat-manifest", uuid},
        std::vector<std::string>{"cat-manifest", uuid.substr(0, 8)},
        std::vector<std::string>{"cat-manifest", "--uuid-file=" + uuid_file}}) {
    auto manifest = nlohmann::json::parse(Ok(args), nullptr, false);
    ASSERT_TRUE(manifest.is_object()) << args.back();
    EXPECT_EQ(manifest["uuid"], uuid);
    ASSERT_EQ(manifest["apps"].size(), 1U);
    EXPECT_EQ(manifest["apps"][0]["name"], "busybox");
    EXPECT_EQ(manifest["apps"][0]["exec"][0], "/bin/sh");
  }
  EXPECT_TRUE(Contains(Ok({"cat-manifest", "--pretty-print", uuid}), "\n  "));

  // rm refuses a running pod.
  ProcResult rm_running = Comet({"rm", uuid});
  EXPECT_EQ(rm_running.exit_code, 254) << rm_running.Describe();
  EXPECT_FALSE(PodPath(uuid).empty());

  const auto before_stop = std::chrono::steady_clock::now();
  ProcResult stop = Comet({"stop", uuid});
  EXPECT_EQ(stop.exit_code, 0) << stop.Describe();
  EXPECT_LT(std::chrono::steady_clock::now() - before_stop, 8s) << "the app ends on SIGTERM";
  // stop returns once the pod exited.
  status = Status(uuid);
  EXPECT_EQ(status["state"], "exited");
  EXPECT_EQ(status["exited"], "true");
  EXPECT_EQ(status["app-busybox"], "0");
  EXPECT_TRUE(WaitUntil([&] { return ::kill(pid, 0) != 0; }, 5s)) << "supervisor still alive";
  EXPECT_EQ(Comet({"status", "--wait=5s", uuid}).exit_code, 0);
  EXPECT_TRUE(Contains(Ok({"list"}), "exited"));

  ProcResult rm = Comet({"rm", "--uuid-file=" + uuid_file});
  EXPECT_EQ(rm.exit_code, 0) << rm.Describe();
  EXPECT_TRUE(PodDirs().empty());
  ProcResult gone = Comet({"status", uuid});
  EXPECT_EQ(gone.exit_code, 254) << gone.Describe();
  EXPECT_TRUE(Contains(gone.err, uuid.substr(0, 8))) << gone.err;
  ExpectNothingLeft("after rm");
}

void PodChecks::StopForceAndTimeout() {
  // sleep as pid 1 ignores SIGTERM: stop waits the grace period, --force does not.
  const std::string slow = RunDetached({"--stop-timeout=3", kImage, "--", "/bin/sleep", "3600"});
  const std::string fast = RunDetached({kImage, "--", "/bin/sleep", "3600"});
  ASSERT_FALSE(slow.empty());
  ASSERT_FALSE(fast.empty());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Comet({"stop", slow}).exit_code, 0);
  const auto graceful = std::chrono::steady_clock::now() - start;
  EXPECT_GE(graceful, 2500ms) << "SIGKILL came before --stop-timeout=3";
  EXPECT_LT(graceful, 15s);
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(Comet({"stop", "--force", fast}).exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s) << "--force waits no grace period";
  EXPECT_EQ(Status(fast)["state"], "exited");
  EXPECT_EQ(Status(slow)["state"], "exited");
  // Stopping an exited pod: rkt reports "not running" (254), podman succeeds; either way the
  // pod stays exited and an error names it.
  ProcResult again = Comet({"stop", fast});
  if (again.exit_code != 0) {
    EXPECT_EQ(again.exit_code, 254) << again.Describe();
    EXPECT_TRUE(Contains(again.err, fast.substr(0, 8))) << again.Describe();
  }
  EXPECT_EQ(Status(fast)["state"], "exited");
}

void PodChecks::PrepareThenRunPrepared() {
  ProcResult prepared =
      Comet({"prepare", "--quiet", kImage, "--", "/bin/sh", "-c", "echo ran-prepared"});
  ASSERT_EQ(prepared.exit_code, 0) << prepared.Describe();
  const std::string uuid = Trim(prepared.out);
  ASSERT_EQ(uuid.size(), 36U) << prepared.out;
  EXPECT_TRUE(Contains(PodPath(uuid), "/prepared/" + uuid)) << PodPath(uuid);
  EXPECT_EQ(Status(uuid)["state"], "prepared");
  EXPECT_TRUE(Contains(Ok({"list"}), "prepared"));

  ProcResult run = Comet({"run-prepared", uuid});
  EXPECT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_TRUE(Contains(run.out, "ran-prepared")) << run.Describe();
  EXPECT_TRUE(Contains(PodPath(uuid), "/run/" + uuid)) << PodPath(uuid);
  EXPECT_EQ(Status(uuid)["state"], "exited");
  // Only once.
  ProcResult again = Comet({"run-prepared", uuid});
  EXPECT_EQ(again.exit_code, 254) << again.Describe();

  // A second prepared pod, run detached; a third removed while prepared.
  const std::string second =
      Trim(Ok({"prepare", "--quiet", kImage, "--", "/bin/sh", "-c", kSleeper}));
  ProcResult detached = Comet({"run-prepared", "-d", second});
  EXPECT_EQ(detached.exit_code, 0) << detached.Describe();
  EXPECT_EQ(Status(second)["state"], "running");
  EXPECT_EQ(Comet({"stop", second}).exit_code, 0);
  const std::string third = Trim(Ok({"prepare", "--quiet", kImage, "--", "/bin/true"}));
  EXPECT_EQ(Comet({"rm", third}).exit_code, 0);
  EXPECT_TRUE(PodPath(third).empty());
}

namespace {

using Lifecycle = PodChecks;

TEST_F(Lifecycle, DetachedListStatusStopRm) {
  DetachedListStatusStopRm();
}

TEST_F(Lifecycle, StopForceAndTimeout) {
  StopForceAndTimeout();
}

TEST_F(Lifecycle, PrepareThenRunPrepared) {
  PrepareThenRunPrepared();
}

TEST_F(Lifecycle, StatusWaitReturnsWhenThePodExits) {
  const std::string uuid = RunDetached({kImage, "--", "/bin/sh", "-c", "sleep 1.5; exit 3"});
  ASSERT_FALSE(uuid.empty());
  const auto start = std::chrono::steady_clock::now();
  ProcResult wait = Comet({"status", "--wait=30s", uuid});
  EXPECT_EQ(wait.exit_code, 0) << wait.Describe();
  EXPECT_GT(std::chrono::steady_clock::now() - start, 500ms) << "returned before the exit";
  auto kv = ParseKv(wait.out);
  EXPECT_EQ(kv["state"], "exited") << wait.out;
  EXPECT_EQ(kv["app-busybox"], "3") << wait.out;
  auto json = nlohmann::json::parse(Ok({"status", "--format=json", uuid}), nullptr, false);
  EXPECT_TRUE(json.is_object()) << json;
}

TEST_F(Lifecycle, GcMarksThenSweeps) {
  ASSERT_EQ(Comet({"run", kImage, "--", "/bin/true"}).exit_code, 0);
  ASSERT_EQ(PodDirs().size(), 1U);
  const std::string dir = PodDirs()[0];
  const std::string uuid = dir.substr(dir.find('/') + 1);
  // Default grace period (30m): marked, kept.
  EXPECT_EQ(Comet({"gc", "--mark-only"}).exit_code, 0);
  EXPECT_TRUE(Contains(PodPath(uuid), "/exited-garbage/")) << PodPath(uuid);
  EXPECT_EQ(Comet({"gc"}).exit_code, 0);
  EXPECT_FALSE(PodPath(uuid).empty()) << "removed within the grace period";
  EXPECT_EQ(Comet({"gc", "--grace-period=0s"}).exit_code, 0);
  EXPECT_TRUE(PodPath(uuid).empty()) << PodPath(uuid);
  // Prepared pods expire.
  const std::string prepared = Trim(Ok({"prepare", "--quiet", kImage, "--", "/bin/true"}));
  EXPECT_EQ(Comet({"gc", "--grace-period=0s"}).exit_code, 0);
  EXPECT_FALSE(PodPath(prepared).empty()) << "prepared pods live 24h by default";
  EXPECT_EQ(Comet({"gc", "--grace-period=0s", "--expire-prepared=0s"}).exit_code, 0);
  EXPECT_EQ(Comet({"gc", "--grace-period=0s", "--expire-prepared=0s"}).exit_code, 0);
  EXPECT_TRUE(PodPath(prepared).empty()) << PodPath(prepared);
  // A running pod is never collected.
  const std::string running = RunDetached({kImage, "--", "/bin/sh", "-c", kSleeper});
  EXPECT_EQ(Comet({"gc", "--grace-period=0s"}).exit_code, 0);
  EXPECT_EQ(Status(running)["state"], "running");
}

}  // namespace
}  // namespace comet::e2e::pod
