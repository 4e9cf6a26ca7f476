// Layer downloads for Pull: a pool of worker threads takes layers in manifest order; each one
// streams its blob straight from the registry into the store's BlobWriter (no buffering),
// resumes an earlier partial download, retries transient failures with backoff, and unpacks the
// layer tree right away so that unpacking overlaps the other downloads.
// Thread-safe: all shared state is the atomics and the mutex of one LayerPuller.
#include "image/registry/pull_layers.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "image/layer_trees.h"

namespace comet::image::registry {
namespace {

// Retries after the first attempt, and the first pause (doubled each time): a registry that
// restarts or a connection reset mid-blob costs seconds, not the pull.
constexpr int kMaxRetries = 3;
constexpr std::chrono::milliseconds kFirstBackoff{500};
// Progress events at most every this many bytes per blob (and at the end).
constexpr uint64_t kProgressStep = 1U << 20U;

struct LayerJob {
  const Descriptor* layer;
  const Digest* diff_id;
};

// Transfer failures a new attempt may fix (client.cc/http.cc error codes): a reset or cut
// connection, a registry that is restarting, a stall. HTTP errors, refusals and bad content are
// final (the client already retried 429/5xx before any byte arrived).
bool IsTransient(const Error& error) {
  switch (error.code()) {
    case ECONNRESET:
    case ECONNREFUSED:
    case ETIMEDOUT:
    case EIO:
      return true;
    default:
      return false;
  }
}

class LayerPuller {
 public:
  LayerPuller(Store& store, RegistryClient& client, const PullOptions& options,
              std::vector<LayerJob> jobs)
      : store_(store), client_(client), options_(options), jobs_(std::move(jobs)) {}

  Status Run() {
    const size_t workers =
        std::min(jobs_.size(), static_cast<size_t>(std::max(options_.parallel_downloads, 1)));
    {
      std::vector<std::jthread> threads;
      threads.reserve(workers);
      for (size_t i = 0; i < workers; ++i) {
        threads.emplace_back([this] { Work(); });
      }
    }  // joined here
    if (error_) {
      return Err(std::move(*error_));
    }
    return Ok();
  }

 private:
  // Attempt outcome beyond the Status: whether the failure was ours (disk, cancellation) rather
  // than the transfer's, and whether the partial content can never verify.
  struct Attempt {
    bool local_failure = false;
    bool discard = false;
  };

  void Work() {
    while (!cancelled_.load()) {
      const size_t i = next_.fetch_add(1);
      if (i >= jobs_.size()) {
        return;
      }
      Status status = PullOne(jobs_[i]);
      if (!status) {
        Fail(std::move(status).error());
      }
    }
  }

  void Fail(Error error) {
    const std::lock_guard lock(mu_);
    // The first error is the cause; the others are mostly "cancelled" echoes of it.
    if (!error_) {
      error_ = std::move(error);
    }
    cancelled_.store(true);
    cv_.notify_all();
  }

  // Sleeps for `delay` unless the pull is cancelled first; false when cancelled.
  bool Backoff(std::chrono::milliseconds delay) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, delay, [this] { return cancelled_.load(); });
  }

  void Emit(PullEvent::Kind kind, const std::string& digest, uint64_t done, uint64_t total) const {
    if (options_.progress) {
      options_.progress(PullEvent{kind, digest, done, total});
    }
  }

  Status PullOne(const LayerJob& job) {
    const Descriptor& layer = *job.layer;
    const std::string digest = layer.digest.ToString();
    const auto size = static_cast<uint64_t>(layer.size);
    if (!store_.HasBlob(layer.digest)) {
      RETURN_IF_ERROR_CTX(Download(layer), "layer " + digest);
    }
    Emit(PullEvent::Kind::kBlobDone, digest, size, size);
    if (options_.unpack_layers) {
      if (cancelled_.load()) {
        return Err(Error(ECANCELED, "pull cancelled"));
      }
      if (!store_.HasLayer(*job.diff_id)) {
        // Its errors name the layer already.
        RETURN_IF_ERROR(EnsureLayerTree(store_, layer, *job.diff_id, options_.unpack));
      }
      Emit(PullEvent::Kind::kLayerUnpacked, digest, size, size);
    }
    return Ok();
  }

  Status Download(const Descriptor& layer) {
    std::chrono::milliseconds backoff = kFirstBackoff;
    for (int attempt = 0;; ++attempt) {
      bool retryable = false;
      uint64_t kept = 0;
      Status status = DownloadOnce(layer, retryable, kept);
      if (status || !retryable || cancelled_.load() || attempt >= kMaxRetries) {
        if (!status && retryable) {
          return Err(std::move(status).error().AddContext(fmt::format(
              "downloading (gave up after {} attempts; {} of {} bytes kept for a later pull)",
              attempt + 1, kept, layer.size)));
        }
        return status;
      }
      log::Info("retrying {} in {} ms: {}", layer.digest.ToString(), backoff.count(),
                status.error().ToString());
      if (!Backoff(backoff)) {
        return Err(Error(ECANCELED, "pull cancelled"));
      }
      backoff *= 2;
    }
  }

  // One attempt: the writer (and its lock) lives only for it, so that another process may
  // finish the blob while we back off, and the next attempt resumes from what is on disk.
  // `retryable` is set for transfer failures a new attempt may fix, `kept` to the bytes left in
  // the partial file.
  Status DownloadOnce(const Descriptor& layer, bool& retryable, uint64_t& kept) {
    bool bad_resume = false;
    Status status = DownloadPass(layer, retryable, kept, bad_resume);
    if (status || !bad_resume) {
      return status;
    }
    // A resumed partial that fails verification may hold a bad prefix (from an earlier, broken
    // download): Commit removed it, so one download from byte zero can still succeed.
    log::Warning("resumed download of {} did not verify ({}); downloading it from the start",
                 layer.digest.ToString(), status.error().ToString());
    return DownloadPass(layer, retryable, kept, bad_resume);
  }

  // One transfer into the store's partial file, resuming it; `bad_resume` is set when it
  // resumed and the whole then failed verification (the store removed the partial file).
  Status DownloadPass(const Descriptor& layer, bool& retryable, uint64_t& kept, bool& bad_resume) {
    ASSIGN_OR_RETURN(BlobWriter writer, store_.BeginBlob(layer.digest, layer.size));
    if (writer.done()) {
      return Ok();
    }
    const bool resumed = writer.offset() > 0;
    Attempt attempt;
    Status fetched = Transfer(layer, writer, attempt);
    if (!fetched) {
      if (attempt.discard) {
        writer.Discard();
      }
      // Our own failures (disk full, cancelled) and the registry's refusals are final; the
      // partial file stays for a later pull to resume.
      retryable = !attempt.local_failure && !attempt.discard && IsTransient(fetched.error());
      kept = attempt.discard ? 0 : writer.offset();
      return fetched;
    }
    // Verifies size and digest; a mismatch removes the partial file, so it is never retried
    // into the same bad content.
    auto committed = writer.Commit();
    if (!committed) {
      bad_resume = resumed && committed.error().code() == EINVAL;  // a digest mismatch
      return Err(std::move(committed).error());
    }
    return Ok();
  }

  Status Transfer(const Descriptor& layer, BlobWriter& writer, Attempt& attempt) {
    const std::string digest = layer.digest.ToString();
    const auto size = static_cast<uint64_t>(layer.size);
    uint64_t position = writer.offset();
    uint64_t reported = position;
    if (position > 0) {
      log::Debug("resuming {} at byte {}", digest, position);
    }
    Emit(PullEvent::Kind::kBlobStarted, digest, position, size);
    auto on_restart = [&]() -> Status {
      position = 0;
      reported = 0;
      Status status = writer.Restart();
      attempt.local_failure = !status;
      return status;
    };
    auto sink = [&](std::string_view data) -> Status {
      if (cancelled_.load()) {
        attempt.local_failure = true;
        return Err(Error(ECANCELED, "pull cancelled"));
      }
      if (data.size() > size - position) {
        // A hostile or broken server must not fill the disk; what it sent cannot verify.
        attempt.discard = true;
        return Err(Error::Invalid(
            fmt::format("registry sent more than the {} bytes of {}", size, digest)));
      }
      Status status = writer.Write(data);
      if (!status) {
        attempt.local_failure = true;
        return status;
      }
      position += data.size();
      if (position - reported >= kProgressStep || position == size) {
        reported = position;
        Emit(PullEvent::Kind::kBlobProgress, digest, position, size);
      }
      return Ok();
    };
    auto fetched =
        client_.StreamBlob(layer.digest, position, on_restart, sink, [](uint64_t /*received*/) {});
    if (!fetched) {
      return Err(std::move(fetched).error());
    }
    return Ok();
  }

  Store& store_;
  RegistryClient& client_;
  const PullOptions& options_;
  const std::vector<LayerJob> jobs_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Error> error_;  // guarded by mu_ while workers run
};

bool IsForeignMediaType(std::string_view media_type) {
  return media_type.find("foreign") != std::string_view::npos ||
         media_type.find("nondistributable") != std::string_view::npos;
}

}  // namespace

Status CheckLayersFetchable(const Manifest& manifest, bool unpack) {
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const Descriptor& layer = manifest.layers[i];
    // Fetching from the hosts in `urls` would contact servers the user never named, and the
    // registry does not hold such layers (Windows base layers are the usual case).
    if (IsForeignMediaType(layer.media_type) && !layer.urls.empty()) {
      return Err(Error::Invalid(fmt::format("layers[{}] ({}): foreign layers are not supported", i,
                                            layer.digest.ToString())));
    }
    if (unpack) {
      auto compression = LayerCompression(layer.media_type);
      if (!compression) {
        return Err(std::move(compression)
                       .error()
                       .AddContext(fmt::format("layers[{}] ({})", i, layer.digest.ToString())));
      }
    }
  }
  return Ok();
}

Status PullLayers(Store& store, RegistryClient& client, const Manifest& manifest,
                  const ImageConfig& config, const PullOptions& options) {
  // A blob listed twice is fetched once (a worker would otherwise wait on the other's lock).
  std::vector<LayerJob> jobs;
  std::set<Digest> seen;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    if (seen.insert(manifest.layers[i].digest).second) {
      jobs.push_back(LayerJob{&manifest.layers[i], &config.diff_ids[i]});
    }
  }
  LayerPuller puller(store, client, options, std::move(jobs));
  return puller.Run();
}

}  // namespace comet::image::registry
