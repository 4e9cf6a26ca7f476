// End-to-end, rootless: run as an unprivileged user (tests/e2e/run-rootless.sh drops to one),
// with a user namespace mapping container root to the caller's own uid and gid.
#include <unistd.h>

#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

class Rootless : public RuntimeTest {
 protected:
  void SetUp() override {
    if (::geteuid() == 0) {
      GTEST_SKIP() << "run as an unprivileged user, through tests/e2e/run-rootless.sh";
    }
    RuntimeTest::SetUp();
  }
  Bundle& RootlessBundle(const std::vector<std::string>& args) {
    return NewBundle(args, {.rootless = true});
  }
};

TEST_F(Rootless, Echo) {
  Bundle& bundle = RootlessBundle({"/bin/echo", "hello rootless"});
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "hello rootless\n");
  ExpectNothingLeft(id, bundle);
}

TEST_F(Rootless, RootInsideIsTheCallerOutside) {
  Bundle& bundle = RootlessBundle({"/bin/cat", "/proc/self/uid_map"});
  bundle.Write();
  ProcResult r = Run(bundle, NewId());
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_NE(r.out.find(std::to_string(::getuid())), std::string::npos) << r.out;
  bundle.SetArgs({"/bin/checker", "ids"});
  auto kv = RunChecker(bundle);
  EXPECT_EQ(kv["uid"], "0");
  EXPECT_EQ(kv["gid"], "0");
}

TEST_F(Rootless, ExitCode) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "exit", "9"});
  const std::string id = NewId();
  EXPECT_EQ(Run(bundle, id).exit_code, 9);
  ExpectNothingLeft(id, bundle);
}

TEST_F(Rootless, Env) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "env"});
  bundle.process()["env"].push_back("ROOTLESS=yes");
  EXPECT_EQ(RunChecker(bundle)["ROOTLESS"], "yes");
}

TEST_F(Rootless, ReadonlyRootfs) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "write", "/newfile"});
  bundle.config()["root"]["readonly"] = true;
  EXPECT_EQ(RunChecker(bundle)["errname"], "EROFS");
}

TEST_F(Rootless, Capabilities) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "caps"});
  auto kv = RunChecker(bundle);
  // CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10), in the user namespace.
  EXPECT_EQ(kv["CapBnd"], "0000000020000420");
  EXPECT_EQ(kv["CapEff"], "0000000020000420");
}

TEST_F(Rootless, LifecycleWithOwnStateDir) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  ProcResult created = Create(bundle, id);
  ASSERT_TRUE(created.ok()) << created.Describe() << OutputOf(id);
  ASSERT_TRUE(Runtime({"start", id}).ok());
  EXPECT_EQ(State(id)["status"], "running");
  ASSERT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  ASSERT_TRUE(Runtime({"delete", id}).ok());
  ExpectNothingLeft(id, bundle);
}

}  // namespace
}  // namespace comet::e2e
