// A --console-socket listener for one container create or exec: a unix socket the runtime
// connects to and sends the pty master through (runtime/console.h). Paths too long for
// sun_path are bound through /proc/self/fd/<dir fd> and handed out as /proc/<pid>/fd/<dir fd>.
// Single-threaded.
#ifndef COMET_SUPERVISOR_CONSOLE_LISTENER_H_
#define COMET_SUPERVISOR_CONSOLE_LISTENER_H_

#include <string>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::supervisor {

class ConsoleListener {
 public:
  // Listens on <dir>/<name> (a stale socket there is replaced).
  [[nodiscard]] static Result<ConsoleListener> Create(const std::string& dir,
                                                      const std::string& name);
  ConsoleListener() = default;
  ConsoleListener(const ConsoleListener&) = delete;
  ConsoleListener& operator=(const ConsoleListener&) = delete;
  ConsoleListener(ConsoleListener&&) = default;
  ConsoleListener& operator=(ConsoleListener&&) = default;
  ~ConsoleListener();  // removes the socket file

  // What to pass as console_socket.
  [[nodiscard]] const std::string& path() const { return path_; }
  // The pty master the runtime sent (it must have been sent already: the runtime sends it
  // before create/exec returns). Close-on-exec, non-blocking.
  [[nodiscard]] Result<os::UniqueFd> TakeMaster();

 private:
  os::UniqueFd dir_;
  os::UniqueFd listener_;
  std::string name_;
  std::string path_;
};

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_CONSOLE_LISTENER_H_
