// The main flows as an unprivileged user (run through ../run-rootless.sh, which drops to the
// comet-test account): run in the foreground, run -d, list, status, logs, exec, stop, rm, gc.
// The other rootless_*_test.cc files cover the rest. As root these tests skip.
#include <unistd.h>

#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {

void RootlessPodTest::SetUp() {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "runs as an unprivileged user, through tests/e2e/run-rootless.sh";
  }
  PodChecks::SetUp();
}

namespace {

using RootlessPod = RootlessPodTest;

TEST_F(RootlessPod, RunInTheForeground) {
  ProcResult r = Comet({"run", kImage, "--", "/bin/sh", "-c",
                        "echo uid=$(id -u) host=$(hostname); echo to-stderr >&2; exit 5"});
  EXPECT_EQ(r.exit_code, 5) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "uid=0")) << "root in the pod's user namespace: " << r.Describe();
  EXPECT_TRUE(Contains(r.out + r.err, "to-stderr")) << r.Describe();
  ASSERT_EQ(PodDirs().size(), 1U);
  const std::string uuid = PodDirs()[0].substr(PodDirs()[0].find('/') + 1);
  EXPECT_TRUE(Contains(Ok({"logs", uuid}), "uid=0"));
  EXPECT_EQ(Status(uuid)["app-busybox"], "5");
  auto manifest = nlohmann::json::parse(Ok({"cat-manifest", uuid}), nullptr, false);
  EXPECT_EQ(manifest["rootless"], true) << manifest;
  EXPECT_EQ(Comet({"rm", uuid}).exit_code, 0);
  EXPECT_TRUE(PodDirs().empty());
}

TEST_F(RootlessPod, DetachedListStatusLogsExecStop) {
  const std::string script =
      "echo started > /e/flag; echo hello-rootless; "
      "trap 'exit 0' TERM; while true; do sleep 0.2; done";
  const std::string uuid = RunDetached({"--volume=e,kind=empty", "--mount=volume=e,target=/e",
                                        kImage, "--", "/bin/sh", "-c", script});
  ASSERT_FALSE(uuid.empty());
  auto status = Status(uuid);
  EXPECT_EQ(status["state"], "running");
  const pid_t pid = static_cast<pid_t>(std::stoi("0" + status["pid"]));
  EXPECT_GT(pid, 0);
  EXPECT_EQ(::kill(pid, 0), 0) << "the supervisor runs as this user";
  EXPECT_TRUE(Contains(Ok({"list"}), uuid.substr(0, 8)));
  auto list = nlohmann::json::parse(Ok({"list", "--format=json"}), nullptr, false);
  ASSERT_TRUE(list.is_array()) << list;
  EXPECT_TRUE(Contains(list.dump(), uuid));
  EXPECT_TRUE(WaitUntil([&] { return Contains(Comet({"logs", uuid}).out, "hello-rootless"); }));
  ProcResult exec = Comet({"exec", uuid, "/bin/cat", "/e/flag"});
  EXPECT_EQ(exec.exit_code, 0) << exec.Describe();
  EXPECT_EQ(exec.out, "started\n");
  EXPECT_EQ(Comet({"exec", uuid, "/bin/sh", "-c", "exit 4"}).exit_code, 4);
  ProcResult stop = Comet({"stop", uuid});
  EXPECT_EQ(stop.exit_code, 0) << stop.Describe();
  EXPECT_EQ(Status(uuid)["state"], "exited");
  EXPECT_EQ(Comet({"rm", uuid}).exit_code, 0);
  ExpectNothingLeft("rootless, after rm");
}

TEST_F(RootlessPod, BadInputLeavesNothing) {
  ProcResult r = Comet({"run", "--volume=v,kind=host,source=" + tmp() + "/missing",
                        "--mount=volume=v,target=/v", kImage, "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 254) << r.Describe();
  EXPECT_TRUE(Contains(r.err, tmp() + "/missing")) << r.err;
  ExpectNothingLeft("rootless bad input");
}

TEST_F(RootlessPod, SupervisorKilledThenGc) {
  const std::string uuid = RunDetached({kImage, "--", "/bin/sleep", "3600"});
  ASSERT_FALSE(uuid.empty());
  const pid_t pid = static_cast<pid_t>(std::stoi("0" + Status(uuid)["pid"]));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_TRUE(WaitUntil([&] { return Status(uuid)["state"] == "exited"; }, 5s));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Comet({"gc", "--grace-period=0s"}).exit_code, 0);
  }
  ExpectNothingLeft("rootless, supervisor killed, then gc");
}

}  // namespace
}  // namespace comet::e2e::pod
