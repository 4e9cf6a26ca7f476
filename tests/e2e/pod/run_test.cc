// `comet run` in the foreground: exit codes, output on the terminal and in CRI-format logs,
// -i, --rm, and an image pulled from a registry on 127.0.0.1.
// Bodies that the Rootless* tests run too are PodChecks members (pod_checks.h).
#include <filesystem>
#include <regex>

#include "e2e/pod/pod_checks.h"
#include "testing/registry_server.h"
#include "testing/test_images.h"

namespace comet::e2e::pod {

void PodChecks::RunInteractive() {
  ProcResult r =
      Comet({"run", "-i", kImage, "--", "/bin/sh", "-c", "read a; read b; echo got-$a-$b; exit 2"},
            {.stdin_data = "one\ntwo\n"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "got-one-two")) << "stdin did not reach the app: " << r.Describe();
  // Without -i the app's stdin is not the caller's.
  ProcResult closed = Comet({"run", kImage, "--", "/bin/sh", "-c", "read a; echo read-$a-end"},
                            {.stdin_data = "three\n"});
  EXPECT_EQ(closed.exit_code, 0) << closed.Describe();
  EXPECT_TRUE(Contains(closed.out, "read--end")) << closed.Describe();
}

void PodChecks::EnvironmentAndHostname() {
  ProcResult r = Comet({"run", "--hostname=pod-host", "--set-env=FROM_POD=p", kImage,
                        "--environment=FROM_APP=a", "--", "/bin/sh", "-c",
                        "echo host=$(hostname) pod=$FROM_POD app=$FROM_APP path=$PATH"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "host=pod-host")) << r.out;
  EXPECT_TRUE(Contains(r.out, "pod=p app=a")) << r.out;
  EXPECT_TRUE(Contains(r.out, "path=/")) << "PATH is defaulted: " << r.out;
}

void PodChecks::RemoveLeavesNothing() {
  ProcResult r = Comet({"run", "--rm", kImage, "--", "/bin/sh", "-c", "echo bye; exit 4"});
  EXPECT_EQ(r.exit_code, 4) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "bye")) << r.Describe();
  EXPECT_TRUE(PodDirs().empty()) << "--rm left " << PodDirs().size() << " pod dirs";
  ExpectNothingLeft("after run --rm");

  // The snapshot of a pod that goes at its end is never synced to disk: overlay's "volatile".
  const char* root_mount = "grep ' / / ' /proc/self/mountinfo";
  ProcResult removed = Comet({"run", "--rm", kImage, "--", "/bin/sh", "-c", root_mount});
  ASSERT_EQ(removed.exit_code, 0) << removed.Describe();
  if (Contains(removed.out, " - overlay ")) {
    EXPECT_TRUE(Contains(removed.out, "volatile")) << removed.out;
  }
  ProcResult kept = Comet({"run", kImage, "--", "/bin/sh", "-c", root_mount});
  ASSERT_EQ(kept.exit_code, 0) << kept.Describe();
  EXPECT_FALSE(Contains(kept.out, "volatile")) << kept.out;
}

namespace {

namespace fs = std::filesystem;
using RunForeground = PodChecks;

TEST_F(RunForeground, ExitCodeOutputAndCriLogs) {
  const std::string uuid_file = tmp() + "/uuid";
  ProcResult r = Comet({"run", "--uuid-file-save=" + uuid_file, kImage, "--", "/bin/sh", "-c",
                        "echo out-line; echo err-line >&2; exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "out-line")) << r.Describe();
  EXPECT_TRUE(Contains(r.out + r.err, "err-line")) << r.Describe();
  const std::string uuid = Trim(ReadFileOrEmpty(uuid_file));
  ASSERT_FALSE(uuid.empty()) << "--uuid-file-save wrote nothing";
  ASSERT_FALSE(PodPath(uuid).empty()) << "no pod directory for " << uuid;
  EXPECT_TRUE(Contains(PodPath(uuid), "/run/" + uuid)) << PodPath(uuid);

  // The log file is CRI format, one record per line.
  const std::string log = ReadFileOrEmpty(LogFile(uuid, kApp));
  ASSERT_FALSE(log.empty()) << "no log at " << LogFile(uuid, kApp);
  static const std::regex kRecord(R"(^\S+ (stdout|stderr) (P|F) .*$)");
  for (const std::string& line : Lines(log)) {
    EXPECT_TRUE(std::regex_match(line, kRecord)) << "not a CRI record: " << line;
    EXPECT_TRUE(LooksLikeRfc3339(line.substr(0, line.find(' ')))) << line;
  }
  EXPECT_TRUE(Contains(log, " stdout F out-line\n")) << log;
  EXPECT_TRUE(Contains(log, " stderr F err-line\n")) << log;

  ProcResult logs = Comet({"logs", uuid});
  EXPECT_EQ(logs.exit_code, 0) << logs.Describe();
  EXPECT_TRUE(Contains(logs.out + logs.err, "out-line")) << logs.Describe();
  EXPECT_TRUE(Contains(logs.out + logs.err, "err-line")) << logs.Describe();

  auto status = Status(uuid);
  EXPECT_EQ(status["state"], "exited");
  EXPECT_EQ(status["exited"], "true");
  EXPECT_EQ(status["app-busybox"], "7");
}

TEST_F(RunForeground, ExitCodesOfTrueFalseAndExec) {
  EXPECT_EQ(Comet({"run", kImage, "--", "/bin/true"}).exit_code, 0);
  EXPECT_EQ(Comet({"run", kImage, "--exec", "/bin/false"}).exit_code, 1);
  // --exec X with ARGS: [X] + ARGS.
  ProcResult r = Comet({"run", kImage, "--exec", "/bin/echo", "--", "a", "b"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "a b")) << r.Describe();
}

TEST_F(RunForeground, Interactive) {
  RunInteractive();
}

TEST_F(RunForeground, EnvironmentAndHostname) {
  EnvironmentAndHostname();
}

TEST_F(RunForeground, RemoveLeavesNothing) {
  RemoveLeavesNothing();
}

// The /etc files every app gets from the pod have their mount points in the /etc stub layer
// (supervisor/etc_stub_layer.h) when the image lacks them: nothing is copied up into the kept
// snapshot's upper layer, and the app still reads the pod's files.
TEST_F(RunForeground, EtcFilesNeedNoCopyUp) {
  ASSERT_FALSE(fs::exists(BusyboxTree() + "/etc/hosts")) << "the test image must lack /etc/hosts";
  const std::string uuid_file = tmp() + "/uuid";
  ProcResult r = Comet({"run", "--uuid-file-save=" + uuid_file, "--hostname=stubbed", kImage, "--",
                        "/bin/sh", "-c", "cat /etc/hosts /etc/hostname"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "localhost")) << r.out;
  EXPECT_TRUE(Contains(r.out, "stubbed")) << r.out;
  const std::string uuid = Trim(ReadFileOrEmpty(uuid_file));
  ASSERT_FALSE(uuid.empty());
  const std::string upper = PodPath(uuid) + "/apps/" + kApp + "/upper";
  ASSERT_TRUE(fs::is_directory(upper)) << upper;
  EXPECT_TRUE(fs::is_empty(upper))
      << "copied up: " << fs::begin(fs::directory_iterator(upper))->path();
}

TEST_F(RunForeground, PullsFromALocalRegistry) {
  auto server = testing::RegistryServer::Start();
  ASSERT_TRUE(server) << server.error().ToString();
  testing::ImageSpec spec;
  spec.layers.push_back({{}, BusyboxTree()});
  spec.cmd = {"/bin/echo", "hello-from-registry"};
  auto pushed = testing::PushImage(**server, "pods/bb", "1", spec);
  ASSERT_TRUE(pushed) << pushed.error().ToString();
  const std::string ref = (*server)->host_port() + "/pods/bb:1";
  ProcResult r = Comet({"run", ref}, {.timeout = 120s});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "hello-from-registry")) << r.Describe();
  // The app is named after the repository's last component.
  ProcResult list = Comet({"list", "--full"});
  EXPECT_TRUE(Contains(list.out, "bb")) << list.Describe();
  // --pull-policy=never works once the image is in the store.
  ProcResult again = Comet({"run", "--pull-policy=never", ref, "--", "/bin/true"});
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
}

}  // namespace
}  // namespace comet::e2e::pod
