// The pod commands on pods made with the pod store (no supervisor): lookup, views, list, status,
// stop/rm/gc of pods that are not running, cat-manifest, logs from a written CRI log.
#include "cli/pod_commands.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/pod_access.h"
#include "cli/pod_logs.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/cri_log.h"
#include "pod/manifest.h"
#include "pod/pod_dir.h"
#include "pod/pod_store.h"

namespace comet::cli {
namespace {

class PodCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-podcmd-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
    auto store = pod::PodStore::Open(os::JoinPath(dir_->path(), "pods"));
    ASSERT_TRUE(store) << store.error().ToString();
    store_.emplace(std::move(*store));
  }

  // A prepared pod with apps "web" and "side" (the first an init container when `init`).
  std::string MakePrepared(const std::string& uuid, bool init = false) {
    auto pod = store_->CreatePreparing(uuid);
    EXPECT_TRUE(pod) << pod.error().ToString();
    pod::PodManifest manifest;
    manifest.uuid = pod->uuid();
    manifest.created = FormatRfc3339Nano(std::chrono::system_clock::now());
    for (const char* name : {"web", "side"}) {
      pod::App app;
      app.name = name;
      app.image = "localhost/img:1";
      app.image_id = "sha256:" + std::string(64, 'a');
      app.exec = {"/bin/true"};
      manifest.apps.push_back(app);
    }
    manifest.apps[0].init = init;
    // "side" is as a manifest from before the config digest was recorded.
    manifest.apps[0].image_config_id = "sha256:" + std::string(64, 'c');
    EXPECT_TRUE(pod::WriteManifest(pod->path(), manifest));
    EXPECT_TRUE(pod->FinishPrepare());
    return pod->uuid();
  }

  CometInvocation Invocation(const std::string& command, std::vector<std::string> uuids = {}) {
    CometInvocation in;
    in.command = command;
    in.global.dir = dir_->path();
    in.pod.uuids = std::move(uuids);
    return in;
  }

  // Runs a command with stdout captured.
  std::pair<Result<int>, std::string> Run(const CometInvocation& in) {
    const std::string path = os::JoinPath(dir_->path(), "stdout");
    const int file = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int saved = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
    ::dup2(file, STDOUT_FILENO);
    Result<int> result = RunPodManagementCommand(in);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    ::close(file);
    return {std::move(result), os::ReadFile(path).value_or("")};
  }

  std::optional<os::TempDir> dir_;
  std::optional<pod::PodStore> store_;
};

constexpr const char* kUuidA = "aaaa0000-0000-4000-8000-000000000001";
constexpr const char* kUuidB = "bbbb0000-0000-4000-8000-000000000002";

TEST_F(PodCommandsTest, ResolveByPrefixAndUuidFile) {
  MakePrepared(kUuidA);
  MakePrepared(kUuidB);
  PodFlags flags;
  flags.uuids = {"bbbb"};
  const std::string file = os::JoinPath(dir_->path(), "uuid");
  ASSERT_TRUE(os::WriteFile(file, std::string(kUuidA) + "\n", 0644));
  flags.uuid_file = file;
  auto entries = ResolvePods(*store_, flags);
  ASSERT_TRUE(entries) << entries.error().ToString();
  ASSERT_EQ(entries->size(), 2U);
  EXPECT_EQ((*entries)[0].uuid, kUuidB);
  EXPECT_EQ((*entries)[1].uuid, kUuidA);
  EXPECT_FALSE(ResolvePod(*store_, flags));  // two pods where one is wanted
  flags.uuids = {"cccc"};
  flags.uuid_file.clear();
  EXPECT_FALSE(ResolvePods(*store_, flags));
}

TEST_F(PodCommandsTest, ViewAndChooseApp) {
  MakePrepared(kUuidA, /*init=*/true);
  auto entry = store_->Find(kUuidA);
  ASSERT_TRUE(entry);
  PodView view = ReadPodView(*store_, *entry);
  EXPECT_EQ(view.state, "prepared");
  EXPECT_FALSE(view.exited);
  ASSERT_EQ(view.apps.size(), 2U);
  EXPECT_EQ(view.apps[0].state, "created");
  // The image ID is the config digest, as `comet image list` shows it, when the manifest has it.
  EXPECT_EQ(view.apps[0].image_id, "sha256:" + std::string(64, 'c'));
  EXPECT_EQ(view.apps[1].image_id, "sha256:" + std::string(64, 'a'));

  pod::AppStatus status;
  status.name = "side";
  status.state = pod::AppState::kExited;
  status.exit_code = 9;
  ASSERT_TRUE(pod::WriteAppStatus(entry->path, status));
  view = ReadPodView(*store_, *entry);
  EXPECT_EQ(view.apps[1].state, "exited");
  EXPECT_EQ(view.apps[1].exit_code, 9);

  auto manifest = ReadPodManifest(*store_, *entry);
  ASSERT_TRUE(manifest);
  auto only = ChooseApp(*manifest, "");  // the init container does not count
  ASSERT_TRUE(only) << only.error().ToString();
  EXPECT_EQ(*only, "side");
  EXPECT_TRUE(ChooseApp(*manifest, "web"));
  auto missing = ChooseApp(*manifest, "nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().ToString().find("has no app \"nope\""), std::string::npos)
      << missing.error().ToString();
  manifest->apps[0].init = false;
  auto several = ChooseApp(*manifest, "");
  ASSERT_FALSE(several);
  EXPECT_NE(several.error().ToString().find("several apps (web, side)"), std::string::npos);
}

TEST_F(PodCommandsTest, ListStatusCatManifest) {
  MakePrepared(kUuidA);
  CometInvocation list = Invocation("list");
  list.pod.format = "json";
  auto [listed, out] = Run(list);
  ASSERT_TRUE(listed) << listed.error().ToString();
  const nlohmann::json json = nlohmann::json::parse(out);
  ASSERT_EQ(json.size(), 1U);
  EXPECT_EQ(json[0]["uuid"], kUuidA);
  EXPECT_EQ(json[0]["state"], "prepared");
  EXPECT_EQ(json[0]["apps"].size(), 2U);
  EXPECT_EQ(json[0]["apps"][0]["image_id"], "sha256:" + std::string(64, 'c'));
  auto [table_listed, table] = Run(Invocation("list"));
  ASSERT_TRUE(table_listed) << table_listed.error().ToString();
  EXPECT_NE(table.find(" " + std::string(12, 'c') + " "), std::string::npos) << table;

  auto [status, text] = Run(Invocation("status", {"aaaa"}));
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(text.find("state=prepared\ncreated=2"), 0U) << text;

  CometInvocation cat = Invocation("cat-manifest", {kUuidA});
  cat.pod.pretty = true;
  auto [catted, manifest] = Run(cat);
  ASSERT_TRUE(catted);
  auto parsed = pod::ParseManifest(manifest);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->uuid, kUuidA);
  EXPECT_NE(manifest.find("\n  \""), std::string::npos);  // indented
}

TEST_F(PodCommandsTest, StatusWaitReadyTimesOut) {
  MakePrepared(kUuidA);
  CometInvocation in = Invocation("status", {kUuidA});
  in.pod.wait_ready = std::chrono::milliseconds(120);
  auto [result, out] = Run(in);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().ToString().find("not ready after"), std::string::npos)
      << result.error().ToString();
}

TEST_F(PodCommandsTest, StopNeedsARunningPodRmAndGcRemove) {
  MakePrepared(kUuidA);
  MakePrepared(kUuidB);
  auto [stopped, none] = Run(Invocation("stop", {kUuidA}));
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 254);  // not running: reported, exit 254
  EXPECT_EQ(none, "");

  auto [removed, out] = Run(Invocation("rm", {kUuidA}));
  ASSERT_TRUE(removed) << removed.error().ToString();
  EXPECT_EQ(*removed, 0);
  EXPECT_EQ(out, std::string(kUuidA) + "\n");
  EXPECT_FALSE(store_->Find(kUuidA));

  CometInvocation gc = Invocation("gc");
  gc.pod.expire_prepared = std::chrono::hours(1);
  auto [kept, nothing] = Run(gc);
  ASSERT_TRUE(kept);
  EXPECT_EQ(nothing, "");  // prepared just now: not expired
  gc.pod.expire_prepared = std::chrono::nanoseconds(0);
  gc.pod.mark_only = true;
  auto [marked, mark_out] = Run(gc);
  ASSERT_TRUE(marked);
  EXPECT_NE(mark_out.find("marked pod " + std::string(kUuidB)), std::string::npos) << mark_out;
  auto entry = store_->Find(kUuidB);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->phase_dir, "garbage");
  gc.pod.mark_only = false;
  gc.pod.grace_period = std::chrono::nanoseconds(0);
  auto [swept, sweep_out] = Run(gc);
  ASSERT_TRUE(swept);
  EXPECT_NE(sweep_out.find("removed pod " + std::string(kUuidB)), std::string::npos);
  EXPECT_FALSE(store_->Find(kUuidB));
}

// A wedged supervisor: it holds the pod's lock and its control socket exists, but it never
// answers; it ignores the first SIGTERM and exits on the second. `stop --force` must give up on
// the socket after its timeout and fall back to two SIGTERMs.
TEST_F(PodCommandsTest, StopForceFallsBackToSignalsWhenTheSupervisorIsWedged) {
  MakePrepared(kUuidA);
  auto pod = store_->StartPrepared(kUuidA);
  ASSERT_TRUE(pod) << pod.error().ToString();
  const std::string pod_dir = pod->path();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_TRUE(os::MkdirAll(pod_dir + "/state"));  // the volatile directory's link, made real
  const std::string ctl = pod_dir + "/" + pod::kControlSocket;
  ASSERT_LT(ctl.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, ctl.c_str(), ctl.size() + 1);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t old_mask;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &term, &old_mask), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Inherits the pod's lock; only async-signal-safe calls from here.
    int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || ::bind(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(sock, 4) != 0) {
      ::_exit(1);
    }
    siginfo_t info;
    ::sigwaitinfo(&term, &info);  // the first SIGTERM: a wedged supervisor does nothing
    ::sigwaitinfo(&term, &info);
    ::_exit(0);
  }
  ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr), 0);
  { pod::Pod release = std::move(*pod); }  // the child holds the lock now
  ASSERT_TRUE(pod::WritePodPid(pod_dir, child));
  for (int i = 0; i < 200 && ::access(ctl.c_str(), F_OK) != 0; ++i) {
    ::usleep(10000);
  }
  CometInvocation in = Invocation("stop", {kUuidA});
  in.pod.force = true;
  auto [stopped, out] = Run(in);
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(stopped) << stopped.error().ToString();
  EXPECT_EQ(*stopped, 0);
  EXPECT_EQ(out, std::string(kUuidA) + "\n");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(PodCommandsTest, LogsMergeByTimeWithPrefixes) {
  MakePrepared(kUuidA);
  auto entry = store_->Find(kUuidA);
  ASSERT_TRUE(entry);
  ASSERT_TRUE(os::MkdirAll(os::JoinPath(entry->path, "logs"), 0750));
  const std::string web = pod::AppLogPath(entry->path, "web");
  const std::string side = pod::AppLogPath(entry->path, "side");
  ASSERT_TRUE(os::WriteFile(web,
                            "2026-01-01T00:00:01Z stdout F one\n"
                            "2026-01-01T00:00:03Z stdout F three\n",
                            0640));
  ASSERT_TRUE(os::WriteFile(side, "2026-01-01T00:00:02Z stdout F two\n", 0640));
  auto [all, out] = Run(Invocation("logs", {kUuidA}));
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(out, "web: one\nside: two\nweb: three\n");

  CometInvocation one = Invocation("logs", {kUuidA});
  one.pod.app = "web";
  one.pod.tail = 1;
  one.pod.timestamps = true;
  auto [tailed, tail_out] = Run(one);
  ASSERT_TRUE(tailed);
  EXPECT_EQ(tail_out, "2026-01-01T00:00:03Z three\n");

  CometInvocation since = Invocation("logs", {kUuidA});
  since.pod.since = "2026-01-01T00:00:02Z";
  auto [later, later_out] = Run(since);
  ASSERT_TRUE(later);
  EXPECT_EQ(later_out, "side: two\nweb: three\n");

  // Following a pod that is not running prints what there is and ends.
  CometInvocation follow = Invocation("logs", {kUuidA});
  follow.pod.follow = true;
  follow.pod.app = "side";
  auto [followed, follow_out] = Run(follow);
  ASSERT_TRUE(followed) << followed.error().ToString();
  EXPECT_EQ(follow_out, "two\n");
}

TEST(PodLogs, ParseSince) {
  const auto now = std::chrono::system_clock::now();
  auto ago = ParseSince("10m", now);
  ASSERT_TRUE(ago);
  EXPECT_EQ(now - *ago, std::chrono::minutes(10));
  auto when = ParseSince("2026-01-01T00:00:00Z", now);
  ASSERT_TRUE(when);
  EXPECT_EQ(FormatRfc3339Nano(*when), "2026-01-01T00:00:00Z");
  auto bad = ParseSince("yesterday", now);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().ToString().find("--since"), std::string::npos);
}

}  // namespace
}  // namespace comet::cli
