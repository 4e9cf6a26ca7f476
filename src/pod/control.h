// The supervisor's control socket (<pod>/ctl, a unix stream socket): the wire format shared by
// the supervisor (server) and comet's commands (clients), and the client calls. Blocking client
// calls; not thread-safe per connection.
//
// Everything on the socket is a frame: 1 byte type, 4 bytes big-endian payload length (at most
// kMaxFramePayload), the payload. A connection starts with one kRequest frame (JSON; it never
// carries file descriptors: a request with any is refused, since a client's own fds must never
// reach a container process, which could reopen them through /proc/<pid>/fd with new flags);
// the supervisor answers with one kReply frame (JSON; for an exec with a tty it carries the pty
// master, SCM_RIGHTS with the frame's first byte). exec and attach then stream: kStdin and
// kStdinClose (and kResize for attach) from the client, kStdout/kStderr and a final kExit (JSON
// {"exit_code":N}) from the supervisor. A non-tty exec runs on pipes of the supervisor's, which
// relays them as these frames; the exec with a tty is copied by the client through its master.
// The supervisor never blocks on a client: output queued for a slow client is bounded (an exec's
// output pipe is then not read, an attach client is dropped), and so is unread stdin.
#ifndef COMET_POD_CONTROL_H_
#define COMET_POD_CONTROL_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "os/unique_fd.h"
#include "pod/manifest.h"

namespace comet::pod {

inline constexpr size_t kMaxFramePayload = 1 << 20;
inline constexpr size_t kMaxFrameFds = 3;

enum class FrameType : uint8_t {
  kRequest = 'R',
  kReply = 'A',
  kStdin = 'I',
  kStdinClose = 'C',
  kResize = 'W',  // payload: "<rows> <cols>"
  kStdout = 'O',
  kStderr = 'E',
  kExit = 'X',
};

struct Frame {
  FrameType type = FrameType::kRequest;
  std::string payload;
  std::vector<os::UniqueFd> fds;  // received with the frame (close-on-exec)
};

// Writes one frame (one sendmsg when `fds` is not empty; MSG_NOSIGNAL). Blocking.
[[nodiscard]] Status WriteFrame(int socket, FrameType type, std::string_view payload,
                                const std::vector<int>& fds = {});
// The bytes of one frame (for non-blocking writers that queue them).
[[nodiscard]] std::string EncodeFrame(FrameType type, std::string_view payload);
// Reads one frame, blocking. NotFound-free: end of stream before a frame is ECONNRESET with a
// clear message; a payload over kMaxFramePayload or an unknown type is EPROTO.
[[nodiscard]] Result<Frame> ReadFrame(int socket);

// Incremental decoding for a non-blocking reader (the supervisor): feed bytes (and the fds that
// arrived with them) as they come, take whole frames out.
class FrameDecoder {
 public:
  void Feed(std::string_view bytes, std::vector<os::UniqueFd> fds = {});
  // The next complete frame; nullopt when more bytes are needed; an error (EPROTO) for a
  // malformed stream, after which the connection should be dropped.
  [[nodiscard]] Result<std::optional<Frame>> Next();

 private:
  std::string buffer_;
  std::vector<os::UniqueFd> fds_;
};

enum class ControlOp { kStop, kAppAdd, kAppStart, kAppStop, kAppRemove, kExec, kAttach };

struct ExecRequest {
  std::vector<std::string> args;  // never empty
  std::vector<std::string> env;   // KEY=VALUE added to the app's env
  std::string cwd;                // empty: the app's
  std::string user;               // "uid[:gid]" or a name; empty: the app's
  bool tty = false;               // a pty; its master comes back with the reply
  bool interactive = false;       // stdin forwarded (kStdin frames or the pty); else /dev/null
  uint16_t rows = 0;
  uint16_t cols = 0;
};

// A request (no fds travel with it).
struct ControlRequest {
  ControlOp op = ControlOp::kStop;
  std::string app;                      // kApp*, kExec, kAttach
  std::chrono::milliseconds grace{-1};  // kStop, kAppStop; negative: the pod's default
  std::optional<App> new_app;           // kAppAdd (resolved by the CLI)
  ExecRequest exec;                     // kExec
  bool attach_stdin = false;            // kAttach: forward stdin to the app
};

struct ControlReply {
  bool ok = false;
  std::string error;  // when !ok
  int code = 0;       // when !ok: the errno-style code of the error (0: unknown)
  pid_t pid = 0;      // kExec: the process's pid
  bool tty = false;   // kAttach: the app has a pty (stdout only, raw terminal wanted)
};

// kExit and kResize payloads.
[[nodiscard]] std::string EncodeExit(int exit_code);
[[nodiscard]] Result<int> DecodeExit(std::string_view text);
struct WindowSize {
  uint16_t rows = 0;
  uint16_t cols = 0;
};
[[nodiscard]] std::string EncodeResize(WindowSize size);
[[nodiscard]] Result<WindowSize> DecodeResize(std::string_view payload);

[[nodiscard]] std::string EncodeRequest(const ControlRequest& request);
[[nodiscard]] Result<ControlRequest> DecodeRequest(std::string_view text);
[[nodiscard]] std::string EncodeReply(const ControlReply& reply);
[[nodiscard]] Result<ControlReply> DecodeReply(std::string_view text);

// How long a client waits for the supervisor to accept, read the request and reply (a wedged
// supervisor must not hang `comet stop`).
inline constexpr std::chrono::milliseconds kDefaultReplyTimeout{5000};

// Connects to <pod_dir>/ctl (through /proc/self/fd/<dirfd>/ctl, so long paths work). A missing
// socket or a refused connection is an error saying that the pod's supervisor is not running.
// The socket gets send/receive timeouts of `timeout` (a connect that waits longer, on a full
// backlog, is ETIMEDOUT) until AwaitReply clears them.
[[nodiscard]] Result<os::UniqueFd> ConnectControl(
    const std::string& pod_dir, std::chrono::milliseconds timeout = kDefaultReplyTimeout);

// Waits at most `timeout` for the reply frame (ETIMEDOUT with a clear message after), stores
// it (with its fds) in *frame, clears the socket's timeouts for what streams next and turns a
// reply with ok=false into an error carrying its text.
[[nodiscard]] Result<ControlReply> AwaitReply(int socket, std::chrono::milliseconds timeout,
                                              Frame* frame);

// One request/reply exchange on a fresh connection (stop, app add/start/stop/rm). A reply with
// ok=false becomes an error carrying its text; no reply within `reply_timeout` is ETIMEDOUT.
// kAppStop replies once the app exited: give it more than its grace period.
[[nodiscard]] Result<ControlReply> CallControl(
    const std::string& pod_dir, const ControlRequest& request,
    std::chrono::milliseconds reply_timeout = kDefaultReplyTimeout);

// Parses a detach sequence ("ctrl-p,ctrl-q", "a,ctrl-@", "ctrl-[") into the bytes it stands
// for (0x10 0x11). Empty text: no sequence.
[[nodiscard]] Result<std::string> ParseDetachKeys(std::string_view text);

struct StreamOptions {
  // Detach sequence (docker's/podman's syntax: "ctrl-p,ctrl-q"); empty: none. Attach only.
  std::string detach_keys = "ctrl-p,ctrl-q";
  int stdin_fd = 0;
  int stdout_fd = 1;
  int stderr_fd = 2;
  // The connecting and reply phase only; the stream afterwards has no time limit.
  std::chrono::milliseconds reply_timeout = kDefaultReplyTimeout;
};

// `comet exec`/`enter`: runs request in the app and copies its stdio to and from this process's
// (options' fds): as frames on the connection, or through the pty master when request.tty (the
// local terminal is put in raw mode and restored, SIGWINCH forwarded). Returns the process's
// exit code. Connecting and the reply wait at most options.reply_timeout (ETIMEDOUT).
[[nodiscard]] Result<int> ExecInApp(const std::string& pod_dir, const std::string& app,
                                    const ExecRequest& request, const StreamOptions& options);

// `comet attach`: copies the app's output to stdout/stderr and, when `attach_stdin`, stdin to
// the app, until the app exits (returns its exit code), the detach keys are typed or stdin ends
// without attach_stdin... (returns nullopt: detached).
[[nodiscard]] Result<std::optional<int>> AttachToApp(const std::string& pod_dir,
                                                     const std::string& app, bool attach_stdin,
                                                     const StreamOptions& options);

}  // namespace comet::pod

#endif  // COMET_POD_CONTROL_H_
