// AgentInbox (see agent_inbox.h).
#include "node/agent_inbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace comet::node {

Result<AgentInbox> AgentInbox::Create() {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) {
    return Err(Error::FromErrno("eventfd"));
  }
  return AgentInbox(os::UniqueFd(fd));
}

void AgentInbox::Post(AgentMessage message) {
  {
    std::lock_guard lock(*mu_);
    queue_.push_back(std::move(message));
  }
  const uint64_t one = 1;
  // EAGAIN only when the counter is about to overflow: the loop is awake anyway.
  while (::write(event_.get(), &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

std::vector<AgentMessage> AgentInbox::Take() {
  uint64_t count = 0;
  while (::read(event_.get(), &count, sizeof(count)) < 0 && errno == EINTR) {
  }
  std::lock_guard lock(*mu_);
  std::vector<AgentMessage> out;
  out.swap(queue_);
  return out;
}

}  // namespace comet::node
