// Tests for the pod directory's paths and status files.
#include "pod/pod_dir.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::pod {
namespace {

using ::testing::HasSubstr;

TEST(PodDirTest, Paths) {
  // Volatile files go through the state link; the snapshot stays on disk.
  EXPECT_EQ(AppDir("/p", "web"), "/p/state/apps/web");
  EXPECT_EQ(AppStatusPath("/p", "web"), "/p/state/apps/web/status.json");
  EXPECT_EQ(AppSnapshotDir("/p", "web"), "/p/apps/web");
  EXPECT_EQ(AppLogPath("/p", "web"), "/p/logs/web.log");
  EXPECT_EQ(VolumeDir("/p", "data"), "/p/volumes/data");
  EXPECT_EQ(RuntimeRoot("/p"), "/p/state/runtime");
  EXPECT_EQ(PodEtcPath("/p", "hosts"), "/p/state/etc/hosts");
  EXPECT_EQ(std::string("/p/") + kPidFile, "/p/state/pid");
  EXPECT_EQ(std::string("/p/") + kControlSocket, "/p/state/ctl");
  EXPECT_EQ(PodLeaseName("0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f"),
            "pod-0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f");
  EXPECT_EQ(PodCgroupPath("u"), "/comet/pod-u");
  EXPECT_EQ(AppCgroupPath("u", "web"), "/comet/pod-u/web");
}

TEST(PodDirTest, AppStateNames) {
  for (AppState s : {AppState::kCreated, AppState::kRunning, AppState::kBackOff, AppState::kExited,
                     AppState::kRemoved}) {
    EXPECT_EQ(ParseAppState(AppStateName(s)).value(), s);
  }
  EXPECT_EQ(AppStateName(AppState::kRunning), "running");
  EXPECT_FALSE(ParseAppState("Running"));
}

AppStatus SampleStatus() {
  AppStatus s;
  s.name = "web";
  s.state = AppState::kBackOff;
  s.pid = 0;
  s.exit_code = 3;
  s.created = "2026-11-29T12:00:00Z";
  s.started = "2026-11-29T12:00:01.5Z";
  s.finished = "2026-11-29T12:00:02Z";
  s.next_start = "2026-11-29T12:00:12Z";
  s.restarts = 2;
  s.reason = "Error";
  s.message = "exit status 3 \"quoted\"\n";
  s.attempts = {{"2026-11-29T12:00:00Z", "2026-11-29T12:00:00.5Z", 3},
                {"2026-11-29T12:00:01.5Z", "", -1}};
  return s;
}

TEST(PodDirTest, AppStatusRoundTrip) {
  AppStatus s = SampleStatus();
  auto parsed = ParseAppStatus(AppStatusToJson(s));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(AppStatusToJson(*parsed), AppStatusToJson(s));
  EXPECT_EQ(parsed->state, AppState::kBackOff);
  EXPECT_EQ(parsed->message, s.message);
  ASSERT_EQ(parsed->attempts.size(), 2u);
  EXPECT_EQ(parsed->attempts[0].exit_code, 3);
  EXPECT_EQ(parsed->attempts[1].finished, "");
}

TEST(PodDirTest, AppStatusParseErrors) {
  auto bad_state = ParseAppStatus(R"({"name":"a","state":"zombie"})");
  ASSERT_FALSE(bad_state);
  EXPECT_THAT(bad_state.error().message(), HasSubstr("state: unknown app state"));
  auto bad_attempt = ParseAppStatus(R"({"attempts":[{"exit_code":"x"}]})");
  ASSERT_FALSE(bad_attempt);
  EXPECT_THAT(bad_attempt.error().message(), HasSubstr("attempts[0].exit_code"));
  EXPECT_FALSE(ParseAppStatus("not json"));
}

TEST(PodDirTest, AppStatusFile) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  auto missing = ReadAppStatus(dir->path(), "web");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  AppStatus s = SampleStatus();
  ASSERT_TRUE(WriteAppStatus(dir->path(), s));
  s.state = AppState::kRunning;
  s.pid = 1234;
  ASSERT_TRUE(WriteAppStatus(dir->path(), s));  // replaced
  auto read = ReadAppStatus(dir->path(), "web");
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(read->state, AppState::kRunning);
  EXPECT_EQ(read->pid, 1234);
  for (const char* bad : {"", "..", "a/../../x"}) {
    s.name = bad;
    EXPECT_FALSE(WriteAppStatus(dir->path(), s)) << bad;
  }
}

TEST(PodDirTest, SupervisorStatusFile) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  EXPECT_EQ(ReadSupervisorStatus(dir->path()).error().code(), ENOENT);
  ASSERT_TRUE(os::MkdirAll(dir->path() + "/state"));  // what the state link leads to
  SupervisorStatus s;
  s.pid = 42;
  s.started = "2026-11-29T12:00:00Z";
  s.ready = true;
  ASSERT_TRUE(WriteSupervisorStatus(dir->path(), s));
  auto read = ReadSupervisorStatus(dir->path());
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(read->pid, 42);
  EXPECT_TRUE(read->ready);
  EXPECT_EQ(read->exit_code, -1);
  EXPECT_EQ(read->finished, "");
  EXPECT_EQ(SupervisorStatusToJson(*read), SupervisorStatusToJson(s));
}

TEST(PodDirTest, PodPid) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  auto missing = ReadPodPid(dir->path());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  ASSERT_TRUE(os::MkdirAll(dir->path() + "/state"));
  ASSERT_TRUE(WritePodPid(dir->path(), 4321));
  EXPECT_EQ(os::ReadFile(os::JoinPath(dir->path(), kPidFile)).value(), "4321\n");
  EXPECT_EQ(ReadPodPid(dir->path()).value(), 4321);
  for (const char* bad : {"", "0\n", "-5\n", "12x\n", "99999999999\n"}) {
    ASSERT_TRUE(os::WriteFile(os::JoinPath(dir->path(), kPidFile), bad));
    auto pid = ReadPodPid(dir->path());
    ASSERT_FALSE(pid) << bad;
    EXPECT_EQ(pid.error().code(), EINVAL) << bad;
  }
}

}  // namespace
}  // namespace comet::pod
