#include "supervisor/control_server.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "os/temp_dir.h"
#include "pod/control.h"
#include "runtime/console.h"

namespace comet::supervisor {
namespace {

using std::chrono::milliseconds;

// Opens the terminal of a pty master (ptsname_r: the test binary has threads).
int PtsOpen(int master, int flags) {
  std::array<char, 128> name{};
  if (::ptsname_r(master, name.data(), name.size()) != 0) {
    return -1;
  }
  return ::open(name.data(), flags);
}

// The other half of our own code (the supervisor core), reduced to what the server calls.
class FakeController : public PodController {
 public:
  explicit FakeController(EventLoop& event_loop) : loop(event_loop) {}

  Status AddApp(pod::App app) override {
    added = app.name;
    return Ok();
  }
  Status StartApp(const std::string& name) override {
    if (name != "web") {
      return Err(Error::NotFound("app " + name + " not found"));
    }
    started = name;
    return Ok();
  }
  Status StopApp(const std::string& name, milliseconds grace, std::function<void()> done) override {
    stopped = name;
    stop_grace = grace;
    loop.AddTimer(milliseconds(20), std::move(done));  // exits a bit later
    return Ok();
  }
  Status RemoveApp(const std::string& name) override {
    removed = name;
    return Ok();
  }
  void StopPod(milliseconds grace) override { pod_grace = grace; }
  Result<pid_t> Exec(const std::string& app, const pod::ExecRequest& request,
                     const ExecStdio& stdio, std::function<void(int)> on_exit) override {
    exec_args = request.args;
    if (app != "web") {
      return Err(Error::NotFound("app " + app + " not found"));
    }
    if (!stdio.console_socket.empty()) {
      // What the runtime does: a pty whose master goes to the console socket.
      int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
      EXPECT_GE(master, 0);
      EXPECT_EQ(::grantpt(master), 0);
      EXPECT_EQ(::unlockpt(master), 0);
      int slave = PtsOpen(master, O_RDWR | O_NOCTTY | O_CLOEXEC);
      EXPECT_GE(slave, 0);
      EXPECT_TRUE(runtime::SendFdToSocket(stdio.console_socket, master, ""));
      ::close(master);
      EXPECT_EQ(::write(slave, "tty-out", 7), 7);
      loop.AddTimer(milliseconds(200), [slave, on_exit] {
        ::close(slave);
        on_exit(0);
      });
    } else {
      EXPECT_EQ(::write(stdio.out, "from exec\n", 10), 10);
      EXPECT_EQ(::write(stdio.err, "exec err\n", 9), 9);
      loop.AddTimer(milliseconds(20), [on_exit] { on_exit(7); });
    }
    return 4242;
  }

  EventLoop& loop;
  std::string added, started, stopped, removed;
  milliseconds stop_grace{0};
  std::optional<milliseconds> pod_grace;
  std::vector<std::string> exec_args;
};

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-ctlsrv-");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop);
    loop_ = std::move(*loop);
    controller_ = std::make_unique<FakeController>(*loop_);
    io_ = std::make_unique<AppIo>(*loop_, dir_->path(), ForegroundOptions{});
    server_ = std::make_unique<ControlServer>(*loop_, *controller_, *io_, dir_->path());
    auto listening = server_->Listen();
    ASSERT_TRUE(listening) << listening.error().ToString();
  }

  // Runs `client` in a thread while the loop serves it.
  void Serve(const std::function<void()>& client) {
    std::atomic<bool> done{false};
    std::thread thread([&] {
      client();
      done = true;
    });
    auto deadline = EventLoop::Clock::now() + std::chrono::seconds(10);
    std::function<void()> tick = [&] {
      if (done || EventLoop::Clock::now() > deadline) {
        // A little longer, for what the client sent just before it finished.
        loop_->AddTimer(milliseconds(50), [&] { loop_->Stop(); });
      } else {
        loop_->AddTimer(milliseconds(5), tick);
      }
    };
    loop_->AddTimer(milliseconds(5), tick);
    ASSERT_TRUE(loop_->Run());
    thread.join();
    EXPECT_TRUE(done);
  }

  std::unique_ptr<os::TempDir> dir_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<FakeController> controller_;
  std::unique_ptr<AppIo> io_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlServerTest, SocketIsPrivate) {
  struct stat st {};
  ASSERT_EQ(::stat((dir_->path() + "/ctl").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  server_->Close();
  EXPECT_NE(::access((dir_->path() + "/ctl").c_str(), F_OK), 0);
}

TEST_F(ControlServerTest, RequestsReachTheController) {
  Serve([&] {
    pod::ControlRequest stop_app;
    stop_app.op = pod::ControlOp::kAppStop;
    stop_app.app = "web";
    stop_app.grace = milliseconds(1500);
    EXPECT_TRUE(pod::CallControl(dir_->path(), stop_app));
    pod::ControlRequest start;
    start.op = pod::ControlOp::kAppStart;
    start.app = "web";
    EXPECT_TRUE(pod::CallControl(dir_->path(), start));
    start.app = "ghost";
    auto failed = pod::CallControl(dir_->path(), start);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code(), ENOENT);
    EXPECT_NE(failed.error().ToString().find("ghost"), std::string::npos);
    pod::ControlRequest add;
    add.op = pod::ControlOp::kAppAdd;
    add.new_app.emplace();
    add.new_app->name = "db";
    EXPECT_TRUE(pod::CallControl(dir_->path(), add));
    pod::ControlRequest rm;
    rm.op = pod::ControlOp::kAppRemove;
    rm.app = "db";
    EXPECT_TRUE(pod::CallControl(dir_->path(), rm));
    pod::ControlRequest stop;
    stop.op = pod::ControlOp::kStop;
    stop.grace = milliseconds(0);
    EXPECT_TRUE(pod::CallControl(dir_->path(), stop));
  });
  EXPECT_EQ(controller_->stopped, "web");
  EXPECT_EQ(controller_->stop_grace.count(), 1500);
  EXPECT_EQ(controller_->started, "web");
  EXPECT_EQ(controller_->added, "db");
  EXPECT_EQ(controller_->removed, "db");
  ASSERT_TRUE(controller_->pod_grace);
  EXPECT_EQ(controller_->pod_grace->count(), 0);
}

TEST_F(ControlServerTest, MalformedRequestsGetAnErrorAndTheServerLives) {
  Serve([&] {
    for (std::string bytes : {pod::EncodeFrame(pod::FrameType::kRequest, "{not json"),
                              pod::EncodeFrame(pod::FrameType::kStdin, "x"),
                              pod::EncodeFrame(pod::FrameType::kRequest, R"({"op":"exec"})")}) {
      auto fd = pod::ConnectControl(dir_->path());
      ASSERT_TRUE(fd);
      ASSERT_EQ(::write(fd->get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
      auto frame = pod::ReadFrame(fd->get());
      ASSERT_TRUE(frame) << frame.error().ToString();
      auto reply = pod::DecodeReply(frame->payload);
      ASSERT_TRUE(reply);
      EXPECT_FALSE(reply->ok);
      EXPECT_FALSE(pod::ReadFrame(fd->get()));  // closed after the reply
    }
    // Garbage framing: the connection is just dropped.
    auto fd = pod::ConnectControl(dir_->path());
    ASSERT_TRUE(fd);
    ASSERT_EQ(::write(fd->get(), "\xff\xff\xff\xff\xff\xff", 6), 6);
    EXPECT_FALSE(pod::ReadFrame(fd->get()));
    // An exec without its three fds is refused.
    pod::ControlRequest exec;
    exec.op = pod::ControlOp::kExec;
    exec.app = "web";
    exec.exec.args = {"true"};
    auto refused = pod::CallControl(dir_->path(), exec);
    EXPECT_FALSE(refused);
    // And the server still answers.
    pod::ControlRequest start;
    start.op = pod::ControlOp::kAppStart;
    start.app = "web";
    EXPECT_TRUE(pod::CallControl(dir_->path(), start));
  });
}

TEST_F(ControlServerTest, ExecPassesStdioAndReturnsTheExitCode) {
  int out[2];
  int err[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  Result<int> code = Err(Error::Invalid("not run"));
  Serve([&] {
    pod::ExecRequest request;
    request.args = {"/bin/echo", "hi"};
    pod::StreamOptions options;
    options.stdout_fd = out[1];
    options.stderr_fd = err[1];
    code = pod::ExecInApp(dir_->path(), "web", request, options);
  });
  ASSERT_TRUE(code) << code.error().ToString();
  EXPECT_EQ(*code, 7);
  EXPECT_EQ(controller_->exec_args, (std::vector<std::string>{"/bin/echo", "hi"}));
  char buffer[64] = {};
  ASSERT_EQ(::read(out[0], buffer, sizeof(buffer)), 10);
  EXPECT_EQ(std::string(buffer, 10), "from exec\n");
  ASSERT_EQ(::read(err[0], buffer, sizeof(buffer)), 9);
  for (int fd : {out[0], out[1], err[0], err[1]}) {
    ::close(fd);
  }
}

TEST_F(ControlServerTest, ExecWithTtySendsThePtyMaster) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  // The user's terminal: a pty of our own, whose mode must come back after the raw copy.
  os::UniqueFd user_master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(user_master);
  ASSERT_EQ(::grantpt(user_master.get()), 0);
  ASSERT_EQ(::unlockpt(user_master.get()), 0);
  os::UniqueFd user_tty(PtsOpen(user_master.get(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(user_tty);
  termios before{};
  ASSERT_EQ(::tcgetattr(user_tty.get(), &before), 0);
  ASSERT_NE(before.c_lflag & ICANON, 0u);
  Result<int> code = Err(Error::Invalid("not run"));
  Serve([&] {
    pod::ExecRequest request;
    request.args = {"/bin/sh"};
    request.tty = true;
    request.interactive = true;
    pod::StreamOptions options;
    options.stdin_fd = user_tty.get();
    options.stdout_fd = out[1];
    code = pod::ExecInApp(dir_->path(), "web", request, options);
  });
  ASSERT_TRUE(code) << code.error().ToString();
  EXPECT_EQ(*code, 0);
  char buffer[64] = {};
  ASSERT_GT(::read(out[0], buffer, sizeof(buffer)), 0);
  EXPECT_EQ(std::string(buffer, 7), "tty-out");
  EXPECT_EQ(::access((dir_->path() + "/exec-1.sock").c_str(), F_OK), -1);  // removed
  termios after{};
  ASSERT_EQ(::tcgetattr(user_tty.get(), &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
  ::close(out[0]);
  ::close(out[1]);
}

TEST_F(ControlServerTest, AttachStreamsUntilTheAppExits) {
  pod::App app;
  app.name = "web";
  auto stdio = io_->Prepare(app);
  ASSERT_TRUE(stdio);
  int app_out = ::fcntl(stdio->out, F_DUPFD_CLOEXEC, 0);
  ASSERT_TRUE(io_->Launched("web"));
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  Result<std::optional<int>> result = Err(Error::Invalid("not run"));
  std::atomic<bool> attached{false};
  // The app writes and exits once the client is attached (driven from the loop's thread).
  std::function<void()> app_side = [&] {
    if (!attached) {
      loop_->AddTimer(milliseconds(5), app_side);
      return;
    }
    EXPECT_EQ(::write(app_out, "attached!\n", 10), 10);
    ::close(app_out);
    loop_->AddTimer(milliseconds(50), [&] { io_->Exited("web", 5); });
  };
  loop_->AddTimer(milliseconds(5), app_side);
  Serve([&] {
    pod::StreamOptions options;
    options.stdout_fd = out[1];
    // Connected once the request is on its way; the reply comes before any output.
    std::thread flag([&] {
      std::this_thread::sleep_for(milliseconds(100));
      attached = true;
    });
    result = pod::AttachToApp(dir_->path(), "web", false, options);
    flag.join();
  });
  ASSERT_TRUE(result) << result.error().ToString();
  ASSERT_TRUE(*result);
  EXPECT_EQ(**result, 5);
  char buffer[64] = {};
  ASSERT_EQ(::read(out[0], buffer, sizeof(buffer)), 10);
  EXPECT_EQ(std::string(buffer, 10), "attached!\n");
  ::close(out[0]);
  ::close(out[1]);
}

TEST_F(ControlServerTest, AttachForwardsStdinUntilTheDetachKeys) {
  pod::App app;
  app.name = "web";
  app.stdin = true;
  auto stdio = io_->Prepare(app);
  ASSERT_TRUE(stdio);
  ASSERT_TRUE(io_->Launched("web"));
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  // ctrl-p alone is passed on; ctrl-p ctrl-q detaches and is not.
  ASSERT_EQ(::write(in[1],
                    "ab\x10"
                    "c\x10\x11zz",
                    8),
            8);
  Result<std::optional<int>> result = Err(Error::Invalid("not run"));
  Serve([&] {
    pod::StreamOptions options;
    options.stdin_fd = in[0];
    result = pod::AttachToApp(dir_->path(), "web", true, options);
  });
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_FALSE(*result);  // detached
  // The loop ran while the client sent: what reached the app's stdin pipe.
  std::string got(16, '\0');
  ssize_t n = ::read(stdio->in, got.data(), got.size());
  ASSERT_GT(n, 0);
  got.resize(static_cast<size_t>(n));
  EXPECT_EQ(got,
            "ab\x10"
            "c");
  ::close(in[0]);
  ::close(in[1]);
  io_->Exited("web", 0);
}

TEST_F(ControlServerTest, AttachToAnUnknownAppFails) {
  Serve([&] {
    auto result = pod::AttachToApp(dir_->path(), "ghost", false, {});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), ENOENT);
  });
}

}  // namespace
}  // namespace comet::supervisor
