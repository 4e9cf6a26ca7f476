// The supervisor core on real pods: a busybox image imported into a temporary store, a pod
// directory written by hand, and Supervisor + AppIo + EventLoop run in a forked child (which
// becomes the pod's supervisor: its own namespaces, subreaper). The parent checks the exit code
// and the files the supervisor left.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "image/layer_trees.h"
#include "image/store.h"
#include "image/transfer.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/pod_dir.h"
#include "pod/teardown.h"
#include "supervisor/supervisor.h"
#include "testing/in_child.h"

namespace comet::supervisor {
namespace {

constexpr const char* kBusybox = "/usr/bin/busybox";

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root";
    }
    if (::access(kBusybox, X_OK) != 0) {
      GTEST_SKIP() << "needs busybox-static at " << kBusybox;
    }
    auto dir = os::TempDir::Create("supervisor-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    data_ = dir_->path() + "/data";
    std::string rootfs = dir_->path() + "/rootfs";
    ASSERT_TRUE(os::MkdirAll(rootfs + "/bin"));
    ASSERT_TRUE(os::MkdirAll(rootfs + "/etc"));
    ASSERT_TRUE(os::WriteFile(rootfs + "/etc/passwd",
                              "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n"));
    ASSERT_TRUE(os::WriteFile(rootfs + "/etc/group", "root:x:0:\nnogroup:x:65534:\n"));
    std::string copy = std::string("cp ") + kBusybox + " " + rootfs + "/bin/busybox";
    ASSERT_EQ(std::system(copy.c_str()), 0);  // NOLINT(concurrency-mt-unsafe)
    for (const char* tool : {"sh", "sleep", "cat", "echo", "id", "true", "wc", "hostname"}) {
      ASSERT_EQ(::symlink("busybox", (rootfs + "/bin/" + tool).c_str()), 0);
    }
    ASSERT_EQ(std::system(("tar -C " + rootfs + " -cf " + dir_->path() +  // NOLINT
                           "/rootfs.tar .")
                              .c_str()),
              0);
    auto store = image::Store::Open({.root = data_ + "/images", .reference = {}});
    ASSERT_TRUE(store) << store.error().ToString();
    image::ImportOptions import;
    import.format = image::ArchiveFormat::kRootfsTarball;
    auto images = image::Import(*store, dir_->path() + "/rootfs.tar", import);
    ASSERT_TRUE(images) << images.error().ToString();
    ASSERT_EQ(images->size(), 1U);
    image_id_ = (*images)[0].manifest_digest.ToString();
    // Stage0 records the unpacked layers in the manifest; the supervisor reads no image store.
    ASSERT_TRUE(image::EnsureImageLayers(*store, *store->ReadManifest((*images)[0]),
                                         *store->ReadConfig((*images)[0]),
                                         image::DefaultUnpackOptions()));
    auto layers = store->LayerPaths((*images)[0]);
    ASSERT_TRUE(layers) << layers.error().ToString();
    layers_ = *layers;
  }

  void TearDown() override {
    if (!pod_dir_.empty()) {
      (void)pod::TeardownPod(pod_dir_, manifest_.uuid, {});
    }
  }

  pod::App App(const std::string& name, std::vector<std::string> exec) {
    pod::App app;
    app.name = name;
    app.image = "busybox";
    app.image_id = image_id_;
    app.layers = layers_;
    app.exec = std::move(exec);
    app.env = {"PATH=/bin"};
    return app;
  }

  // Runs the pod in a child; `during` (optional) runs in the child's event loop 300 ms after
  // the start. Returns the supervisor's exit code.
  int RunPod(const std::function<void(Supervisor&, EventLoop&)>& during = {}) {
    manifest_.uuid = pod::NewUuid();
    manifest_.created = FormatRfc3339Nano(std::chrono::system_clock::now());
    pod_dir_ = data_ + "/pods/run/" + manifest_.uuid;
    EXPECT_TRUE(os::MkdirAll(pod_dir_));
    auto written = pod::WriteManifest(pod_dir_, manifest_);
    EXPECT_TRUE(written) << written.error().ToString();
    auto outcome = testing::RunInChild([&] {
      ::setenv("COMET_BACKOFF_BASE_MS", "100", 1);  // NOLINT(concurrency-mt-unsafe)
      ::setenv("COMET_BACKOFF_MAX_MS", "400", 1);   // NOLINT(concurrency-mt-unsafe)
      sigset_t set;
      sigemptyset(&set);
      for (int signal : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) {
        sigaddset(&set, signal);
      }
      ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
      ::prctl(PR_SET_CHILD_SUBREAPER, 1);
      if (::chdir(pod_dir_.c_str()) != 0) {
        return 200;
      }
      auto loop = EventLoop::Create();
      if (!loop) {
        return 201;
      }
      AppIo io(**loop, pod_dir_, {});
      Supervisor supervisor(**loop, io,
                            {.pod_dir = pod_dir_, .data_dir = data_, .ready_fd = ready_fd_});
      if (supervisor.Start()) {
        if (during) {
          (*loop)->AddTimer(std::chrono::milliseconds(300), [&] { during(supervisor, **loop); });
        }
        (void)(*loop)->Run();
      }
      return supervisor.Finish();
    });
    if (outcome.signal != 0) {
      ADD_FAILURE() << "supervisor killed by signal " << outcome.signal << "\n" << outcome.output;
    }
    output_ = outcome.output;
    return outcome.exit_code;
  }

  pod::AppStatus Status(const std::string& app) {
    auto status = pod::ReadAppStatus(pod_dir_, app);
    EXPECT_TRUE(status) << status.error().ToString();
    return status ? *status : pod::AppStatus{};
  }

  std::optional<os::TempDir> dir_;
  std::string data_;
  std::string image_id_;
  std::vector<std::string> layers_;
  pod::PodManifest manifest_;
  std::string pod_dir_;
  std::string output_;
  int ready_fd_ = -1;  // the supervisor's --ready-fd
};

// The pid of this process's child named `name`, or 0.
pid_t ChildNamed(const std::string& name) {
  auto children = os::ReadFile("/proc/self/task/" + std::to_string(::getpid()) + "/children");
  if (!children) {
    return 0;
  }
  for (const std::string& pid : Split(std::string(TrimSpace(*children)), ' ')) {
    auto comm = os::ReadFile("/proc/" + pid + "/comm");
    if (comm && TrimSpace(*comm) == name) {
      return static_cast<pid_t>(std::stoi(pid));
    }
  }
  return 0;
}

// True once `pid` is gone or a zombie, within `wait`.
bool Ends(pid_t pid, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    auto stat = os::ReadFile("/proc/" + std::to_string(pid) + "/stat");
    if (!stat || stat->find(") Z") != std::string::npos) {
      return true;
    }
    ::usleep(20000);
  }
  return false;
}

TEST_F(SupervisorTest, OneAppExitCodeStatusAndLog) {
  manifest_.apps.push_back(App("one", {"/bin/sh", "-c", "echo hello from $(id -u); exit 3"}));
  EXPECT_EQ(RunPod(), 3) << output_;
  pod::AppStatus status = Status("one");
  EXPECT_EQ(status.state, pod::AppState::kExited);
  EXPECT_EQ(status.exit_code, 3);
  EXPECT_EQ(status.reason, "Error");
  ASSERT_EQ(status.attempts.size(), 1U);
  EXPECT_EQ(status.attempts[0].exit_code, 3);
  auto supervisor = pod::ReadSupervisorStatus(pod_dir_);
  ASSERT_TRUE(supervisor);
  EXPECT_TRUE(supervisor->ready);
  EXPECT_EQ(supervisor->exit_code, 3);
  auto log = os::ReadFile(pod::AppLogPath(pod_dir_, "one"));
  ASSERT_TRUE(log);
  EXPECT_NE(log->find("stdout F hello from 0"), std::string::npos) << *log;
  EXPECT_TRUE(os::Exists(pod_dir_ + "/" + pod::kReadyLink));
}

TEST_F(SupervisorTest, InitContainerThenRestartsWithBackoff) {
  pod::Volume shared;
  shared.name = "shared";
  manifest_.volumes.push_back(shared);
  pod::App init = App("init", {"/bin/sh", "-c", "echo x > /shared/count"});
  init.init = true;
  init.mounts = {{"shared", "/shared", false, ""}};
  manifest_.apps.push_back(init);
  // Fails twice, then succeeds: OnFailure restarts it after 100 ms, then 200 ms.
  pod::App flaky =
      App("flaky",
          {"/bin/sh", "-c", "echo x >> /shared/count; [ $(cat /shared/count | wc -l) -ge 4 ]"});
  flaky.restart = pod::RestartPolicy::kOnFailure;
  flaky.mounts = {{"shared", "/shared", false, ""}};
  manifest_.apps.push_back(flaky);
  EXPECT_EQ(RunPod(), 0) << output_;
  EXPECT_EQ(Status("init").reason, "Completed");
  pod::AppStatus status = Status("flaky");
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.restarts, 2);
  ASSERT_EQ(status.attempts.size(), 3U);
  auto gap = [&](size_t i) {
    auto finished = ParseRfc3339(status.attempts[i].finished);
    auto started = ParseRfc3339(status.attempts[i + 1].started);
    return std::chrono::duration_cast<std::chrono::milliseconds>(*started - *finished);
  };
  EXPECT_GE(gap(0).count(), 100);
  EXPECT_GE(gap(1).count(), 200);
  EXPECT_EQ(status.attempts[0].exit_code, 1);
}

TEST_F(SupervisorTest, FailedInitContainerFailsThePod) {
  pod::App init = App("init", {"/bin/sh", "-c", "exit 5"});
  init.init = true;
  manifest_.apps.push_back(init);
  manifest_.apps.push_back(App("main", {"/bin/true"}));
  EXPECT_EQ(RunPod(), 5) << output_;
  EXPECT_EQ(Status("main").state, pod::AppState::kCreated);
  auto supervisor = pod::ReadSupervisorStatus(pod_dir_);
  ASSERT_TRUE(supervisor);
  EXPECT_FALSE(supervisor->ready);
}

TEST_F(SupervisorTest, ExecThenStopKillsAfterTheGracePeriod) {
  // sleep as pid 1 of its namespace ignores SIGTERM: SIGKILL after the grace period.
  manifest_.apps.push_back(App("sleeper", {"/bin/sleep", "1000"}));
  manifest_.stop_grace_seconds = 1;
  auto during = [this](Supervisor& supervisor, EventLoop&) {
    pod::ExecRequest request;
    request.args = {"/bin/sh", "-c", "[ $(hostname) = comet-" + manifest_.uuid + " ] && exit 4"};
    auto pid = supervisor.Exec("sleeper", request, ExecStdio{}, [this, &supervisor](int code) {
      (void)os::WriteFile(pod_dir_ + "/exec-code", std::to_string(code));
      supervisor.StopPod(std::chrono::milliseconds(-1));
    });
    if (!pid) {
      (void)std::fprintf(stderr, "exec: %s\n", pid.error().ToString().c_str());
      supervisor.StopPod(std::chrono::milliseconds(0));
    }
  };
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(RunPod(during), 137) << output_;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  auto code = os::ReadFile(pod_dir_ + "/exec-code");
  ASSERT_TRUE(code) << output_;
  EXPECT_EQ(*code, "4");
  pod::AppStatus status = Status("sleeper");
  EXPECT_EQ(status.exit_code, 137);
  EXPECT_EQ(status.reason, "Signaled");
}

TEST_F(SupervisorTest, MutablePodAddStartStopRemove) {
  manifest_.mutable_pod = true;
  auto during = [this](Supervisor& supervisor, EventLoop&) {
    auto fail = [&supervisor](const char* step, const Error& error) {
      (void)std::fprintf(stderr, "%s: %s\n", step, error.ToString().c_str());
      supervisor.StopPod(std::chrono::milliseconds(0));
    };
    if (auto st = supervisor.AddApp(App("late", {"/bin/sleep", "1000"})); !st) {
      return fail("add", st.error());
    }
    if (auto st = supervisor.AddApp(App("late", {"/bin/true"})); st) {
      return fail("duplicate add", Error::Invalid("accepted"));
    }
    if (auto st = supervisor.StartApp("late"); !st) {
      return fail("start", st.error());
    }
    (void)os::WriteFile(pod_dir_ + "/running",
                        pod::AppStateName(pod::ReadAppStatus(pod_dir_, "late")->state));
    auto st = supervisor.StopApp("late", std::chrono::milliseconds(100), [this, &supervisor] {
      if (auto removed = supervisor.RemoveApp("late"); !removed) {
        (void)std::fprintf(stderr, "rm: %s\n", removed.error().ToString().c_str());
      }
      (void)os::WriteFile(pod_dir_ + "/apps-left",
                          std::to_string(pod::ReadManifest(pod_dir_)->apps.size()));
      supervisor.StopPod(std::chrono::milliseconds(-1));
    });
    if (!st) {
      fail("stop", st.error());
    }
  };
  EXPECT_EQ(RunPod(during), 0) << output_;
  EXPECT_EQ(*os::ReadFile(pod_dir_ + "/running"), "running");
  EXPECT_EQ(*os::ReadFile(pod_dir_ + "/apps-left"), "0");
  pod::AppStatus status = Status("late");
  EXPECT_EQ(status.state, pod::AppState::kRemoved);
  EXPECT_EQ(status.exit_code, 137);
  EXPECT_FALSE(os::Exists(pod::AppSnapshotDir(pod_dir_, "late")));
}

TEST_F(SupervisorTest, MemoryLimitAndOomKilledReason) {
  // One process doubling a string to 64 MiB: the 16 MiB limit stops it first.
  pod::App hog =
      App("hog", {"/bin/sh", "-c", "i=0; x=a; while [ $i -lt 26 ]; do x=$x$x; i=$((i+1)); done"});
  hog.resources.memory_bytes = 16 << 20;
  manifest_.apps.push_back(hog);
  EXPECT_EQ(RunPod(), 137) << output_;
  pod::AppStatus status = Status("hog");
  EXPECT_EQ(status.reason, "OOMKilled");
}

// Bad input leaves nothing behind: the pod directory goes before the ready fd hears the error.
TEST_F(SupervisorTest, MissingLayerFailsAndLeavesNoPodDirectory) {
  pod::App app = App("ghost", {"/bin/true"});
  app.layers = {data_ + "/images/layers/sha256/" + std::string(64, 'f')};
  manifest_.apps.push_back(app);
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  ready_fd_ = ready[1];
  EXPECT_EQ(RunPod(), kSupervisorFailure) << output_;
  ::close(ready[1]);
  auto said = os::ReadFd(ready[0], 1 << 16);
  ::close(ready[0]);
  ASSERT_TRUE(said);
  EXPECT_TRUE(StartsWith(*said, "error: ")) << *said;
  EXPECT_NE(said->find("ghost"), std::string::npos) << *said;
  EXPECT_FALSE(os::Exists(pod_dir_)) << output_;
}

// A later, longer stop does not postpone the SIGKILL of an earlier one.
TEST_F(SupervisorTest, SecondStopKeepsTheEarlierDeadline) {
  manifest_.apps.push_back(App("sleeper", {"/bin/sleep", "1000"}));  // ignores SIGTERM
  manifest_.stop_grace_seconds = 30;
  auto during = [](Supervisor& supervisor, EventLoop& loop) {
    supervisor.StopPod(std::chrono::milliseconds(500));
    loop.AddTimer(std::chrono::milliseconds(100),
                  [&supervisor] { supervisor.StopPod(std::chrono::milliseconds(-1)); });
  };
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(RunPod(during), 137) << output_;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

// A second SIGTERM while stopping kills at once.
TEST_F(SupervisorTest, SecondSignalKillsAtOnce) {
  manifest_.apps.push_back(App("sleeper", {"/bin/sleep", "1000"}));
  manifest_.stop_grace_seconds = 30;
  auto during = [](Supervisor&, EventLoop& loop) {
    ::kill(::getpid(), SIGTERM);
    loop.AddTimer(std::chrono::milliseconds(200), [] { ::kill(::getpid(), SIGTERM); });
  };
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(RunPod(during), 137) << output_;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

// `app start` waits for the init containers; `app rm` is for mutable pods only.
TEST_F(SupervisorTest, AppCommandsRefusedWhileInitContainersRunAndOnImmutablePods) {
  pod::App init = App("init", {"/bin/sleep", "1"});
  init.init = true;
  manifest_.apps.push_back(init);
  manifest_.apps.push_back(App("main", {"/bin/true"}));
  auto during = [this](Supervisor& supervisor, EventLoop&) {
    auto started = supervisor.StartApp("main");
    (void)os::WriteFile(pod_dir_ + "/start", started ? "ok" : started.error().ToString());
    auto removed = supervisor.RemoveApp("main");
    (void)os::WriteFile(pod_dir_ + "/rm", removed ? "ok" : removed.error().ToString());
  };
  EXPECT_EQ(RunPod(during), 0) << output_;
  EXPECT_NE(os::ReadFile(pod_dir_ + "/start")->find("init containers"), std::string::npos);
  EXPECT_NE(os::ReadFile(pod_dir_ + "/rm")->find("mutable"), std::string::npos);
  pod::AppStatus status = Status("main");
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.restarts, 0);
}

// The pause process of a shared pid namespace ends with its supervisor, however it dies.
TEST_F(SupervisorTest, PauseProcessEndsWithTheSupervisor) {
  manifest_.share_pid = true;
  manifest_.apps.push_back(App("sleeper", {"/bin/sleep", "1000"}));
  auto during = [this](Supervisor&, EventLoop&) {
    (void)os::WriteFile(pod_dir_ + "/pause", std::to_string(ChildNamed("comet-pause")));
    ::_exit(0);  // no Finish: as if killed
  };
  EXPECT_EQ(RunPod(during), 0) << output_;
  auto pause = os::ReadFile(pod_dir_ + "/pause");
  ASSERT_TRUE(pause);
  pid_t pid = std::stoi(*pause);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(Ends(pid, std::chrono::seconds(5)));
}

}  // namespace
}  // namespace comet::supervisor
