// Control socket frames (SCM_RIGHTS with the first byte), the blocking client connection and the
// one-shot request/reply call. See control.h for the wire format.
#include "pod/control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <span>

#include <fmt/format.h>

#include "pod/pod_dir.h"

namespace comet::pod {
namespace {

constexpr size_t kHeaderSize = 5;

bool IsKnownType(uint8_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kRequest:
    case FrameType::kReply:
    case FrameType::kStdin:
    case FrameType::kStdinClose:
    case FrameType::kResize:
    case FrameType::kStdout:
    case FrameType::kStderr:
    case FrameType::kExit:
      return true;
  }
  return false;
}

void PutHeader(char* out, FrameType type, size_t size) {
  out[0] = static_cast<char>(type);
  auto length = static_cast<uint32_t>(size);
  out[1] = static_cast<char>((length >> 24) & 0xff);
  out[2] = static_cast<char>((length >> 16) & 0xff);
  out[3] = static_cast<char>((length >> 8) & 0xff);
  out[4] = static_cast<char>(length & 0xff);
}

// Validates a header; returns the payload length.
Result<size_t> ParseHeader(const char* header) {
  auto type = static_cast<uint8_t>(header[0]);
  if (!IsKnownType(type)) {
    return Err(Error(EPROTO, fmt::format("control frame: unknown type 0x{:02x}", type)));
  }
  size_t length = 0;
  for (size_t i = 1; i < kHeaderSize; ++i) {
    length = (length << 8) | static_cast<uint8_t>(header[i]);
  }
  if (length > kMaxFramePayload) {
    return Err(Error(EPROTO, fmt::format("control frame: payload of {} bytes exceeds {}", length,
                                         kMaxFramePayload)));
  }
  return length;
}

// Receives exactly `size` bytes (blocking), collecting any passed fds into `fds`.
Status ReceiveExactly(int socket, std::span<char> data, std::vector<os::UniqueFd>* fds) {
  size_t done = 0;
  while (done < data.size()) {
    iovec iov{data.data() + done, data.size() - done};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxFrameFds)> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("recvmsg", "control socket"));
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
        continue;
      }
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds->emplace_back(fd);
      }
    }
    if ((msg.msg_flags & MSG_CTRUNC) != 0 || fds->size() > kMaxFrameFds) {
      return Err(Error(EPROTO, "control frame: too many file descriptors"));
    }
    if (n == 0) {
      return Err(Error(ECONNRESET, "control connection closed by the peer"));
    }
    done += static_cast<size_t>(n);
  }
  return Ok();
}

// SO_SNDTIMEO and SO_RCVTIMEO (0: none).
Status SetSocketTimeouts(int socket, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  for (int option : {SO_SNDTIMEO, SO_RCVTIMEO}) {
    if (::setsockopt(socket, SOL_SOCKET, option, &tv, sizeof(tv)) != 0) {
      return Err(Error::FromErrno("setsockopt", "control socket"));
    }
  }
  return Ok();
}

}  // namespace

std::string EncodeFrame(FrameType type, std::string_view payload) {
  std::string out(kHeaderSize + payload.size(), '\0');
  PutHeader(out.data(), type, payload.size());
  std::memcpy(out.data() + kHeaderSize, payload.data(), payload.size());
  return out;
}

Status WriteFrame(int socket, FrameType type, std::string_view payload,
                  const std::vector<int>& fds) {
  if (payload.size() > kMaxFramePayload) {
    return Err(Error(EMSGSIZE, "control frame: payload too large"));
  }
  if (fds.size() > kMaxFrameFds) {
    return Err(Error::Invalid("control frame: too many file descriptors"));
  }
  std::array<char, kHeaderSize> header{};
  PutHeader(header.data(), type, payload.size());
  std::array<iovec, 2> iov{};
  iov[0] = {header.data(), header.size()};
  iov[1] = {const_cast<char*>(payload.data()), payload.size()};  // NOLINT: sendmsg reads only
  size_t total = header.size() + payload.size();
  size_t sent = 0;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxFrameFds)> control{};
  while (sent < total) {
    msghdr msg{};
    // Skip what was already sent.
    std::array<iovec, 2> rest{};
    size_t count = 0;
    size_t offset = sent;
    for (const iovec& part : iov) {
      if (offset >= part.iov_len) {
        offset -= part.iov_len;
        continue;
      }
      rest[count++] = {static_cast<char*>(part.iov_base) + offset, part.iov_len - offset};
      offset = 0;
    }
    msg.msg_iov = rest.data();
    msg.msg_iovlen = count;
    if (sent == 0 && !fds.empty()) {
      msg.msg_control = control.data();
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("sendmsg", "control socket"));
    }
    sent += static_cast<size_t>(n);
  }
  return Ok();
}

Result<Frame> ReadFrame(int socket) {
  Frame frame;
  std::array<char, kHeaderSize> header{};
  RETURN_IF_ERROR(ReceiveExactly(socket, header, &frame.fds));
  ASSIGN_OR_RETURN(size_t length, ParseHeader(header.data()));
  frame.type = static_cast<FrameType>(header[0]);
  frame.payload.resize(length);
  if (length > 0) {
    RETURN_IF_ERROR(ReceiveExactly(socket, frame.payload, &frame.fds));
  }
  return frame;
}

void FrameDecoder::Feed(std::string_view bytes, std::vector<os::UniqueFd> fds) {
  buffer_.append(bytes);
  for (os::UniqueFd& fd : fds) {
    fds_.push_back(std::move(fd));
  }
}

// Fds only travel with the first frame of each direction (the request, the reply), so the fds
// received so far belong to the next frame completed.
Result<std::optional<Frame>> FrameDecoder::Next() {
  if (fds_.size() > kMaxFrameFds) {
    return Err(Error(EPROTO, "control frame: too many file descriptors"));
  }
  if (buffer_.size() < kHeaderSize) {
    return std::optional<Frame>();
  }
  ASSIGN_OR_RETURN(size_t length, ParseHeader(buffer_.data()));
  if (buffer_.size() < kHeaderSize + length) {
    return std::optional<Frame>();
  }
  Frame frame;
  frame.type = static_cast<FrameType>(buffer_[0]);
  frame.payload = buffer_.substr(kHeaderSize, length);
  frame.fds = std::move(fds_);
  fds_.clear();
  buffer_.erase(0, kHeaderSize + length);
  return std::optional<Frame>(std::move(frame));
}

Result<os::UniqueFd> ConnectControl(const std::string& pod_dir, std::chrono::milliseconds timeout) {
  int dir = ::open(pod_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    return Err(Error::FromErrno("open", pod_dir));
  }
  os::UniqueFd dir_fd(dir);
  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    return Err(Error::FromErrno("socket", "unix"));
  }
  os::UniqueFd fd(sock);
  // A supervisor that stopped accepting leaves connect(2) (full backlog) and the request's
  // write waiting: SO_SNDTIMEO bounds both (EAGAIN). AwaitReply clears it.
  RETURN_IF_ERROR(SetSocketTimeouts(fd.get(), timeout));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = fmt::format("/proc/self/fd/{}/{}", dir_fd.get(), kControlSocket);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == EINTR) {
      continue;
    }
    int code = errno;
    std::string where = pod_dir + "/" + kControlSocket;
    if (code == EAGAIN) {
      return Err(Error(ETIMEDOUT, fmt::format("connecting to {}: the pod's supervisor did not "
                                              "accept the connection within {} ms",
                                              where, timeout.count())));
    }
    if (code == ENOENT || code == ECONNREFUSED) {
      return Err(
          Error(code, fmt::format("connecting to {}: the pod's supervisor is not running", where)));
    }
    return Err(Error::FromCode(code, "connect", where));
  }
  return fd;
}

Result<ControlReply> AwaitReply(int socket, std::chrono::milliseconds timeout, Frame* frame) {
  auto timed_out = [&] {
    return Err(Error(ETIMEDOUT, fmt::format("control socket: no reply from the pod's supervisor "
                                            "within {} ms (is it wedged?)",
                                            timeout.count())));
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return timed_out();
    }
    pollfd pfd{socket, POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n > 0) {
      break;
    }
    if (n < 0 && errno != EINTR) {
      return Err(Error::FromErrno("poll", "control socket"));
    }
  }
  // The rest of a started frame is bounded too (SO_RCVTIMEO: EAGAIN).
  RETURN_IF_ERROR(SetSocketTimeouts(socket, timeout));
  auto read = ReadFrame(socket);
  if (!read) {
    return read.error().code() == EAGAIN ? timed_out() : Err(std::move(read).error());
  }
  *frame = std::move(*read);
  // What follows (exec and attach streams) may be quiet for as long as it likes.
  RETURN_IF_ERROR(SetSocketTimeouts(socket, std::chrono::milliseconds(0)));
  if (frame->type != FrameType::kReply) {
    return Err(Error(EPROTO, "control socket: expected a reply frame"));
  }
  ASSIGN_OR_RETURN(ControlReply reply, DecodeReply(frame->payload));
  if (!reply.ok) {
    return Err(Error(reply.code > 0 ? reply.code : EIO, reply.error));
  }
  return reply;
}

Result<ControlReply> CallControl(const std::string& pod_dir, const ControlRequest& request,
                                 std::chrono::milliseconds reply_timeout) {
  ASSIGN_OR_RETURN(os::UniqueFd fd, ConnectControl(pod_dir, reply_timeout));
  auto sent = WriteFrame(fd.get(), FrameType::kRequest, EncodeRequest(request));
  if (!sent) {
    if (sent.error().code() == EAGAIN) {
      return Err(Error(ETIMEDOUT, "control socket: the pod's supervisor does not read requests"));
    }
    return Err(std::move(sent).error());
  }
  Frame frame;
  return AwaitReply(fd.get(), reply_timeout, &frame);
}

}  // namespace comet::pod
