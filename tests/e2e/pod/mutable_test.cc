// Mutable pods: `app sandbox` starts an empty pod; apps come and go with app add/start/stop/rm,
// inspected with app list/status and entered with app exec.
// Bodies that the Rootless* tests run too are PodChecks members (pod_checks.h).
#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {

void PodChecks::SandboxAddStartExecStopRemove() {
  ProcResult sandbox = Comet({"app", "sandbox", "--hostname=sandbox-host"});
  ASSERT_EQ(sandbox.exit_code, 0) << sandbox.Describe();
  const std::string uuid = Trim(sandbox.out);
  ASSERT_EQ(uuid.size(), 36U) << sandbox.out;
  EXPECT_EQ(Status(uuid)["state"], "running") << "an empty sandbox stays up";

  ProcResult add =
      Comet({"app", "add", uuid, kImage, "--name=web", "--environment=COMET_E2E_MARK=" + marker(),
             "--", "/bin/sh", "-c", kSleeper});
  ASSERT_EQ(add.exit_code, 0) << add.Describe();
  ProcResult start = Comet({"app", "start", uuid, "--app=web"});
  EXPECT_EQ(start.exit_code, 0) << start.Describe();
  EXPECT_TRUE(WaitUntil(
      [&] {
        const std::string s = Comet({"app", "status", uuid, "--app=web"}).out;
        return Contains(s, "running");
      },
      10s))
      << Comet({"app", "status", uuid, "--app=web"}).Describe();
  const std::string list = Ok({"app", "list", uuid});
  EXPECT_TRUE(Contains(list, "web")) << list;
  auto json = nlohmann::json::parse(Ok({"app", "status", uuid, "--app=web", "--format=json"}),
                                    nullptr, false);
  EXPECT_TRUE(json.is_object()) << json;
  ProcResult exec = Comet({"app", "exec", "--app=web", uuid, "/bin/hostname"});
  EXPECT_EQ(exec.exit_code, 0) << exec.Describe();
  EXPECT_EQ(Trim(exec.out), "sandbox-host");

  // A second app; duplicate names refused.
  EXPECT_EQ(Comet({"app", "add", uuid, kImage, "--name=web", "--", "/bin/true"}).exit_code, 254);
  EXPECT_EQ(
      Comet({"app", "add", uuid, kImage, "--name=job", "--", "/bin/sh", "-c", "exit 2"}).exit_code,
      0);
  EXPECT_EQ(Comet({"app", "start", uuid, "--app=job"}).exit_code, 0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Contains(Comet({"app", "status", uuid, "--app=job"}).out, "exited");
      },
      10s));

  EXPECT_EQ(Comet({"app", "stop", uuid, "--app=web"}).exit_code, 0);
  EXPECT_TRUE(Contains(Comet({"app", "status", uuid, "--app=web"}).out, "exited"));
  EXPECT_EQ(Status(uuid)["state"], "running") << "a mutable pod ends only on stop";
  EXPECT_EQ(Comet({"app", "rm", uuid, "--app=web"}).exit_code, 0);
  EXPECT_FALSE(Contains(Ok({"app", "list", uuid}), "web"));
  EXPECT_EQ(Comet({"stop", uuid}).exit_code, 0);
  EXPECT_EQ(Status(uuid)["state"], "exited");
}

namespace {

using MutablePod = PodChecks;

TEST_F(MutablePod, SandboxAddStartExecStopRemove) {
  SandboxAddStartExecStopRemove();
}

}  // namespace
}  // namespace comet::e2e::pod
