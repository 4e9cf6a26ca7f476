// AppIo: per-app pipes or pty, copied into the CRI log, the foreground terminal and attach
// clients; stdin from the terminal or attach clients. Everything is non-blocking except the
// echo to the foreground terminal (the user's own terminal, as with any foreground program).
#include "supervisor/app_io.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>

#include <fmt/format.h>

#include "base/log.h"
#include "os/file.h"
#include "pod/pod_dir.h"
#include "supervisor/console_listener.h"
#include "supervisor/stream_connection.h"

namespace comet::supervisor {
namespace {

constexpr size_t kReadChunk = size_t{64} * 1024;
// Input queued for an app's stdin (its pipe or pty is full); beyond it input waits (terminal)
// or the sending client is dropped.
constexpr size_t kMaxStdinQueue = 1 << 20;
constexpr char kTerminalEof = 0x04;

Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Err(Error::FromErrno("fcntl", "O_NONBLOCK"));
  }
  return Ok();
}

// A pipe: [0] read end, [1] write end, both close-on-exec.
Result<std::array<os::UniqueFd, 2>> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Err(Error::FromErrno("pipe2"));
  }
  return std::array<os::UniqueFd, 2>{os::UniqueFd(fds[0]), os::UniqueFd(fds[1])};
}

void SetWindowSize(int master, int terminal) {
  winsize ws{};
  if (terminal >= 0 && ::ioctl(terminal, TIOCGWINSZ, &ws) == 0 && ws.ws_row != 0) {
    (void)::ioctl(master, TIOCSWINSZ, &ws);
  }
}

}  // namespace

struct AppIo::Client {
  std::unique_ptr<StreamConnection> connection;
  bool stdin = false;
};

struct AppIo::AppStreams {
  std::string name;
  bool tty = false;
  bool want_stdin = false;
  std::optional<pod::CriLogWriter> log;
  bool log_failed = false;
  // The container's side, from Prepare to Launched/LaunchFailed.
  os::UniqueFd child_in;
  os::UniqueFd child_out;
  os::UniqueFd child_err;
  std::optional<ConsoleListener> console;
  // Ours.
  os::UniqueFd stdin_read;   // the container's end of the stdin pipe, kept for restarts
  os::UniqueFd stdin_write;  // non-blocking
  bool stdin_watched = false;
  bool close_stdin_after_flush = false;
  std::string stdin_pending;
  os::UniqueFd out;  // non-blocking read ends
  os::UniqueFd err;
  os::UniqueFd master;  // tty: output and input
  bool running = false;
  std::map<uint64_t, Client> clients;
};

AppIo::AppIo(EventLoop& loop, std::string pod_dir, ForegroundOptions foreground)
    : loop_(loop), pod_dir_(std::move(pod_dir)), foreground_(foreground) {}

AppIo::~AppIo() {
  Shutdown();
}

AppIo::AppStreams* AppIo::Find(const std::string& app) const {
  auto it = apps_.find(app);
  return it == apps_.end() ? nullptr : it->second.get();
}

Result<AppIo::AppStreams*> AppIo::Streams(const pod::App& app) {
  if (AppStreams* found = Find(app.name)) {
    return found;
  }
  auto streams = std::make_unique<AppStreams>();
  streams->name = app.name;
  if (foreground_.terminal_in >= 0 && terminal_app_.empty() && app.stdin) {
    terminal_app_ = app.name;
  }
  AppStreams* raw = streams.get();
  apps_[app.name] = std::move(streams);
  return raw;
}

Result<LaunchStdio> AppIo::Prepare(const pod::App& app) {
  ASSIGN_OR_RETURN(AppStreams * streams, Streams(app));
  // Leftovers of an earlier attempt or run (Exited normally closed them already).
  LaunchFailed(app.name);
  CloseOutput(*streams);
  streams->running = false;
  streams->tty = app.tty;
  streams->want_stdin = app.stdin;
  LaunchStdio stdio;
  if (app.tty) {
    std::string dir = pod::AppDir(pod_dir_, app.name);
    RETURN_IF_ERROR(os::MkdirAll(dir, 0700));
    ASSIGN_OR_RETURN(ConsoleListener console, ConsoleListener::Create(dir, "console.sock"));
    streams->console.emplace(std::move(console));
    stdio.console_socket = streams->console->path();
    return stdio;
  }
  ASSIGN_OR_RETURN(auto out, MakePipe());
  ASSIGN_OR_RETURN(auto err, MakePipe());
  RETURN_IF_ERROR(SetNonBlocking(out[0].get()));
  RETURN_IF_ERROR(SetNonBlocking(err[0].get()));
  if (app.stdin) {
    if (!streams->stdin_write) {
      ASSIGN_OR_RETURN(auto in, MakePipe());
      RETURN_IF_ERROR(SetNonBlocking(in[1].get()));
      streams->stdin_read = std::move(in[0]);
      streams->stdin_write = std::move(in[1]);
    }
    stdio.in = streams->stdin_read.get();
  } else {
    ASSIGN_OR_RETURN(streams->child_in, os::Open("/dev/null", O_RDONLY));
    stdio.in = streams->child_in.get();
  }
  streams->out = std::move(out[0]);
  streams->child_out = std::move(out[1]);
  streams->err = std::move(err[0]);
  streams->child_err = std::move(err[1]);
  stdio.out = streams->child_out.get();
  stdio.err = streams->child_err.get();
  return stdio;
}

Status AppIo::Launched(const std::string& app) {
  AppStreams* streams = Find(app);
  if (streams == nullptr) {
    return Err(Error::NotFound(fmt::format("app {}: no streams prepared", app)));
  }
  streams->child_in.Reset();
  streams->child_out.Reset();
  streams->child_err.Reset();
  if (streams->console) {
    auto master = streams->console->TakeMaster();
    streams->console.reset();
    if (!master) {
      return Err(std::move(master).error().AddContext("app " + app));
    }
    streams->master = std::move(*master);
    if (app == terminal_app_) {
      SetWindowSize(streams->master.get(), foreground_.terminal_out);
      if (!terminal_raw_ && ::isatty(foreground_.terminal_in) == 1 &&
          ::tcgetattr(foreground_.terminal_in, &saved_termios_) == 0) {
        termios raw = saved_termios_;
        ::cfmakeraw(&raw);
        terminal_raw_ = ::tcsetattr(foreground_.terminal_in, TCSADRAIN, &raw) == 0;
      }
    }
    WatchOutput(*streams, streams->master.get(), pod::LogStream::kStdout);
  } else {
    WatchOutput(*streams, streams->out.get(), pod::LogStream::kStdout);
    WatchOutput(*streams, streams->err.get(), pod::LogStream::kStderr);
  }
  streams->running = true;
  UpdateStdinWatch(*streams);
  WatchTerminal();
  return Ok();
}

void AppIo::LaunchFailed(const std::string& app) {
  AppStreams* streams = Find(app);
  if (streams == nullptr) {
    return;
  }
  streams->child_in.Reset();
  streams->child_out.Reset();
  streams->child_err.Reset();
  streams->console.reset();
  if (!streams->running) {
    CloseOutput(*streams);
  }
}

void AppIo::WatchOutput(AppStreams& streams, int fd, pod::LogStream stream) {
  std::string name = streams.name;
  auto added = loop_.Add(fd, EPOLLIN, [this, name, fd, stream](uint32_t events) {
    AppStreams* s = Find(name);
    if (s == nullptr) {
      return;
    }
    if ((events & EPOLLOUT) != 0) {
      FlushStdin(*s);
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
      (void)ReadOutput(*s, fd, stream);
    }
  });
  if (!added) {
    log::Warning("app {}: watching its output: {}", streams.name, added.error().ToString());
  }
}

ssize_t AppIo::ReadOutput(AppStreams& streams, int fd, pod::LogStream stream) {
  std::array<char, kReadChunk> buffer{};
  ssize_t n = ::read(fd, buffer.data(), buffer.size());
  if (n > 0) {
    Output(streams, stream, std::string_view(buffer.data(), static_cast<size_t>(n)));
    return n;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return 0;
  }
  // End of stream (EIO on a pty master once the app's side is closed): stop watching it.
  loop_.Remove(fd);
  if (fd == streams.master.get()) {
    streams.master.Reset();
    streams.stdin_pending.clear();
  } else if (fd == streams.out.get()) {
    streams.out.Reset();
  } else if (fd == streams.err.get()) {
    streams.err.Reset();
  }
  return -1;
}

// The log is made with the app's first output: an app that writes nothing (a `--rm` pod of
// /bin/true) costs no directory and file on the data dir's disk, and readers take a missing log
// for an empty one.
Status AppIo::OpenLog(AppStreams& streams) const {
  RETURN_IF_ERROR(os::MkdirAll(pod_dir_ + "/logs", 0750));
  ASSIGN_OR_RETURN(pod::CriLogWriter log,
                   pod::CriLogWriter::Open(pod::AppLogPath(pod_dir_, streams.name)));
  streams.log.emplace(std::move(log));
  return Ok();
}

void AppIo::Output(AppStreams& streams, pod::LogStream stream, std::string_view data) {
  if (!streams.log && !streams.log_failed) {
    if (auto opened = OpenLog(streams); !opened) {
      streams.log_failed = true;  // warn once; the app keeps running
      log::Warning("app {}: opening its log: {}", streams.name, opened.error().ToString());
    }
  }
  if (streams.log && !streams.log_failed) {
    if (auto written = streams.log->Write(stream, data); !written) {
      streams.log_failed = true;  // warn once; the app keeps running
      log::Warning("app {}: writing its log: {}", streams.name, written.error().ToString());
    }
  }
  int echo =
      stream == pod::LogStream::kStdout ? foreground_.terminal_out : foreground_.terminal_err;
  if (echo >= 0) {
    (void)os::WriteAll(echo, data);
  }
  auto type = stream == pod::LogStream::kStdout ? pod::FrameType::kStdout : pod::FrameType::kStderr;
  for (auto& [id, client] : streams.clients) {
    client.connection->Send(type, data);  // a stuck client is dropped (its close handler)
  }
}

// The app exited: what its pipes hold is read now (a process it left behind that keeps
// writing is cut off at a bound, so a flood cannot stall the loop).
void AppIo::DrainOutput(AppStreams& streams) {
  constexpr size_t kMaxDrainBytes = 16 << 20;
  for (os::UniqueFd* fd : {&streams.master, &streams.out, &streams.err}) {
    auto stream = fd == &streams.err ? pod::LogStream::kStderr : pod::LogStream::kStdout;
    size_t total = 0;
    while (*fd && total < kMaxDrainBytes) {
      ssize_t n = ReadOutput(streams, fd->get(), stream);
      if (n <= 0) {
        break;
      }
      total += static_cast<size_t>(n);
    }
  }
}

void AppIo::CloseOutput(AppStreams& streams) {
  for (os::UniqueFd* fd : {&streams.out, &streams.err, &streams.master}) {
    if (*fd) {
      loop_.Remove(fd->get());
      fd->Reset();
    }
  }
  if (streams.tty) {
    streams.stdin_pending.clear();
  }
}

void AppIo::Exited(const std::string& app, int exit_code) {
  AppStreams* streams = Find(app);
  if (streams == nullptr) {
    return;
  }
  DrainOutput(*streams);
  CloseOutput(*streams);
  streams->running = false;
  std::string payload = pod::EncodeExit(exit_code);
  for (auto& [id, client] : streams->clients) {
    client.connection->Send(pod::FrameType::kExit, payload);
    client.connection->CloseAfterFlush();
  }
  WatchTerminal();
}

void AppIo::Removed(const std::string& app) {
  AppStreams* streams = Find(app);
  if (streams == nullptr) {
    return;
  }
  LaunchFailed(app);
  CloseOutput(*streams);
  if (streams->stdin_watched) {
    loop_.Remove(streams->stdin_write.get());
  }
  if (app == terminal_app_) {
    terminal_app_.clear();
    WatchTerminal();
  }
  apps_.erase(app);
}

Result<bool> AppIo::CanAttach(const std::string& app) const {
  AppStreams* streams = Find(app);
  if (streams == nullptr) {
    return Err(Error::NotFound(fmt::format("app {} not found", app)));
  }
  if (!streams->running) {
    return Err(Error(EINVAL, fmt::format("app {} is not running", app)));
  }
  return streams->tty;
}

size_t AppIo::AttachedClients(const std::string& app) const {
  if (!app.empty()) {
    AppStreams* streams = Find(app);
    return streams == nullptr ? 0 : streams->clients.size();
  }
  size_t count = 0;
  for (const auto& [name, streams] : apps_) {
    count += streams->clients.size();
  }
  return count;
}

void AppIo::Attach(const std::string& app, std::unique_ptr<StreamConnection> connection,
                   bool attach_stdin) {
  AppStreams* streams = Find(app);
  if (streams == nullptr) {
    return;  // dropping the connection closes it
  }
  uint64_t id = next_client_++;
  StreamConnection* conn = connection.get();
  streams->clients[id] = Client{std::move(connection), attach_stdin};
  auto started = conn->Start(
      [this, app, id](const pod::Frame& frame) {
        AppStreams* s = Find(app);
        if (s == nullptr) {
          return;
        }
        auto it = s->clients.find(id);
        if (it != s->clients.end()) {
          OnClientFrame(*s, it->second, frame);
        }
      },
      [this, app, id] { DropClient(app, id); });
  if (!started) {
    streams->clients.erase(id);
  }
}

void AppIo::DropClient(const std::string& app, uint64_t id) {
  if (AppStreams* streams = Find(app)) {
    streams->clients.erase(id);
  }
}

void AppIo::OnClientFrame(AppStreams& streams, Client& client, const pod::Frame& frame) {
  switch (frame.type) {
    case pod::FrameType::kStdin:
      if (client.stdin && streams.want_stdin) {
        if (streams.stdin_pending.size() + frame.payload.size() > kMaxStdinQueue) {
          client.connection->CloseAfterFlush();  // the app does not read: stop this sender
          return;
        }
        QueueStdin(streams, frame.payload);
      }
      return;
    case pod::FrameType::kStdinClose:
      if (client.stdin && streams.want_stdin) {
        CloseStdin(streams);
      }
      return;
    case pod::FrameType::kResize:
      if (auto size = pod::DecodeResize(frame.payload); size && streams.master) {
        winsize ws{size->rows, size->cols, 0, 0};
        (void)::ioctl(streams.master.get(), TIOCSWINSZ, &ws);
      }
      return;
    default:
      return;  // nothing else is meaningful from a client
  }
}

int AppIo::StdinTarget(const AppStreams& streams) {
  if (streams.tty) {
    return streams.running ? streams.master.get() : -1;
  }
  return streams.stdin_write.get();
}

void AppIo::QueueStdin(AppStreams& streams, std::string_view data) {
  if (StdinTarget(streams) < 0) {
    return;  // no stdin (not -i, closed, or no pty right now): input is dropped
  }
  streams.stdin_pending.append(data);
  FlushStdin(streams);
}

void AppIo::FlushStdin(AppStreams& streams) {
  int target = StdinTarget(streams);
  while (target >= 0 && !streams.stdin_pending.empty()) {
    ssize_t n = ::write(target, streams.stdin_pending.data(), streams.stdin_pending.size());
    if (n > 0) {
      streams.stdin_pending.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      break;
    }
    streams.stdin_pending.clear();  // EPIPE: the app closed its stdin
  }
  if (target < 0) {
    streams.stdin_pending.clear();
  }
  if (streams.stdin_pending.empty() && streams.close_stdin_after_flush) {
    streams.close_stdin_after_flush = false;
    CloseStdin(streams);
  }
  UpdateStdinWatch(streams);
  WatchTerminal();
}

void AppIo::CloseStdin(AppStreams& streams) {
  if (streams.tty) {
    QueueStdin(streams, std::string_view(&kTerminalEof, 1));
    return;
  }
  if (!streams.stdin_pending.empty()) {
    streams.close_stdin_after_flush = true;
    return;
  }
  if (streams.stdin_watched) {
    loop_.Remove(streams.stdin_write.get());
    streams.stdin_watched = false;
  }
  // The app sees end of file; a restart gets a fresh pipe.
  streams.stdin_write.Reset();
  streams.stdin_read.Reset();
}

void AppIo::UpdateStdinWatch(AppStreams& streams) {
  bool wanted = !streams.stdin_pending.empty();
  if (streams.tty) {
    if (streams.master) {
      (void)loop_.Modify(streams.master.get(), EPOLLIN | (wanted ? EPOLLOUT : 0u));
    }
    return;
  }
  if (wanted == streams.stdin_watched || !streams.stdin_write) {
    return;
  }
  if (wanted) {
    std::string name = streams.name;
    streams.stdin_watched = loop_
                                .Add(streams.stdin_write.get(), EPOLLOUT,
                                     [this, name](uint32_t) {
                                       if (AppStreams* s = Find(name)) {
                                         FlushStdin(*s);
                                       }
                                     })
                                .has_value();
  } else {
    loop_.Remove(streams.stdin_write.get());
    streams.stdin_watched = false;
  }
}

void AppIo::WatchTerminal() {
  AppStreams* target = terminal_app_.empty() ? nullptr : Find(terminal_app_);
  bool wanted = foreground_.terminal_in >= 0 && !terminal_eof_ && target != nullptr &&
                StdinTarget(*target) >= 0 && target->stdin_pending.size() < kMaxStdinQueue;
  if (wanted == terminal_watched_) {
    return;
  }
  if (!wanted) {
    loop_.Remove(foreground_.terminal_in);
    terminal_watched_ = false;
    return;
  }
  auto added = loop_.Add(foreground_.terminal_in, EPOLLIN, [this](uint32_t) { OnTerminalInput(); });
  if (!added && added.error().code() == EPERM) {
    // A regular file (or /dev/zero) as stdin cannot be polled, but its reads never block: read
    // what fits in the app's queue, a bounded number of chunks per pass so that the loop's
    // other work is not starved by an app that reads as fast as we write; the next pass comes
    // from a timer, or from FlushStdin as the queue drains (the flag stops the recursion
    // through QueueStdin).
    if (!terminal_reading_file_ && terminal_resume_ == 0) {
      terminal_reading_file_ = true;
      for (size_t chunks = 0; chunks < kMaxStdinQueue / kReadChunk && !terminal_eof_ &&
                              Find(terminal_app_) != nullptr &&
                              Find(terminal_app_)->stdin_pending.size() < kMaxStdinQueue;
           ++chunks) {
        OnTerminalInput();
      }
      terminal_reading_file_ = false;
      if (!terminal_eof_ && Find(terminal_app_) != nullptr) {
        terminal_resume_ = loop_.AddTimer(std::chrono::milliseconds(1), [this] {
          terminal_resume_ = 0;
          WatchTerminal();
        });
      }
    }
    return;
  }
  if (!added) {
    log::Warning("forwarding stdin: {}", added.error().ToString());
    terminal_eof_ = true;
    CloseStdin(*target);  // the app sees end of file rather than waiting for ever
    return;
  }
  terminal_watched_ = true;
}

void AppIo::OnTerminalInput() {
  AppStreams* target = Find(terminal_app_);
  if (target == nullptr) {
    WatchTerminal();
    return;
  }
  std::array<char, kReadChunk> buffer{};
  ssize_t n = ::read(foreground_.terminal_in, buffer.data(), buffer.size());
  if (n > 0) {
    QueueStdin(*target, std::string_view(buffer.data(), static_cast<size_t>(n)));
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return;
  }
  terminal_eof_ = true;
  WatchTerminal();
  CloseStdin(*target);
}

void AppIo::TerminalResized() {
  AppStreams* target = terminal_app_.empty() ? nullptr : Find(terminal_app_);
  if (target != nullptr && target->master) {
    SetWindowSize(target->master.get(), foreground_.terminal_out);
  }
}

void AppIo::RestoreTerminal() {
  if (terminal_raw_) {
    (void)::tcsetattr(foreground_.terminal_in, TCSADRAIN, &saved_termios_);
    terminal_raw_ = false;
  }
}

void AppIo::Shutdown() {
  for (auto& [name, streams] : apps_) {
    DrainOutput(*streams);
    CloseOutput(*streams);
    LaunchFailed(name);
    if (streams->stdin_watched) {
      loop_.Remove(streams->stdin_write.get());
      streams->stdin_watched = false;
    }
    for (auto& [id, client] : streams->clients) {
      client.connection->FlushNow();
    }
  }
  apps_.clear();
  terminal_app_.clear();
  if (terminal_resume_ != 0) {
    loop_.CancelTimer(terminal_resume_);
    terminal_resume_ = 0;
  }
  WatchTerminal();
  RestoreTerminal();
}

}  // namespace comet::supervisor
