// Pods of several apps: shared loopback, IPC and UTS namespaces; init containers; restart
// policies with back-off read from the recorded attempts; one failing app not stopping others.
// Bodies that the Rootless* tests run too are PodChecks members (pod_checks.h).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {
namespace {

std::string NsOfSelf(const std::string& kind) {
  char buf[128] = {};
  const ssize_t n = ::readlink(("/proc/self/ns/" + kind).c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

void PodChecks::AppsShareLoopbackIpcAndHostname() {
  const std::string v = HostDir("shared");
  const std::string server_script =
      "for ns in ipc net uts; do readlink /proc/self/ns/$ns > /shared/server-$ns; done; "
      // busybox nc -l may quit at its stdin's EOF (/dev/null) before it read the
      // connection: listen again until something arrived.
      "hostname > /shared/server-host; "
      "until [ -s /shared/received ]; do nc -l -p 7777 > /shared/received; done; "
      "echo done > /shared/server-done; sleep 3600";
  const std::string client_script =
      "for ns in ipc net uts; do readlink /proc/self/ns/$ns > /shared/client-$ns; done; "
      "hostname > /shared/client-host; i=0; "
      "until [ -e /shared/server-done ]; do echo hello-over-loopback | nc 127.0.0.1 7777; "
      "i=$((i+1)); [ $i -gt 100 ] && exit 9; sleep 0.1; done; sleep 3600";
  const std::string uuid = RunDetached(Concat({{"--net=none", "--hostname=podhost"},
                                               HostVolume(v, "/shared"),
                                               ShellApp("server", server_script),
                                               {"---"},
                                               ShellApp("client", client_script)}));
  ASSERT_FALSE(uuid.empty());
  EXPECT_TRUE(WaitUntil([&] { return !ReadFileOrEmpty(v + "/server-done").empty(); }))
      << "the server never got a connection; received: " << ReadFileOrEmpty(v + "/received");
  EXPECT_EQ(ReadFileOrEmpty(v + "/received"), "hello-over-loopback\n");
  for (const std::string ns : {"ipc", "net", "uts"}) {
    const std::string server = Trim(ReadFileOrEmpty(std::string(v).append("/server-").append(ns)));
    const std::string client = Trim(ReadFileOrEmpty(std::string(v).append("/client-").append(ns)));
    EXPECT_FALSE(server.empty()) << ns;
    EXPECT_EQ(server, client) << ns << " namespace not shared";
    EXPECT_NE(server, NsOfSelf(ns)) << ns << " namespace is the host's";
  }
  EXPECT_EQ(Trim(ReadFileOrEmpty(v + "/server-host")), "podhost");
  EXPECT_EQ(Trim(ReadFileOrEmpty(v + "/client-host")), "podhost");
  // Both apps run; list shows one row per app.
  const std::string table = Ok({"list"});
  EXPECT_TRUE(Contains(table, "server")) << table;
  EXPECT_TRUE(Contains(table, "client")) << table;
  EXPECT_EQ(Comet({"stop", "--force", uuid}).exit_code, 0);
}

namespace {

using MultiApp = PodChecks;

TEST_F(MultiApp, AppsShareLoopbackIpcAndHostname) {
  AppsShareLoopbackIpcAndHostname();
}

TEST_F(MultiApp, DefaultHostnameAndSeparatePidNamespaces) {
  const std::string v = HostDir("v");
  ProcResult r =
      Comet({"run", "--volume=v,kind=host,source=" + v, "--mount=volume=v,target=/v", kImage,
             "--name=a", "--", "/bin/sh", "-c", "hostname > /v/a-host; echo $$ > /v/a-pid", "---",
             kImage, "--name=b", "--", "/bin/sh", "-c", "readlink /proc/self/ns/pid > /v/b-pidns"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ProcResult list = Comet({"list", "--full", "--no-legend"});
  const std::string uuid = Trim(list.out).substr(0, 36);
  EXPECT_EQ(Trim(ReadFileOrEmpty(v + "/a-host")), "comet-" + uuid);
  EXPECT_EQ(Trim(ReadFileOrEmpty(v + "/a-pid")), "1") << "each app is pid 1 of its own ns";
  EXPECT_NE(Trim(ReadFileOrEmpty(v + "/b-pidns")), NsOfSelf("pid"));
}

TEST_F(MultiApp, OneFailingAppDoesNotStopTheOther) {
  ProcResult r =
      Comet({"run", kImage, "--name=a", "--", "/bin/sh", "-c", "sleep 0.5; exit 5", "---", kImage,
             "--name=b", "--", "/bin/sh", "-c", "sleep 2; echo b-finished"});
  EXPECT_EQ(r.exit_code, 5) << "the first failing app's code: " << r.Describe();
  EXPECT_TRUE(Contains(r.out, "b-finished")) << "b was stopped when a failed: " << r.Describe();
  ASSERT_EQ(PodDirs().size(), 1U);
  const std::string uuid = PodDirs()[0].substr(PodDirs()[0].find('/') + 1);
  auto status = Status(uuid);
  EXPECT_EQ(status["app-a"], "5");
  EXPECT_EQ(status["app-b"], "0");
  // Several apps, no --app: every app's lines, prefixed with its name.
  const std::string logs = Ok({"logs", uuid});
  EXPECT_TRUE(Contains(logs, "b: b-finished")) << logs;
  const std::string only_b = Ok({"logs", "--app=b", uuid});
  EXPECT_EQ(Trim(only_b), "b-finished");
}

TEST_F(MultiApp, RestartPolicies) {
  RestartPolicies();
}

TEST_F(MultiApp, InitContainerFailingForGoodFailsThePod) {
  InitContainerFailingForGoodFailsThePod();
}

}  // namespace

void PodChecks::RestartPolicies() {
  const std::string v = HostDir("v");
  const std::string uuid = RunDetached(
      Concat(
          {HostVolume(v),
           ShellApp("never", "echo x >> /v/never; exit 3", {"--restart=Never"}),
           {"---"},
           ShellApp("onfailure",
                    "echo x >> /v/onfailure; [ $(wc -l < /v/onfailure) -ge 3 ] && exit 0; exit 1",
                    {"--restart=OnFailure"}),
           {"---"},
           ShellApp("always", "echo x >> /v/always; exit 0", {"--restart=Always"}),
           {"---"},
           ShellApp("steady", kSleeper)}),
      {.env = {"COMET_BACKOFF_BASE_MS=100", "COMET_BACKOFF_MAX_MS=400"}});
  ASSERT_FALSE(uuid.empty());
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Count(ReadFileOrEmpty(v + "/onfailure"), "x") >= 3 &&
               Count(ReadFileOrEmpty(v + "/always"), "x") >= 4;
      },
      30s))
      << "onfailure ran " << Count(ReadFileOrEmpty(v + "/onfailure"), "x") << " times, always "
      << Count(ReadFileOrEmpty(v + "/always"), "x");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(Count(ReadFileOrEmpty(v + "/never"), "x"), 1);
  EXPECT_EQ(Count(ReadFileOrEmpty(v + "/onfailure"), "x"), 3) << "OnFailure restarted after 0";
  const int always = Count(ReadFileOrEmpty(v + "/always"), "x");
  EXPECT_TRUE(WaitUntil([&] { return Count(ReadFileOrEmpty(v + "/always"), "x") > always; }, 5s))
      << "Always stopped restarting";

  auto status = Status(uuid);
  EXPECT_EQ(status["state"], "running") << "the pod runs on while steady runs";
  EXPECT_EQ(status["app-never"], "3");
  EXPECT_EQ(status["app-onfailure"], "0");
  nlohmann::json never = AppStatus(uuid, "never");
  nlohmann::json onfailure = AppStatus(uuid, "onfailure");
  nlohmann::json always_status = AppStatus(uuid, "always");
  nlohmann::json steady = AppStatus(uuid, "steady");
  ASSERT_TRUE(never.is_object() && onfailure.is_object() && always_status.is_object() &&
              steady.is_object());
  EXPECT_EQ(never["state"], "exited") << never;
  EXPECT_EQ(never["exit_code"], 3) << never;
  EXPECT_EQ(never["restarts"], 0) << never;
  EXPECT_EQ(onfailure["state"], "exited") << onfailure;
  EXPECT_EQ(onfailure["restarts"], 2) << onfailure;
  EXPECT_EQ(onfailure["attempts"].size(), 3U) << onfailure;
  EXPECT_GE(always_status["restarts"].get<int>(), 3) << always_status;
  EXPECT_EQ(steady["state"], "running") << steady;
  EXPECT_EQ(steady["restarts"], 0) << steady;
  EXPECT_EQ(Comet({"stop", uuid}).exit_code, 0);
  EXPECT_EQ(Status(uuid)["state"], "exited");
}

void PodChecks::InitContainerFailingForGoodFailsThePod() {
  const std::string v = HostDir("v");
  ProcResult r = Comet({"run", "--volume=v,kind=host,source=" + v, "--mount=volume=v,target=/v",
                        kImage, "--name=init", "--init", "--", "/bin/sh", "-c", "exit 4", "---",
                        kImage, "--name=main", "--", "/bin/sh", "-c", "touch /v/main-ran"});
  EXPECT_EQ(r.exit_code, 4) << r.Describe();
  EXPECT_FALSE(Contains(ReadFileOrEmpty(v + "/main-ran"), "x"));
  struct stat st {};
  EXPECT_NE(::stat((v + "/main-ran").c_str(), &st), 0) << "main ran after a failed init";
  // Detached: the error is reported and run -d fails.
  ProcResult detached = Comet({"run", "-d", kImage, "--name=init", "--init", "--", "/bin/sh", "-c",
                               "exit 4", "---", kImage, "--name=main", "--", "/bin/true"});
  EXPECT_EQ(detached.exit_code, 254) << detached.Describe();
  EXPECT_FALSE(detached.err.empty());
}

// An init container failing three times then succeeding (a counter in an empty volume), with
// COMET_BACKOFF_BASE_MS=500: the gaps between attempts double (500, 1000, 2000 ms, plus the time
// a start takes, which a loaded machine stretches: the bounds allow for it); the app starts
// after the init container's success.
void PodChecks::InitContainerRetriesWithDoublingBackOff() {
  const std::string setup_script =
      "echo x >> /work/count; [ $(wc -l < /work/count) -ge 4 ] || exit 1; "
      "echo ready > /work/init-done";
  const std::string main_script =
      "cat /work/init-done > /work/main-saw; cat /work/count | wc -l > /work/main-count; " +
      std::string(kSleeper);
  const std::string uuid =
      RunDetached(Concat({{"--volume=work,kind=empty", "--mount=volume=work,target=/work"},
                          ShellApp("setup", setup_script, {"--init", "--restart=OnFailure"}),
                          {"---"},
                          ShellApp("main", main_script)}),
                  {.timeout = 60s, .env = {"COMET_BACKOFF_BASE_MS=500"}});
  ASSERT_FALSE(uuid.empty());
  // run -d returns once the apps started, so after the init container's success.
  nlohmann::json setup = AppStatus(uuid, "setup");
  ASSERT_TRUE(setup.is_object()) << "no status for the init container";
  ASSERT_EQ(setup["attempts"].size(), 4U) << setup;
  std::vector<int64_t> gaps;
  for (size_t i = 0; i < 4; ++i) {
    const auto& attempt = setup["attempts"][i];
    EXPECT_EQ(attempt["exit_code"], i < 3 ? 1 : 0) << attempt;
    if (i > 0) {
      const int64_t finished =
          ParseRfc3339Nanos(setup["attempts"][i - 1]["finished"].get<std::string>());
      const int64_t started = ParseRfc3339Nanos(attempt["started"].get<std::string>());
      ASSERT_GT(finished, 0) << setup;
      ASSERT_GT(started, 0) << setup;
      gaps.push_back((started - finished) / 1000000);
    }
  }
  ASSERT_EQ(gaps.size(), 3U);
  EXPECT_GE(gaps[0], 450) << "first back-off (ms)";
  EXPECT_LE(gaps[0], 1500) << "first back-off (ms)";
  for (size_t i = 1; i < gaps.size(); ++i) {
    const double ratio = static_cast<double>(gaps[i]) / static_cast<double>(gaps[i - 1]);
    EXPECT_GE(ratio, 1.5) << "gaps " << gaps[0] << ", " << gaps[1] << ", " << gaps[2];
    EXPECT_LE(ratio, 2.5) << "gaps " << gaps[0] << ", " << gaps[1] << ", " << gaps[2];
  }
  EXPECT_EQ(setup["state"], "exited");
  EXPECT_EQ(setup["exit_code"], 0);
  EXPECT_EQ(setup["restarts"], 3);

  const std::string volume = PodPath(uuid) + "/volumes/work";
  // main-count is written after main-saw: wait for the later one.
  EXPECT_TRUE(WaitUntil([&] { return !ReadFileOrEmpty(volume + "/main-count").empty(); }, 10s));
  EXPECT_EQ(ReadFileOrEmpty(volume + "/main-saw"), "ready\n");
  EXPECT_EQ(Trim(ReadFileOrEmpty(volume + "/main-count")), "4");
  nlohmann::json main_status = AppStatus(uuid, "main");
  ASSERT_TRUE(main_status.is_object());
  EXPECT_GE(ParseRfc3339Nanos(main_status["started"].get<std::string>()),
            ParseRfc3339Nanos(setup["finished"].get<std::string>()))
      << "main started before the init container finished";
  auto status = Status(uuid);
  EXPECT_EQ(status["state"], "running");
  EXPECT_EQ(status["app-setup"], "0");
  EXPECT_EQ(Comet({"stop", uuid}).exit_code, 0);
}

namespace {

TEST_F(MultiApp, InitContainerRetriesWithDoublingBackOff) {
  InitContainerRetriesWithDoublingBackOff();
}

}  // namespace
}  // namespace comet::e2e::pod
