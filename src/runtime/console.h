// The terminal side of a container: handing the pty master to a --console-socket listener (the
// protocol conmon and containerd speak: one message carrying the fd via SCM_RIGHTS).
#ifndef COMET_RUNTIME_CONSOLE_H_
#define COMET_RUNTIME_CONSOLE_H_

#include <string>

#include "base/result.h"

namespace comet::runtime {

[[nodiscard]] Status SendFdToSocket(const std::string& socket_path, int fd,
                                    const std::string& payload);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_CONSOLE_H_
