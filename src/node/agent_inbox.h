// AgentInbox: how the agent's other threads (probe workers, pod operations) hand results to its
// loop: a queue behind a mutex and an eventfd(2) the loop polls. Thread-safe.
#ifndef COMET_NODE_AGENT_INBOX_H_
#define COMET_NODE_AGENT_INBOX_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "node/probe_worker.h"
#include "os/unique_fd.h"

namespace comet::node {

struct AgentMessage {
  enum class Kind { kProbe, kOperationDone };
  Kind kind = Kind::kProbe;
  std::string pod_key;
  ProbeUpdate probe;          // kProbe
  uint64_t operation_id = 0;  // kOperationDone
};

class AgentInbox {
 public:
  [[nodiscard]] static Result<AgentInbox> Create();

  // Queues a message and wakes the loop.
  void Post(AgentMessage message);
  // Everything queued, oldest first; clears the eventfd.
  [[nodiscard]] std::vector<AgentMessage> Take();
  // Readable while messages wait.
  [[nodiscard]] int fd() const { return event_.get(); }

 private:
  explicit AgentInbox(os::UniqueFd event) : event_(std::move(event)) {}

  os::UniqueFd event_;
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();  // movable inbox
  std::vector<AgentMessage> queue_;
};

}  // namespace comet::node

#endif  // COMET_NODE_AGENT_INBOX_H_
