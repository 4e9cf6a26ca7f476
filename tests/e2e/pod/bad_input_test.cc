// Bad input to run/prepare: exit 254, a message naming what is wrong, and nothing left behind
// (no pod directory in any phase, no mount, no cgroup, no process).
#include "e2e/pod/pod_fixture.h"

namespace comet::e2e::pod {
namespace {

struct BadCase {
  std::string name;
  std::vector<std::string> args;  // after the command word
  std::string message;            // a part of stderr (case-sensitive)
};

class BadInput : public PodTest {
 protected:
  void Check(const std::vector<BadCase>& cases) {
    for (const BadCase& c : cases) {
      for (const std::vector<std::string>& command :
           {std::vector<std::string>{"run"}, std::vector<std::string>{"run", "-d"},
            std::vector<std::string>{"prepare"}}) {
        std::vector<std::string> args = command;
        args.insert(args.end(), c.args.begin(), c.args.end());
        const std::string context = c.name + " (" + command.back() + ")";
        ProcResult r = Comet(args, {.timeout = 60s});
        EXPECT_EQ(r.exit_code, 254) << context << ": " << r.Describe();
        EXPECT_TRUE(Contains(r.err, c.message))
            << context << ": stderr should mention \"" << c.message << "\": " << r.err;
        EXPECT_EQ(r.out, "") << context << ": nothing on stdout (no UUID)";
        EXPECT_LT(r.err.size(), 1000U) << context << ": a short message, not a dump: " << r.err;
        ExpectNothingLeft(context);
        // Each case starts clean, whatever the previous one left.
        for (int i = 0; i < 2; ++i) {
          (void)Comet({"gc", "--grace-period=0s", "--expire-prepared=0s"});
        }
      }
    }
  }
};

TEST_F(BadInput, UnknownImage) {
  Check({
      {"never pulled",
       {"--pull-policy=never", "local/nothing:1", "--", "/bin/true"},
       "local/nothing"},
      // A registry that is not there (port 1 on loopback refuses at once).
      {"unreachable registry", {"127.0.0.1:1/none/here:1", "--", "/bin/true"}, "none/here"},
      {"bad reference", {"Not_A:Valid::Ref", "--", "/bin/true"}, "Not_A"},
  });
}

TEST_F(BadInput, BadFlags) {
  Check({
      {"unknown pod flag", {"--no-such-flag", kImage, "--", "/bin/true"}, "--no-such-flag"},
      {"unknown app flag", {kImage, "--bogus=1", "--", "/bin/true"}, "--bogus"},
      {"bad memory", {kImage, "--memory=lots", "--", "/bin/true"}, "lots"},
      {"bad cpu", {kImage, "--cpu=fast", "--", "/bin/true"}, "fast"},
      {"bad restart", {kImage, "--restart=Sometimes", "--", "/bin/true"}, "Sometimes"},
      {"unknown network",
       {"--net=no-such-net", kImage, "--", "/bin/true"},
       "no network named \"no-such-net\""},
      {"port without a network", {"--port=8080:80", kImage, "--", "/bin/true"}, "ports"},
      {"bad port", {"--net=default", "--port=8080", kImage, "--", "/bin/true"}, "--port"},
      {"bad capability", {kImage, "--caps-retain=CAP_FLY", "--", "/bin/true"}, "CAP_FLY"},
      {"no image", {"--hostname=x"}, "image"},
  });
}

TEST_F(BadInput, BadVolumes) {
  const std::string missing = tmp() + "/does-not-exist";
  Check({
      {"missing host path",
       {"--volume=v,kind=host,source=" + missing, "--mount=volume=v,target=/v", kImage, "--",
        "/bin/true"},
       missing},
      {"podman shorthand, missing path",
       {"--volume", missing + ":/v", kImage, "--", "/bin/true"},
       missing},
      {"relative host path",
       {"--volume=v,kind=host,source=relative/dir", kImage, "--", "/bin/true"},
       "relative/dir"},
      {"mount of an unknown volume",
       {"--mount=volume=nope,target=/x", kImage, "--", "/bin/true"},
       "nope"},
      {"bad volume kind", {"--volume=v,kind=nfs", kImage, "--", "/bin/true"}, "nfs"},
      {"duplicate volume",
       {"--volume=v,kind=empty", "--volume=v,kind=empty", kImage, "--", "/bin/true"},
       "v"},
  });
}

TEST_F(BadInput, DuplicateAppNames) {
  Check({
      {"same --name",
       {kImage, "--name=a", "--", "/bin/true", "---", kImage, "--name=a", "--", "/bin/true"},
       "app name \"a\""},
      {"same default name",
       {kImage, "--", "/bin/true", "---", kImage, "--", "/bin/true"},
       "busybox"},
      {"invalid app name", {kImage, "--name=Bad/Name", "--", "/bin/true"}, "Bad/Name"},
  });
}

TEST_F(BadInput, NothingToRun) {
  // The rootfs image has no entrypoint or cmd: an argv is needed.
  Check({{"empty argv", {kImage}, "busybox"}});
}

// An app that cannot start (its executable is missing: found by the supervisor, not stage0)
// fails the pod once, with that error said once — also detached, where the supervisor's error
// reaches the caller through the ready pipe — and removes it.
TEST_F(BadInput, MissingExecutable) {
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"run"}, std::vector<std::string>{"run", "-d"}}) {
    std::vector<std::string> args = command;
    args.insert(args.end(), {kImage, "--", "/bin/no-such-binary"});
    const std::string context = command.back();
    ProcResult r = Comet(args, {.timeout = 60s});
    EXPECT_EQ(r.exit_code, 254) << context << ": " << r.Describe();
    const size_t first = r.err.find("/bin/no-such-binary");
    EXPECT_NE(first, std::string::npos) << context << ": " << r.err;
    EXPECT_EQ(r.err.find("/bin/no-such-binary", first + 1), std::string::npos)
        << context << ": said once: " << r.err;
    EXPECT_LT(r.err.size(), 1000U) << context << ": " << r.err;
    EXPECT_EQ(r.out, "") << context;
    ExpectNothingLeft(context);
  }
}

TEST_F(BadInput, BadUuids) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status", "00000000-0000-4000-8000-000000000000"},
        std::vector<std::string>{"stop", "deadbeef"}, std::vector<std::string>{"rm", "deadbeef"},
        std::vector<std::string>{"cat-manifest", "zz"},
        std::vector<std::string>{"run-prepared", "deadbeef"},
        std::vector<std::string>{"logs", "deadbeef"},
        std::vector<std::string>{"exec", "deadbeef", "/bin/true"},
        std::vector<std::string>{"attach", "deadbeef"}}) {
    ProcResult r = Comet(args);
    EXPECT_EQ(r.exit_code, 254) << args[0] << ": " << r.Describe();
    EXPECT_FALSE(r.err.empty()) << args[0];
  }
  ExpectNothingLeft("after bad uuids");
}

}  // namespace
}  // namespace comet::e2e::pod
