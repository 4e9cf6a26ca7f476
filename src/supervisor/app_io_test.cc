#include "supervisor/app_io.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/control.h"
#include "pod/cri_log.h"
#include "runtime/console.h"
#include "supervisor/io_test_fixture.h"
#include "supervisor/stream_connection.h"

namespace comet::supervisor {
namespace {

using std::chrono::milliseconds;
using testing::MakePipe;
using testing::Pipe;
using testing::PtsOpen;

// Runs the loop, calling `step` every 5 ms until it returns true; false after 10 s.
bool RunUntil(EventLoop& loop, const std::function<bool()>& step) {
  bool done = false;
  auto deadline = EventLoop::Clock::now() + std::chrono::seconds(10);
  std::function<void()> tick = [&] {
    if (step()) {
      done = true;
      loop.Stop();
    } else if (EventLoop::Clock::now() > deadline) {
      loop.Stop();
    } else {
      loop.AddTimer(milliseconds(5), tick);
    }
  };
  loop.AddTimer(milliseconds(0), tick);
  EXPECT_TRUE(loop.Run());
  return done;
}

std::vector<std::string> LogLines(const std::string& path) {
  std::vector<std::string> lines;
  (void)pod::ReadLog(path, {}, [&](const pod::LogLine& line) -> Status {
    lines.push_back((line.stream == pod::LogStream::kStdout ? "out:" : "err:") + line.content);
    return Ok();
  });
  return lines;
}

std::string ReadAvailable(int fd) {
  std::string out;
  char buffer[4096];
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0) {
    out.append(buffer, static_cast<size_t>(n));
  }
  ::fcntl(fd, F_SETFL, flags);
  return out;
}

class AppIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-appio-");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop);
    loop_ = std::move(*loop);
  }

  static pod::App MakeApp(const std::string& name, bool stdin) {
    pod::App app;
    app.name = name;
    app.stdin = stdin;
    return app;
  }

  // A foreground whose stdout and stderr both go to `terminal`'s write end.
  static ForegroundOptions EchoTo(const Pipe& terminal) {
    ForegroundOptions foreground;
    foreground.terminal_out = terminal.write.get();
    foreground.terminal_err = terminal.write.get();
    return foreground;
  }

  std::string LogPath(const std::string& app) { return dir_->path() + "/logs/" + app + ".log"; }

  std::unique_ptr<os::TempDir> dir_;
  std::unique_ptr<EventLoop> loop_;
};

// The log is made with the first output: an app that writes nothing leaves no logs/ behind.
TEST_F(AppIoTest, SilentAppMakesNoLog) {
  AppIo io(*loop_, dir_->path(), ForegroundOptions{});
  auto stdio = io.Prepare(MakeApp("quiet", false));
  ASSERT_TRUE(stdio) << stdio.error().ToString();
  ASSERT_TRUE(io.Launched("quiet"));  // closes the app's ends: its output ends here
  io.Exited("quiet", 0);
  EXPECT_FALSE(os::Exists(dir_->path() + "/logs"));
}

// A log that cannot be made (here: `logs` is a file) is warned about; the output still reaches
// the terminal.
TEST_F(AppIoTest, UnwritableLogDoesNotStopTheOutput) {
  ASSERT_TRUE(os::WriteFile(dir_->path() + "/logs", "not a directory"));
  Pipe terminal = MakePipe();
  ASSERT_TRUE(terminal.write);
  AppIo io(*loop_, dir_->path(), EchoTo(terminal));
  auto stdio = io.Prepare(MakeApp("web", false));
  ASSERT_TRUE(stdio) << stdio.error().ToString();
  ASSERT_EQ(::write(stdio->out, "hello\n", 6), 6);
  ASSERT_TRUE(io.Launched("web"));
  std::string echoed;
  EXPECT_TRUE(RunUntil(*loop_, [&] {
    echoed += ReadAvailable(terminal.read.get());
    return echoed.find("hello\n") != std::string::npos;
  }));
  io.Exited("web", 0);
}

TEST_F(AppIoTest, OutputGoesToLogAndTerminal) {
  Pipe terminal = MakePipe();
  ASSERT_TRUE(terminal.write);
  AppIo io(*loop_, dir_->path(), EchoTo(terminal));
  auto stdio = io.Prepare(MakeApp("web", false));
  ASSERT_TRUE(stdio) << stdio.error().ToString();
  EXPECT_TRUE(stdio->console_socket.empty());
  // The app's stdin is /dev/null without -i.
  char c = 0;
  EXPECT_EQ(::read(stdio->in, &c, 1), 0);
  ASSERT_EQ(::write(stdio->out, "hello\nwor", 9), 9);
  ASSERT_EQ(::write(stdio->err, "bad\n", 4), 4);
  int out_copy =
      ::fcntl(stdio->out, F_DUPFD_CLOEXEC, 0);  // the app's process keeps writing after Launched
  ASSERT_TRUE(io.Launched("web"));
  bool exited = false;
  EXPECT_TRUE(RunUntil(*loop_, [&] {
    if (!exited && LogLines(LogPath("web")).size() >= 2) {
      EXPECT_EQ(::write(out_copy, "ld\n", 3), 3);
      ::close(out_copy);
      io.Exited("web", 0);
      exited = true;
    }
    return exited;
  }));
  EXPECT_EQ(LogLines(LogPath("web")),
            (std::vector<std::string>{"out:hello", "err:bad", "out:world"}));
  std::string echoed = ReadAvailable(terminal.read.get());
  EXPECT_NE(echoed.find("hello\n"), std::string::npos);
  EXPECT_NE(echoed.find("bad\n"), std::string::npos);
  EXPECT_NE(echoed.find("ld\n"), std::string::npos);
}

TEST_F(AppIoTest, TerminalInputReachesTheAppWithStdin) {
  Pipe terminal = MakePipe();
  ASSERT_TRUE(terminal.write);
  ForegroundOptions foreground;
  foreground.terminal_in = terminal.read.get();
  AppIo io(*loop_, dir_->path(), foreground);
  auto quiet = io.Prepare(MakeApp("quiet", false));
  ASSERT_TRUE(quiet);
  auto stdio = io.Prepare(MakeApp("shell", true));
  ASSERT_TRUE(stdio);
  ASSERT_TRUE(io.Launched("quiet"));
  ASSERT_TRUE(io.Launched("shell"));
  ASSERT_EQ(::write(terminal.write.get(), "ls\n", 3), 3);
  terminal.write.Reset();  // end of input: the app's stdin closes after the data
  std::string got;
  EXPECT_TRUE(RunUntil(*loop_, [&] {
    got += ReadAvailable(stdio->in);
    return got == "ls\n";
  }));
  io.Exited("quiet", 0);
  io.Exited("shell", 0);
}

class AttachClient {
 public:
  explicit AttachClient(os::UniqueFd socket) : fd(std::move(socket)) {}
  // Reads frames until kExit or the end; collects stdout.
  void ReadAll() {
    while (true) {
      auto frame = pod::ReadFrame(fd.get());
      if (!frame) {
        closed = true;
        return;
      }
      if (frame->type == pod::FrameType::kReply) {
        continue;
      }
      if (frame->type == pod::FrameType::kStdout) {
        out += frame->payload;
      } else if (frame->type == pod::FrameType::kExit) {
        exit_code = *pod::DecodeExit(frame->payload);
        return;
      }
    }
  }
  os::UniqueFd fd;
  std::string out;
  int exit_code = -1;
  bool closed = false;
};

std::pair<os::UniqueFd, os::UniqueFd> SocketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  return {os::UniqueFd(fds[0]), os::UniqueFd(fds[1])};
}

TEST_F(AppIoTest, AttachStreamsBothWaysAndGetsExit) {
  AppIo io(*loop_, dir_->path(), {});
  auto stdio = io.Prepare(MakeApp("app", true));
  ASSERT_TRUE(stdio);
  EXPECT_FALSE(io.CanAttach("app"));  // not running yet
  EXPECT_EQ(io.CanAttach("nope").error().code(), ENOENT);
  int out = ::fcntl(stdio->out, F_DUPFD_CLOEXEC, 0);
  ASSERT_TRUE(io.Launched("app"));
  auto tty = io.CanAttach("app");
  ASSERT_TRUE(tty);
  EXPECT_FALSE(*tty);
  auto [server, client_fd] = SocketPair();
  io.Attach("app", std::make_unique<StreamConnection>(*loop_, std::move(server), 1 << 20), true);
  AttachClient client(std::move(client_fd));
  ASSERT_TRUE(pod::WriteFrame(client.fd.get(), pod::FrameType::kStdin, "typed\n"));
  std::thread reader([&] { client.ReadAll(); });
  std::string got;
  bool wrote = false;
  bool exited = false;
  EXPECT_TRUE(RunUntil(*loop_, [&] {
    got += ReadAvailable(stdio->in);
    if (got == "typed\n" && !wrote) {
      EXPECT_EQ(::write(out, "echo: typed\n", 12), 12);
      ::close(out);
      wrote = true;
      return false;
    }
    if (wrote && !exited && LogLines(LogPath("app")).size() == 1) {
      io.Exited("app", 3);
      exited = true;
      return false;
    }
    return exited;
  }));
  reader.join();
  EXPECT_EQ(client.out, "echo: typed\n");
  EXPECT_EQ(client.exit_code, 3);
}

TEST_F(AppIoTest, TtyAppThroughTheConsoleSocket) {
  AppIo io(*loop_, dir_->path(), {});
  pod::App app = MakeApp("shell", true);
  app.tty = true;
  auto stdio = io.Prepare(app);
  ASSERT_TRUE(stdio) << stdio.error().ToString();
  ASSERT_FALSE(stdio->console_socket.empty());
  EXPECT_EQ(stdio->out, -1);
  // What the runtime does during create.
  os::UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(master);
  ASSERT_EQ(::grantpt(master.get()), 0);
  ASSERT_EQ(::unlockpt(master.get()), 0);
  os::UniqueFd slave(PtsOpen(master.get(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(slave);
  termios raw{};
  ASSERT_EQ(::tcgetattr(slave.get(), &raw), 0);
  ::cfmakeraw(&raw);
  ASSERT_EQ(::tcsetattr(slave.get(), TCSANOW, &raw), 0);
  ASSERT_TRUE(runtime::SendFdToSocket(stdio->console_socket, master.get(), ""));
  master.Reset();
  ASSERT_TRUE(io.Launched("shell"));
  EXPECT_NE(::access(stdio->console_socket.c_str(), F_OK), 0);  // removed once used
  auto tty = io.CanAttach("shell");
  ASSERT_TRUE(tty);
  EXPECT_TRUE(*tty);
  auto [server, client_fd] = SocketPair();
  io.Attach("shell", std::make_unique<StreamConnection>(*loop_, std::move(server), 1 << 20), true);
  ASSERT_TRUE(
      pod::WriteFrame(client_fd.get(), pod::FrameType::kResize, pod::EncodeResize({30, 100})));
  ASSERT_TRUE(pod::WriteFrame(client_fd.get(), pod::FrameType::kStdin, "k"));
  ASSERT_EQ(::write(slave.get(), "prompt\r\n", 8), 8);
  std::string typed;
  EXPECT_TRUE(RunUntil(*loop_, [&] {
    typed += ReadAvailable(slave.get());
    return typed == "k" && LogLines(LogPath("shell")).size() == 1;
  }));
  winsize ws{};
  ASSERT_EQ(::ioctl(slave.get(), TIOCGWINSZ, &ws), 0);
  EXPECT_EQ(ws.ws_row, 30);
  EXPECT_EQ(ws.ws_col, 100);
  EXPECT_EQ(LogLines(LogPath("shell")), (std::vector<std::string>{"out:prompt"}));
  slave.Reset();
  io.Exited("shell", 0);
  auto frame = pod::ReadFrame(client_fd.get());
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->type, pod::FrameType::kStdout);
  EXPECT_EQ(frame->payload, "prompt\r\n");
}

TEST_F(AppIoTest, StuckAttachClientIsDroppedNotWaitedFor) {
  AppIo io(*loop_, dir_->path(), {});
  auto stdio = io.Prepare(MakeApp("noisy", false));
  ASSERT_TRUE(stdio);
  int out = ::fcntl(stdio->out, F_DUPFD_CLOEXEC, 0);
  ASSERT_TRUE(io.Launched("noisy"));
  auto [server, client_fd] = SocketPair();
  io.Attach("noisy", std::make_unique<StreamConnection>(*loop_, std::move(server), 256 * 1024),
            false);
  // The client never reads. The app writes 4 MiB in lines, through a thread, since the pipe
  // blocks until the supervisor reads.
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    std::string line(1023, 'x');
    line += '\n';
    for (int i = 0; i < 4096; ++i) {
      ASSERT_TRUE(os::WriteAll(out, line));
    }
    ::close(out);
    writer_done = true;
  });
  EXPECT_TRUE(RunUntil(*loop_, [&] { return writer_done.load(); }));
  writer.join();
  io.Exited("noisy", 0);
  EXPECT_EQ(LogLines(LogPath("noisy")).size(), 4096u);
  // The client's connection was closed by the supervisor: reading ends (after what was queued).
  ::fcntl(client_fd.get(), F_SETFL, O_NONBLOCK);  // a kept connection fails with EAGAIN
  char buffer[65536];
  ssize_t n = 0;
  size_t total = 0;
  while ((n = ::read(client_fd.get(), buffer, sizeof(buffer))) > 0) {
    total += static_cast<size_t>(n);
  }
  EXPECT_EQ(n, 0);
  EXPECT_LT(total, 4096u * 1024u);
}

}  // namespace
}  // namespace comet::supervisor
