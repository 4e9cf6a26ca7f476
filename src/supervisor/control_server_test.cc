#include "supervisor/control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/control.h"
#include "pod/pod_dir.h"
#include "runtime/console.h"
#include "supervisor/io_test_fixture.h"

// g++ says it builds with ASan through __SANITIZE_ADDRESS__, clang through __has_feature.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COMET_CLANG_ASAN_ 1
#endif
#endif
#ifndef COMET_CLANG_ASAN_
#define COMET_CLANG_ASAN_ 0
#endif

namespace comet::supervisor {
namespace {

using std::chrono::milliseconds;
using testing::PtsOpen;

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
    } else if (request.interactive && request.args[0] == "true") {
      on_exit(0);  // at once, reading no stdin: kExit goes right after the reply
    } else if (request.interactive) {
      // A `cat`: copies its stdin to its stdout and exits 3 at the end of its input.
      int in = ::fcntl(stdio.in, F_DUPFD_CLOEXEC, 0);
      int out = ::fcntl(stdio.out, F_DUPFD_CLOEXEC, 0);
      EXPECT_EQ(::fcntl(in, F_SETFL, O_NONBLOCK), 0);
      auto copy = std::make_shared<std::function<void()>>();
      *copy = [this, in, out, on_exit, copy] {
        std::array<char, 4096> buffer{};
        ssize_t n = ::read(in, buffer.data(), buffer.size());
        if (n > 0) {
          EXPECT_EQ(::write(out, buffer.data(), static_cast<size_t>(n)), n);
        }
        if (n == 0) {
          ::close(in);
          ::close(out);
          on_exit(3);
          *copy = nullptr;  // breaks the cycle
          return;
        }
        loop.AddTimer(milliseconds(2), *copy);
      };
      loop.AddTimer(milliseconds(2), *copy);
    } else {
      for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(::fstat((std::array<int, 3>{stdio.in, stdio.out, stdio.err})[i], &exec_stat[i]),
                  0);
      }
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
  std::array<struct stat, 3> exec_stat{};  // what a non-tty exec got as its stdio
};

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-ctlsrv-");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
    // The socket is in the pod's volatile directory (<pod>/state), a plain one here.
    ASSERT_TRUE(os::MkdirAll(dir_->path() + "/state", 0711));
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
  ASSERT_EQ(::stat((dir_->path() + "/" + pod::kControlSocket).c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  server_->Close();
  EXPECT_NE(::access((dir_->path() + "/" + pod::kControlSocket).c_str(), F_OK), 0);
}

// The socket's mode keeps other users out; should it ever be loosened, the peer's credentials
// still do. A forked child that became nobody connects to a world-writable socket: refused.
TEST_F(ControlServerTest, PeersOfOtherUsersAreRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to become another user";
  }
  constexpr uid_t kNobody = 65534;
  ASSERT_EQ(::chmod(dir_->path().c_str(), 0711), 0);
  ASSERT_EQ(::chmod((dir_->path() + "/" + pod::kControlSocket).c_str(), 0666), 0);
  int status = -1;
  std::string started_by_nobody = "unset";
  Serve([&] {
    pid_t child = ::fork();
    if (child == 0) {
      (void)::signal(SIGPIPE, SIG_IGN);
      if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
        ::_exit(10);
      }
      pod::ControlRequest start;
      start.op = pod::ControlOp::kAppStart;
      start.app = "web";
      auto called = pod::CallControl(dir_->path(), start, milliseconds(3000));
      if (called) {
        ::_exit(11);  // served
      }
      ::_exit(called.error().code() == ETIMEDOUT ? 12 : 0);  // 12: left open, not refused
    }
    ASSERT_GT(child, 0);
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    started_by_nobody = controller_->started;
    // Our own uid is still served.
    pod::ControlRequest start;
    start.op = pod::ControlOp::kAppStart;
    start.app = "web";
    EXPECT_TRUE(pod::CallControl(dir_->path(), start));
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(started_by_nobody, "");
  EXPECT_EQ(controller_->started, "web");
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
    // A request carrying fds is refused: the supervisor never lets a client's fds into a
    // container.
    pod::ControlRequest exec;
    exec.op = pod::ControlOp::kExec;
    exec.app = "web";
    exec.exec.args = {"true"};
    auto with_fds = pod::ConnectControl(dir_->path());
    ASSERT_TRUE(with_fds);
    ASSERT_TRUE(pod::WriteFrame(with_fds->get(), pod::FrameType::kRequest, pod::EncodeRequest(exec),
                                {0, 1, 2}));
    pod::Frame reply_frame;
    auto refused = pod::AwaitReply(with_fds->get(), milliseconds(5000), &reply_frame);
    EXPECT_FALSE(refused);
    EXPECT_TRUE(controller_->exec_args.empty());
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
  // The process got pipes of the supervisor's, never the client's own fds (which it could
  // reopen through /proc/<pid>/fd), and /dev/null as stdin.
  struct stat client_out {};
  ASSERT_EQ(::fstat(out[1], &client_out), 0);
  EXPECT_TRUE(S_ISFIFO(controller_->exec_stat[1].st_mode));
  EXPECT_NE(controller_->exec_stat[1].st_ino, client_out.st_ino);
  EXPECT_TRUE(S_ISFIFO(controller_->exec_stat[2].st_mode));
  EXPECT_TRUE(S_ISCHR(controller_->exec_stat[0].st_mode));
  char buffer[64] = {};
  ASSERT_EQ(::read(out[0], buffer, sizeof(buffer)), 10);
  EXPECT_EQ(std::string(buffer, 10), "from exec\n");
  ASSERT_EQ(::read(err[0], buffer, sizeof(buffer)), 9);
  for (int fd : {out[0], out[1], err[0], err[1]}) {
    ::close(fd);
  }
}

TEST_F(ControlServerTest, InteractiveExecRelaysStdinAndOutputAsFrames) {
  int in[2];
  int out[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  // More than a pipe holds, so that stdin and output both wait on each other's side.
  std::string input;
  for (int i = 0; input.size() < size_t{300} * 1024; ++i) {
    input += "line " + std::to_string(i) + "\n";
  }
  std::thread writer([&] {
    EXPECT_TRUE(os::WriteAll(in[1], input));
    ::close(in[1]);
  });
  std::string output;
  std::thread reader([&] {
    std::array<char, 4096> buffer{};
    ssize_t n = 0;
    while ((n = ::read(out[0], buffer.data(), buffer.size())) > 0) {
      output.append(buffer.data(), static_cast<size_t>(n));
    }
  });
  Result<int> code = Err(Error::Invalid("not run"));
  Serve([&] {
    pod::ExecRequest request;
    request.args = {"cat"};
    request.interactive = true;
    pod::StreamOptions options;
    options.stdin_fd = in[0];
    options.stdout_fd = out[1];
    code = pod::ExecInApp(dir_->path(), "web", request, options);
    ::close(out[1]);
  });
  writer.join();
  reader.join();
  ASSERT_TRUE(code) << code.error().ToString();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(output.size(), input.size());
  EXPECT_TRUE(output == input);
  ::close(in[0]);
  ::close(out[0]);
}

// The process exits before it read its stdin: the supervisor has sent kExit and closed the
// connection when the client sends kStdinClose; the exit code still comes through.
TEST_F(ControlServerTest, InteractiveExecEndingBeforeItsStdin) {
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ::close(in[1]);
  // A race (the client may read kExit before it sends): tried a number of times.
  std::vector<Result<int>> codes;
  Serve([&] {
    pod::ExecRequest request;
    request.args = {"true"};
    request.interactive = true;
    pod::StreamOptions options;
    options.stdin_fd = in[0];
    for (int i = 0; i < 20; ++i) {
      codes.push_back(pod::ExecInApp(dir_->path(), "web", request, options));
    }
  });
  ASSERT_EQ(codes.size(), 20u);
  for (const Result<int>& code : codes) {
    ASSERT_TRUE(code) << code.error().ToString();
    EXPECT_EQ(*code, 0);
  }
  ::close(in[0]);
}

TEST_F(ControlServerTest, AttachClientsPerAppAreBounded) {
  pod::App app;
  app.name = "web";
  ASSERT_TRUE(io_->Prepare(app));
  ASSERT_TRUE(io_->Launched("web"));
  std::vector<os::UniqueFd> clients;
  Serve([&] {
    pod::ControlRequest attach;
    attach.op = pod::ControlOp::kAttach;
    attach.app = "web";
    for (int i = 0; i < 17; ++i) {
      auto fd = pod::ConnectControl(dir_->path());
      ASSERT_TRUE(fd);
      ASSERT_TRUE(pod::WriteFrame(fd->get(), pod::FrameType::kRequest, pod::EncodeRequest(attach)));
      pod::Frame frame;
      auto reply = pod::AwaitReply(fd->get(), milliseconds(5000), &frame);
      if (i < 16) {
        ASSERT_TRUE(reply) << i << ": " << reply.error().ToString();
      } else {
        ASSERT_FALSE(reply);
        EXPECT_EQ(reply.error().code(), EBUSY) << reply.error().ToString();
      }
      clients.push_back(std::move(*fd));
    }
  });
  EXPECT_EQ(io_->AttachedClients("web"), 16u);
  clients.clear();
  io_->Exited("web", 0);
}

// accept(2) failing with EMFILE leaves the connection in the backlog and the listener readable:
// the server must not spin on it, and must serve the connection once fds are back.
TEST_F(ControlServerTest, AcceptOutOfFdsDoesNotSpin) {
#if defined(__SANITIZE_ADDRESS__) || COMET_CLANG_ASAN_
  // UBSan's type checks read /proc/self/maps: with every fd taken they report false errors
  // ("invalid vptr", "memory cannot be printed"). The Debug workflow runs this test.
  GTEST_SKIP() << "exhausting fds confuses the sanitizers' runtime";
#endif
  auto fd = pod::ConnectControl(dir_->path());
  ASSERT_TRUE(fd);
  pod::ControlRequest start;
  start.op = pod::ControlOp::kAppStart;
  start.app = "web";
  ASSERT_TRUE(pod::WriteFrame(fd->get(), pod::FrameType::kRequest, pod::EncodeRequest(start)));
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  std::vector<os::UniqueFd> hogs;
  rlimit low = saved;
  low.rlim_cur = 512;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  while (true) {
    int hog = ::fcntl(0, F_DUPFD_CLOEXEC, 0);
    if (hog < 0) {
      break;
    }
    hogs.emplace_back(hog);
  }
  auto cpu = [] {
    rusage usage{};
    EXPECT_EQ(::getrusage(RUSAGE_THREAD, &usage), 0);
    return std::chrono::seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           std::chrono::microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  };
  const auto cpu_before = cpu();
  std::chrono::microseconds spent{0};
  std::string started_while_out;
  // Half a second out of fds, then fds come back: accepting again within about a second.
  loop_->AddTimer(milliseconds(500), [&] {
    spent = cpu() - cpu_before;
    started_while_out = controller_->started;
    hogs.clear();
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  });
  loop_->AddTimer(milliseconds(2000), [&] { loop_->Stop(); });
  ASSERT_TRUE(loop_->Run());
  ASSERT_TRUE(hogs.empty());
  EXPECT_LT(spent, milliseconds(100)) << "the event loop spun";
  EXPECT_EQ(started_while_out, "");
  EXPECT_EQ(controller_->started, "web");
  auto frame = pod::ReadFrame(fd->get());
  ASSERT_TRUE(frame) << frame.error().ToString();
  auto reply = pod::DecodeReply(frame->payload);
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->ok);
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
