// ApiClient: the node agent's synchronous client of comet's api-service (rkt's v1alpha.PublicAPI,
// docs/api-service.md), through which it reads every pod's state, apps, networks and logs, as
// the kubelet's rkt runtime did. Plain-text gRPC, like the kubelet's (the service listens on
// loopback or a unix socket). Every call has a deadline (10 s by default, where the kubelet
// waited 2 minutes: an agent should notice a stuck service quickly) and fails with an Error
// naming the method and the gRPC status ("ListPods: UNAVAILABLE: ..."). One client outlives
// restarts of the service: the channel reconnects by itself (backoff capped at 2 s), and a call
// that finds it disconnected waits up to 1 s for it to connect and is tried once more (every
// method only reads, so a repeat is harmless); with the service down a call so fails in about
// 1 s. Thread-safe: any number of calls at once.
#ifndef COMET_NODE_API_CLIENT_H_
#define COMET_NODE_API_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "v1alpha/api.grpc.pb.h"

namespace comet::node {

// The kubelet's --rkt-api-endpoint default, rkt's api-service address.
inline constexpr const char* kDefaultApiEndpoint = "localhost:15441";

struct ApiClientOptions {
  std::chrono::milliseconds deadline{10'000};  // per call, reconnecting included
  // GetLogs stops reading (and cancels the stream) past either bound, and says it did.
  size_t max_log_lines = 10'000;
  size_t max_log_bytes = 16 << 20;
};

// Which pods ListPods returns: those with all of `annotations` (exact values) and, when `states`
// is not empty, in one of them. One rkt PodFilter.
struct PodQuery {
  std::map<std::string, std::string> annotations;
  std::vector<v1alpha::PodState> states;
};

struct LogLines {
  std::vector<std::string> lines;  // oldest first, as the service sends them
  bool truncated = false;          // a bound of ApiClientOptions was reached
};

class ApiClient {
 public:
  // A client of the service at `endpoint` (gRPC's target syntax: "localhost:15441",
  // "127.0.0.1:15441", "unix:/run/comet/api.sock"). Does not contact the service: the agent may
  // start before it, and the first call says whether it answers. Fails on an empty endpoint.
  [[nodiscard]] static Result<ApiClient> Connect(std::string endpoint,
                                                 ApiClientOptions options = {});

  [[nodiscard]] Result<v1alpha::Info> GetInfo() const;
  // ListPods with detail (apps, manifest), sorted by id as the service sends them.
  [[nodiscard]] Result<std::vector<v1alpha::Pod>> ListPods(const PodQuery& query = {}) const;
  // NOT_FOUND becomes an Error with code ENOENT.
  [[nodiscard]] Result<v1alpha::Pod> InspectPod(const std::string& id) const;
  // The last `lines` lines (0: all) of `app` (empty: every app of the pod, interleaved by time),
  // from `since_unix_seconds` on (0: from the start); never follows.
  [[nodiscard]] Result<LogLines> GetLogs(const std::string& pod_id, const std::string& app,
                                         int lines = 0, int64_t since_unix_seconds = 0) const;

  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }

 private:
  ApiClient(std::string endpoint, ApiClientOptions options, std::shared_ptr<grpc::Channel> channel);

  // Runs `call` (which makes one RPC with the context it is given) with the deadline, and once
  // more if it failed UNAVAILABLE and `repeatable` says nothing was received yet.
  template <class Call, class Repeatable>
  grpc::Status Invoke(Call call, Repeatable repeatable) const;

  std::string endpoint_;
  ApiClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<v1alpha::PublicAPI::Stub> stub_;
};

// "ListPods: UNAVAILABLE: failed to connect to all addresses" as an Error whose code is the
// nearest errno (NOT_FOUND ENOENT, UNAVAILABLE ECONNREFUSED, DEADLINE_EXCEEDED ETIMEDOUT, ...).
[[nodiscard]] Error ApiError(std::string_view method, const grpc::Status& status);
// "UNAVAILABLE", "NOT_FOUND", ... (gRPC's names).
[[nodiscard]] std::string_view GrpcCodeName(grpc::StatusCode code);

}  // namespace comet::node

#endif  // COMET_NODE_API_CLIENT_H_
