// Agent: creation, the poll loop and the inbox (see agent.h). The sync itself is in
// agent_sync.cc, pod operations in agent_ops.cc, probes in agent_probes.cc, gc in agent_gc.cc.
#include "node/agent.h"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include <fmt/format.h>

#include "base/log.h"
#include "os/file.h"

namespace comet::node {
namespace {

using std::chrono::milliseconds;

// Changes come in bursts (a unit's state changes several times while it starts; an editor
// writes a file in several steps): one sync a little later sees them all.
constexpr milliseconds kSettle{100};
// After a manifest event: files are only reported whole (closed or renamed in), so this only
// gathers the events of one burst (`mv *.yaml`) into one sync.
constexpr milliseconds kManifestSettle{20};
// Between syncs that a due restart brings on while systemd or the api-service does not answer.
constexpr milliseconds kRetryFailedSync{1000};

}  // namespace

Result<std::unique_ptr<Agent>> Agent::Create(AgentOptions options) {
  ASSIGN_OR_RETURN(ApiClient api, ApiClient::Connect(options.api_endpoint));
  ASSIGN_OR_RETURN(AgentInbox inbox, AgentInbox::Create());
  ASSIGN_OR_RETURN(ManifestWatch watch, ManifestWatch::Open(options.manifest_dir));
  RETURN_IF_ERROR_CTX(os::MkdirAll(options.root_dir, 0755), "--root-dir");
  // Snapshots of manifests a killed agent was preparing from (they may hold secrets).
  const std::string snapshots = os::JoinPath(options.root_dir, "manifests");
  RETURN_IF_ERROR(os::RemoveAll(snapshots));
  RETURN_IF_ERROR(os::MkdirAll(snapshots, 0700));
  return std::unique_ptr<Agent>(
      new Agent(std::move(options), std::move(api), std::move(inbox), std::move(watch)));
}

Agent::Agent(AgentOptions options, ApiClient api, AgentInbox inbox, ManifestWatch watch)
    : options_(std::move(options)),
      api_(std::move(api)),
      inbox_(std::move(inbox)),
      watch_(std::move(watch)),
      manifests_(options_.manifest_dir),
      runner_(options_.supervision.runner),
      events_(os::JoinPath(options_.root_dir, "events")) {}

Agent::~Agent() {
  for (auto& [key, record] : records_) {
    StopProbes(record);
  }
  retired_probes_.clear();  // joins them
  for (auto& [key, record] : records_) {
    if (record.operation && record.operation->thread.joinable()) {
      record.operation->thread.join();
    }
  }
}

Status Agent::EnsureSupervision() {
  if (supervision_) {
    return Ok();
  }
  ASSIGN_OR_RETURN(supervision_, OpenSupervision(options_.supervision));
  return supervision_->Subscribe([this](const std::string& unit) {
    // Only pod units matter; a change settles before the sync that looks at it.
    if (unit.rfind("k8s_", 0) == 0) {
      sync_due_ = std::min(sync_due_, Clock::now() + kSettle);
    }
  });
}

Agent::Clock::time_point Agent::NextWake() const {
  Clock::time_point wake = std::min(sync_due_, next_resync_);
  for (const auto& [key, record] : records_) {
    if (record.restart_pending && !record.operation) {
      // Not sooner than a settle after the last sync (a restart the sync could not make yet
      // must not spin the loop).
      wake = std::min(wake, std::max(record.restart_at, last_sync_ + RestartGap()));
    }
  }
  return wake;
}

Agent::Clock::duration Agent::RestartGap() const {
  return last_sync_failed_ ? Clock::duration(kRetryFailedSync) : Clock::duration(kSettle);
}

void Agent::SyncIfDue() {
  const Clock::time_point now = Clock::now();
  if (now >= next_resync_) {
    // The periodic resync: every pod, the manifests re-read, a lost directory watched again.
    manifests_dirty_ = true;
    (void)watch_.Rearm();
    next_resync_ = now + options_.sync_frequency;
    sync_due_ = now;
  }
  const bool restart_due =
      now >= last_sync_ + RestartGap() &&
      std::any_of(records_.begin(), records_.end(), [&](const auto& r) {
        return r.second.restart_pending && !r.second.operation && now >= r.second.restart_at;
      });
  if (now >= sync_due_ || restart_due) {
    sync_due_ = Clock::time_point::max();
    last_sync_ = now;
    Sync();
  }
  if (supervision_) {
    if (Status processed = supervision_->Process(); !processed) {
      log::Warning("{}; connecting again at the next sync", processed.error().ToString());
      supervision_.reset();
    }
  }
}

Result<bool> Agent::WaitAndHandle(int stop_fd) {
  std::array<pollfd, 4> fds{};
  fds[0] = {stop_fd, POLLIN, 0};
  fds[1] = {inbox_.fd(), POLLIN, 0};
  fds[2] = {watch_.fd(), POLLIN, 0};
  fds[3] = {supervision_ ? supervision_->fd() : -1,
            static_cast<short>(supervision_ ? supervision_->events() : 0), 0};
  const auto wait = std::chrono::duration_cast<milliseconds>(NextWake() - Clock::now());
  const int timeout = static_cast<int>(std::clamp<int64_t>(wait.count() + 1, 0, 60'000));
  if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
    return Err(Error::FromErrno("poll"));
  }
  if (fds[0].revents != 0) {
    return false;
  }
  if (fds[1].revents != 0) {
    HandleMessages();
  }
  ReapProbes();
  if (fds[2].revents != 0) {
    auto changed = watch_.Drain();
    if (!changed) {
      log::Warning("{}", changed.error().ToString());
    } else if (*changed) {
      manifests_dirty_ = true;
      sync_due_ = std::min(sync_due_, Clock::now() + kManifestSettle);
    }
  }
  return true;
}

Status Agent::Run(int stop_fd) {
  if (Status st = EnsureSupervision(); !st) {
    return Err(std::move(st).error().AddContext("pod supervision"));
  }
  log::Info("supervising pods with {}; manifests in {}; api-service at {}", supervision_->name(),
            options_.manifest_dir, options_.api_endpoint);
  sync_due_ = Clock::now();
  next_resync_ = Clock::now();
  while (true) {
    SyncIfDue();
    ASSIGN_OR_RETURN(bool go_on, WaitAndHandle(stop_fd));
    if (!go_on) {
      break;
    }
  }
  for (auto& [key, record] : records_) {
    StopProbes(record);
  }
  return Ok();
}

void Agent::HandleMessages() {
  for (AgentMessage& message : inbox_.Take()) {
    switch (message.kind) {
      case AgentMessage::Kind::kProbe:
        HandleProbe(message.probe);
        break;
      case AgentMessage::Kind::kOperationDone:
        FinishOperation(message.pod_key, message.operation_id);
        break;
    }
  }
}

bool Agent::WaitForOperations(milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    HandleMessages();
    const bool busy = std::any_of(records_.begin(), records_.end(),
                                  [](const auto& r) { return r.second.operation != nullptr; });
    if (!busy) {
      return true;
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd fd{inbox_.fd(), POLLIN, 0};
    (void)::poll(&fd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
  }
}

}  // namespace comet::node
