// v1alpha.PublicAPI over the catalogs and the pods' logs. Each handler is wrapped by Guarded, the
// catch-all the conventions allow at gRPC handlers: a bug answers INTERNAL, never a crash.
#include "api/service.h"

#include <cstring>
#include <exception>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "api/event_stream.h"
#include "api/service_logs.h"
#include "api/status_mapping.h"
#include "base/strings.h"
#include "pod/pod_dir.h"

namespace comet::api {
namespace {

using Clock = std::chrono::system_clock;

template <typename Handler>
grpc::Status Guarded(const char* method, Handler&& handler) {
  try {
    return handler();
  } catch (const std::exception& e) {
    return {grpc::StatusCode::INTERNAL, fmt::format("{}: internal error: {}", method, e.what())};
  } catch (...) {
    return {grpc::StatusCode::INTERNAL, fmt::format("{}: internal error", method)};
  }
}

grpc::Status InvalidArgument(const std::string& message) {
  return {grpc::StatusCode::INVALID_ARGUMENT, message};
}

// A Unix time in seconds from a request; 0 means "not set" in proto3.
std::optional<Clock::time_point> RequestTime(int64_t seconds) {
  if (seconds == 0) {
    return std::nullopt;
  }
  return Clock::time_point(std::chrono::seconds(seconds));
}

// Checks GetLogs' numbers before anything is read.
grpc::Status ValidateLogRequest(const v1alpha::GetLogsRequest& request) {
  if (request.pod_id().empty()) {
    return InvalidArgument("pod_id: required");
  }
  if (request.lines() < 0 || request.lines() > kMaxLogLines) {
    return InvalidArgument(
        fmt::format("lines {} out of range [0, {}] (0: all)", request.lines(), kMaxLogLines));
  }
  // Bounded so that the conversion to nanoseconds cannot overflow (year 2262).
  constexpr int64_t kMaxSeconds = int64_t{9} * 1000 * 1000 * 1000;
  if (request.since_time() < 0 || request.since_time() > kMaxSeconds) {
    return InvalidArgument(fmt::format("since_time {} out of range", request.since_time()));
  }
  if (request.until_time() < 0 || request.until_time() > kMaxSeconds) {
    return InvalidArgument(fmt::format("until_time {} out of range", request.until_time()));
  }
  if (request.until_time() != 0 && request.until_time() < request.since_time()) {
    return InvalidArgument(fmt::format("until_time {} is before since_time {}",
                                       request.until_time(), request.since_time()));
  }
  return grpc::Status::OK;
}

// One of the running follows, counted from construction to the end of the call; `taken()` is
// false when `limit` were running already (the count is then left as it was).
class FollowSlot {
 public:
  FollowSlot(std::atomic<int>& count, int limit)
      : count_(count), taken_(count.fetch_add(1) < limit) {
    if (!taken_) {
      --count_;
    }
  }
  ~FollowSlot() {
    if (taken_) {
      --count_;
    }
  }
  [[nodiscard]] bool taken() const { return taken_; }
  FollowSlot(const FollowSlot&) = delete;
  FollowSlot& operator=(const FollowSlot&) = delete;
  FollowSlot(FollowSlot&&) = delete;
  FollowSlot& operator=(FollowSlot&&) = delete;

 private:
  std::atomic<int>& count_;
  const bool taken_;
};

// The serialized ListPodsResponse `wire` holds, as one slice: a single piece (an unfiltered
// answer) is lent to gRPC as it is, kept alive until gRPC has sent it; several are copied.
grpc::ByteBuffer WireResponse(PodCatalog::WirePods wire) {
  using Keep = std::shared_ptr<const void>;
  if (wire.pieces.size() == 1) {
    const std::string_view piece = wire.pieces.front();
    auto keep = std::make_unique<Keep>(std::move(wire.keep));
    // gRPC only reads an outgoing slice; the pointer is non-const in its API only.
    grpc::Slice lent(
        const_cast<char*>(piece.data()), piece.size(),
        [](void* kept) { std::unique_ptr<Keep> drop(static_cast<Keep*>(kept)); }, keep.release());
    return {&lent, 1};
  }
  grpc_slice slice = grpc_slice_malloc(wire.bytes);
  uint8_t* at = GRPC_SLICE_START_PTR(slice);
  for (std::string_view piece : wire.pieces) {
    std::memcpy(at, piece.data(), piece.size());
    at += piece.size();
  }
  grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
  return {&owned, 1};
}

}  // namespace

PublicApiService::PublicApiService(std::unique_ptr<PodCatalog> pods,
                                   std::unique_ptr<ImageCatalog> images, ServiceConfig config)
    : pods_(std::move(pods)), images_(std::move(images)), config_(std::move(config)) {}

grpc::Status PublicApiService::GetInfo(grpc::ServerContext* /*context*/,
                                       const v1alpha::GetInfoRequest* /*request*/,
                                       v1alpha::GetInfoResponse* response) {
  return Guarded("GetInfo", [&]() {
    v1alpha::Info* info = response->mutable_info();
    // The kubelet's rkt runtime parses these three as semver and refuses api_version below
    // 1.0.0-alpha (rkt's supportedAPIVersion) and rkt_version below 1.13.0. comet speaks the API
    // of rkt's last release, 1.30.0; its own version rides along as build metadata, which semver
    // ignores when comparing. appc_version is rkt's last App Container spec version.
    info->set_rkt_version("1.30.0+comet." + config_.version);
    info->set_api_version("1.0.0-alpha");
    info->set_appc_version("0.8.11");
    v1alpha::GlobalFlags* flags = info->mutable_global_flags();
    flags->set_dir(config_.data_dir);
    flags->set_system_config_dir(config_.system_config_dir);
    flags->set_local_config_dir(config_.local_config_dir);
    flags->set_user_config_dir(config_.user_config_dir);
    return grpc::Status::OK;
  });
}

grpc::Status PublicApiService::ListPods(grpc::ServerContext* /*context*/,
                                        const v1alpha::ListPodsRequest* request,
                                        v1alpha::ListPodsResponse* response) {
  return Guarded("ListPods", [&]() {
    // Straight into the response: each pod is copied once, from the catalog's cache.
    Status listed =
        pods_->ListInto(request->filters(), request->detail(), response->mutable_pods());
    if (!listed) {
      return ToStatus(listed.error());
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* PublicApiService::ListPods(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(Guarded("ListPods", [&]() {
    v1alpha::ListPodsRequest parsed;
    grpc::ByteBuffer bytes(*request);  // Deserialize consumes its buffer: a reference, no copy
    if (grpc::Status ok =
            grpc::SerializationTraits<v1alpha::ListPodsRequest>::Deserialize(&bytes, &parsed);
        !ok.ok()) {
      return InvalidArgument(fmt::format("ListPodsRequest: {}", ok.error_message()));
    }
    Result<PodCatalog::WirePods> wire = pods_->ListWire(parsed.filters(), parsed.detail());
    if (!wire) {
      return ToStatus(wire.error());
    }
    *response = WireResponse(*std::move(wire));
    return grpc::Status::OK;
  }));
  return reactor;
}

grpc::Status PublicApiService::InspectPod(grpc::ServerContext* /*context*/,
                                          const v1alpha::InspectPodRequest* request,
                                          v1alpha::InspectPodResponse* response) {
  return Guarded("InspectPod", [&]() {
    if (request->id().empty()) {
      return InvalidArgument("id: required");
    }
    Result<v1alpha::Pod> pod = pods_->Inspect(request->id());
    if (!pod) {
      return ToStatus(pod.error());
    }
    *response->mutable_pod() = std::move(*pod);
    return grpc::Status::OK;
  });
}

grpc::Status PublicApiService::ListImages(grpc::ServerContext* /*context*/,
                                          const v1alpha::ListImagesRequest* request,
                                          v1alpha::ListImagesResponse* response) {
  return Guarded("ListImages", [&]() {
    Result<std::vector<v1alpha::Image>> images =
        images_->List(request->filters(), request->detail());
    if (!images) {
      return ToStatus(images.error());
    }
    response->mutable_images()->Reserve(static_cast<int>(images->size()));
    for (v1alpha::Image& image : *images) {
      *response->add_images() = std::move(image);
    }
    return grpc::Status::OK;
  });
}

grpc::Status PublicApiService::InspectImage(grpc::ServerContext* /*context*/,
                                            const v1alpha::InspectImageRequest* request,
                                            v1alpha::InspectImageResponse* response) {
  return Guarded("InspectImage", [&]() {
    if (request->id().empty()) {
      return InvalidArgument("id: required");
    }
    Result<v1alpha::Image> image = images_->Inspect(request->id());
    if (!image) {
      return ToStatus(image.error());
    }
    *response->mutable_image() = std::move(*image);
    return grpc::Status::OK;
  });
}

grpc::Status PublicApiService::ListenEvents(
    grpc::ServerContext* context, const v1alpha::ListenEventsRequest* request,
    grpc::ServerWriter<v1alpha::ListenEventsResponse>* writer) {
  return Guarded("ListenEvents", [&]() {
    if (Status valid = ValidateEventFilter(request->filter()); !valid) {
      return ToStatus(valid.error());
    }
    // A listener holds a thread and an inotify watch like a log follow: same cap.
    FollowSlot slot(follows_, config_.max_follows);
    if (!slot.taken()) {
      return grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          fmt::format("already following {} streams: try again later", config_.max_follows));
    }
    Status streamed = StreamEvents(
        config_.data_dir, request->filter(),
        [this, context]() { return stopping_.load() || context->IsCancelled(); },
        [writer](std::vector<v1alpha::Event>& events) {
          v1alpha::ListenEventsResponse response;
          response.mutable_events()->Reserve(static_cast<int>(events.size()));
          for (v1alpha::Event& event : events) {
            *response.add_events() = std::move(event);
          }
          return writer->Write(response);
        });
    if (!streamed) {
      return ToStatus(streamed.error());
    }
    return grpc::Status::OK;
  });
}

grpc::Status PublicApiService::GetLogs(grpc::ServerContext* context,
                                       const v1alpha::GetLogsRequest* request,
                                       grpc::ServerWriter<v1alpha::GetLogsResponse>* writer) {
  return Guarded("GetLogs", [&]() {
    if (grpc::Status valid = ValidateLogRequest(*request); !valid.ok()) {
      return valid;
    }
    Result<v1alpha::Pod> pod = pods_->Inspect(request->pod_id());
    if (!pod) {
      return ToStatus(pod.error());
    }
    Result<std::string> pod_dir = pods_->PodDir(pod->id());
    if (!pod_dir) {
      return ToStatus(pod_dir.error());
    }
    LogQuery query;
    for (const v1alpha::App& app : pod->apps()) {
      if (request->app_name().empty() || app.name() == request->app_name()) {
        query.sources.push_back({app.name(), pod::AppLogPath(*pod_dir, app.name())});
      }
    }
    if (!request->app_name().empty() && query.sources.empty()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          fmt::format("pod {} has no app {:?}", pod->id(), request->app_name()));
    }
    query.since = RequestTime(request->since_time());
    query.until = RequestTime(request->until_time());
    query.tail = request->lines();
    query.follow = request->follow();
    std::optional<FollowSlot> slot;
    if (query.follow) {
      slot.emplace(follows_, config_.max_follows);
      if (!slot->taken()) {
        return grpc::Status(
            grpc::StatusCode::RESOURCE_EXHAUSTED,
            fmt::format("already following {} logs: try again later", config_.max_follows));
      }
    }
    const std::string id = pod->id();
    LogStreamHooks hooks;
    hooks.pod_running = [this, &id]() {
      Result<v1alpha::Pod> now = pods_->Inspect(id);
      return now && now->state() == v1alpha::POD_STATE_RUNNING;
    };
    hooks.cancelled = [this, context]() { return stopping_.load() || context->IsCancelled(); };
    hooks.send = [writer](std::vector<std::string>& lines) {
      v1alpha::GetLogsResponse response;
      response.mutable_lines()->Reserve(static_cast<int>(lines.size()));
      for (const std::string& line : lines) {
        // proto3 strings must be UTF-8: clients in other languages refuse a batch that is not
        // (an app's raw bytes, a long line cut inside a character).
        response.add_lines(ValidUtf8(line));
      }
      return writer->Write(response);
    };
    if (Status streamed = StreamLogs(query, hooks); !streamed) {
      return ToStatus(Error(streamed.error()).AddContext(fmt::format("pod {}", id)));
    }
    return grpc::Status::OK;
  });
}

}  // namespace comet::api
