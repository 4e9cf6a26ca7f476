// One control-socket connection inside the supervisor: non-blocking reads decoded into frames
// (with the fds that came along), and a bounded output queue flushed when the socket is
// writable, so that a slow or stuck client never blocks the event loop: when the queue would
// exceed its bound the connection is dropped. Single-threaded (event loop callbacks).
#ifndef COMET_SUPERVISOR_STREAM_CONNECTION_H_
#define COMET_SUPERVISOR_STREAM_CONNECTION_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "os/unique_fd.h"
#include "pod/control.h"
#include "supervisor/event_loop.h"

namespace comet::supervisor {

class StreamConnection {
 public:
  // Gets each frame; may destroy the connection.
  using FrameHandler = std::function<void(pod::Frame frame)>;
  // The connection ended (peer gone, I/O or protocol error, overflow, or CloseAfterFlush
  // completed). Runs from the event loop, never from inside Send(); the owner destroys the
  // connection there.
  using CloseHandler = std::function<void()>;

  // `socket` is a connected, non-blocking, close-on-exec stream socket.
  StreamConnection(EventLoop& loop, os::UniqueFd socket, size_t max_queued);
  ~StreamConnection();
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;
  StreamConnection(StreamConnection&&) = delete;
  StreamConnection& operator=(StreamConnection&&) = delete;

  // Starts (or rebinds) watching: frames go to `on_frame` (nullptr: input is not read, but a
  // hang-up is still noticed).
  [[nodiscard]] Status Start(FrameHandler on_frame, CloseHandler on_close);
  // Queues a frame (fds travel with its first byte: only for a connection's first frame).
  // Returns false when the connection is closing or the queue overflowed (then it closes).
  bool Send(pod::FrameType type, std::string_view payload, std::vector<os::UniqueFd> fds = {});
  // Stops reading; on_close runs once everything queued is written (or the peer is gone).
  void CloseAfterFlush();
  // One last non-blocking attempt to write what is queued (pod end).
  void FlushNow();
  // Stops (true) or resumes reading frames, for backpressure: the peer then waits on its full
  // socket. A peer that hangs up meanwhile still ends the connection.
  void PauseReading(bool paused);

  [[nodiscard]] int fd() const { return socket_.get(); }
  [[nodiscard]] size_t queued() const { return out_.size(); }

 private:
  void OnEvents(uint32_t events);
  // Returns false when the connection failed.
  bool ReadSome();
  bool WriteSome();
  // Hands decoded frames on; false when the connection failed or was destroyed meanwhile.
  bool DeliverFrames();
  void UpdateInterest();
  void Fail();  // closes soon (from a timer: never inside the caller's stack)

  EventLoop& loop_;
  os::UniqueFd socket_;
  size_t max_queued_;
  FrameHandler on_frame_;
  CloseHandler on_close_;
  pod::FrameDecoder decoder_;
  std::string out_;
  std::vector<os::UniqueFd> out_fds_;  // go with out_'s first byte
  bool registered_ = false;
  bool closing_ = false;  // CloseAfterFlush
  bool failed_ = false;
  bool close_reported_ = false;
  bool paused_ = false;
  EventLoop::TimerId resume_timer_ = 0;
  uint32_t interest_ = 0;
  EventLoop::TimerId fail_timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_STREAM_CONNECTION_H_
