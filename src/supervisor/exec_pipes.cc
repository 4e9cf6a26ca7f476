// The pipes of a non-tty exec (see exec_pipes.h). Single-threaded.
#include "supervisor/exec_pipes.h"

#include <fcntl.h>
#include <unistd.h>

#include "os/file.h"

namespace comet::supervisor {

Status MakeExecPipes(bool interactive, ExecPipes* pipes, std::array<os::UniqueFd, 3>* child) {
  auto make = [](os::UniqueFd* read_end, os::UniqueFd* write_end) -> Status {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
      return Err(Error::FromErrno("pipe2", "exec stdio"));
    }
    read_end->Reset(fds[0]);
    write_end->Reset(fds[1]);
    return Ok();
  };
  if (interactive) {
    RETURN_IF_ERROR(make(child->data(), &pipes->in));
  } else {
    ASSIGN_OR_RETURN((*child)[0], os::Open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  RETURN_IF_ERROR(make(&pipes->out, &(*child)[1]));
  RETURN_IF_ERROR(make(&pipes->err, &(*child)[2]));
  for (const os::UniqueFd* fd : {&pipes->in, &pipes->out, &pipes->err}) {
    if (*fd && ::fcntl(fd->get(), F_SETFL, O_NONBLOCK) != 0) {
      return Err(Error::FromErrno("fcntl", "exec stdio"));
    }
  }
  return Ok();
}

}  // namespace comet::supervisor
