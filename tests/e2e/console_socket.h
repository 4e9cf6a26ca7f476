// ConsoleSocket: the receiving end of `--console-socket`: a listening unix socket that accepts
// the runtime's connection and takes the pty master it sends with SCM_RIGHTS. Not thread-safe.
#ifndef COMET_TESTS_E2E_CONSOLE_SOCKET_H_
#define COMET_TESTS_E2E_CONSOLE_SOCKET_H_

#include <string>

namespace comet::e2e {

class ConsoleSocket {
 public:
  // Listens on `path` (which must not exist).
  explicit ConsoleSocket(std::string path);
  ~ConsoleSocket();
  ConsoleSocket(const ConsoleSocket&) = delete;
  ConsoleSocket& operator=(const ConsoleSocket&) = delete;
  ConsoleSocket(ConsoleSocket&&) = delete;
  ConsoleSocket& operator=(ConsoleSocket&&) = delete;

  [[nodiscard]] bool listening() const { return listen_fd_ >= 0; }
  const std::string& path() const { return path_; }
  // Accepts one connection and returns the fd it carries, or -1 after `timeout_ms`. The caller
  // owns the returned fd.
  int ReceiveMaster(int timeout_ms) const;

 private:
  std::string path_;
  int listen_fd_ = -1;
};

// Reads from a pty master until EOF/EIO (the slave side closed) or `timeout_ms` passes.
std::string ReadPty(int master_fd, int timeout_ms);

}  // namespace comet::e2e

#endif  // COMET_TESTS_E2E_CONSOLE_SOCKET_H_
