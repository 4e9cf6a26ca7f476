// ApiClient (see api_client.h).
#include "node/api_client.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

namespace comet::node {
namespace {

using Clock = std::chrono::system_clock;

// How long a call that found the channel disconnected waits for it to connect again before the
// first failure stands: a restarted service listens within this.
constexpr std::chrono::milliseconds kReconnectWait{1'000};
// The channel's reconnect backoff: gRPC's default grows to 120 s, which would leave the agent
// blind for minutes after the service came back.
constexpr int kInitialReconnectBackoffMs = 100;
constexpr int kMaxReconnectBackoffMs = 2'000;
// The service's own response bound (docs/api-service.md); gRPC's client default is 4 MiB, less
// than a detailed ListPods of a busy node.
constexpr int kMaxResponseBytes = 64 << 20;

int ErrnoOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::NOT_FOUND:
      return ENOENT;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return EINVAL;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return ETIMEDOUT;
    case grpc::StatusCode::UNAVAILABLE:
      return ECONNREFUSED;
    case grpc::StatusCode::CANCELLED:
      return ECANCELED;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return EAGAIN;
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return EACCES;
    case grpc::StatusCode::UNIMPLEMENTED:
      return ENOSYS;
    default:
      return EIO;
  }
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& endpoint) {
  grpc::ChannelArguments arguments;
  // gRPC honours http_proxy even for loopback addresses (reference/debian-deps-cmake.md).
  arguments.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kInitialReconnectBackoffMs);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  arguments.SetMaxReceiveMessageSize(kMaxResponseBytes);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), arguments);
}

}  // namespace

std::string_view GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

Error ApiError(std::string_view method, const grpc::Status& status) {
  std::string message = fmt::format("{}: {}", method, GrpcCodeName(status.error_code()));
  if (!status.error_message().empty()) {
    message += ": " + status.error_message();
  }
  return {ErrnoOf(status.error_code()), std::move(message)};
}

ApiClient::ApiClient(std::string endpoint, ApiClientOptions options,
                     std::shared_ptr<grpc::Channel> channel)
    : endpoint_(std::move(endpoint)),
      options_(options),
      channel_(std::move(channel)),
      stub_(v1alpha::PublicAPI::NewStub(channel_)) {}

Result<ApiClient> ApiClient::Connect(std::string endpoint, ApiClientOptions options) {
  if (endpoint.empty()) {
    return Err(Error::Invalid("api-service endpoint: empty"));
  }
  if (options.deadline <= std::chrono::milliseconds::zero()) {
    return Err(Error::Invalid("api-service deadline: must be positive"));
  }
  std::shared_ptr<grpc::Channel> channel = MakeChannel(endpoint);
  return ApiClient(std::move(endpoint), options, std::move(channel));
}

template <class Call, class Repeatable>
grpc::Status ApiClient::Invoke(Call call, Repeatable repeatable) const {
  const Clock::time_point deadline = Clock::now() + options_.deadline;
  grpc::ClientContext first;
  first.set_deadline(deadline);
  grpc::Status status = call(first);
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE || !repeatable()) {
    return status;
  }
  // The channel lost the service (killed, restarting) or never reached it. It reconnects on its
  // own with backoff; skip the wait and give the service a moment to be back.
  grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
  const Clock::time_point retry_deadline = std::min(deadline, Clock::now() + kReconnectWait);
  if (retry_deadline <= Clock::now()) {
    return status;
  }
  grpc::ClientContext second;
  second.set_deadline(retry_deadline);
  second.set_wait_for_ready(true);
  grpc::Status again = call(second);
  if (again.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      channel_->GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_READY) {
    return status;  // still down: the first failure says why
  }
  return again;
}

Result<v1alpha::Info> ApiClient::GetInfo() const {
  v1alpha::GetInfoResponse response;
  grpc::Status status =
      Invoke([&](grpc::ClientContext& context) { return stub_->GetInfo(&context, {}, &response); },
             [] { return true; });
  if (!status.ok()) {
    return Err(ApiError("GetInfo", status));
  }
  return std::move(*response.mutable_info());
}

Result<std::vector<v1alpha::Pod>> ApiClient::ListPods(const PodQuery& query) const {
  v1alpha::ListPodsRequest request;
  request.set_detail(true);
  if (!query.annotations.empty() || !query.states.empty()) {
    v1alpha::PodFilter* filter = request.add_filters();
    for (const auto& [key, value] : query.annotations) {
      v1alpha::KeyValue* kv = filter->add_annotations();
      kv->set_key(key);
      kv->set_value(value);
    }
    for (v1alpha::PodState state : query.states) {
      filter->add_states(state);
    }
  }
  v1alpha::ListPodsResponse response;
  grpc::Status status = Invoke(
      [&](grpc::ClientContext& context) { return stub_->ListPods(&context, request, &response); },
      [] { return true; });
  if (!status.ok()) {
    return Err(ApiError("ListPods", status));
  }
  std::vector<v1alpha::Pod> pods;
  pods.reserve(response.pods_size());
  for (v1alpha::Pod& pod : *response.mutable_pods()) {
    pods.push_back(std::move(pod));
  }
  return pods;
}

Result<v1alpha::Pod> ApiClient::InspectPod(const std::string& id) const {
  v1alpha::InspectPodRequest request;
  request.set_id(id);
  v1alpha::InspectPodResponse response;
  grpc::Status status = Invoke(
      [&](grpc::ClientContext& context) { return stub_->InspectPod(&context, request, &response); },
      [] { return true; });
  if (!status.ok()) {
    return Err(ApiError("InspectPod", status));
  }
  return std::move(*response.mutable_pod());
}

Result<LogLines> ApiClient::GetLogs(const std::string& pod_id, const std::string& app, int lines,
                                    int64_t since_unix_seconds) const {
  v1alpha::GetLogsRequest request;
  request.set_pod_id(pod_id);
  request.set_app_name(app);
  request.set_lines(lines);
  request.set_since_time(since_unix_seconds);
  LogLines out;
  size_t bytes = 0;
  grpc::Status status = Invoke(
      [&](grpc::ClientContext& context) {
        out = {};
        bytes = 0;
        auto reader = stub_->GetLogs(&context, request);
        v1alpha::GetLogsResponse response;
        while (!out.truncated && reader->Read(&response)) {
          for (std::string& line : *response.mutable_lines()) {
            if (out.lines.size() >= options_.max_log_lines ||
                bytes + line.size() > options_.max_log_bytes) {
              out.truncated = true;
              break;
            }
            bytes += line.size();
            out.lines.push_back(std::move(line));
          }
        }
        if (out.truncated) {
          context.TryCancel();  // the rest is not wanted; Finish then reports CANCELLED
        }
        grpc::Status finished = reader->Finish();
        return out.truncated ? grpc::Status::OK : finished;
      },
      // A stream that delivered lines is not repeated: the caller gets its error.
      [&] { return out.lines.empty(); });
  if (!status.ok()) {
    return Err(ApiError("GetLogs", status));
  }
  return out;
}

}  // namespace comet::node
