// Tests of ApiClient's failures that need no api-service: nothing listening, a listener that
// never answers (the deadline). Its calls against the real comet-api-service, restarts
// included, are in tests/e2e/api/node_client_test.cc.
#include "node/api_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "os/unique_fd.h"

namespace comet::node {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// A TCP socket bound to 127.0.0.1 on a free port; listening (backlog 8, never accepted: the
// kernel completes handshakes but nobody speaks HTTP/2) when `listen` is true.
os::UniqueFd Bind(bool listen, int* port) {
  os::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
  EXPECT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  *port = ntohs(address.sin_port);
  if (listen) {
    EXPECT_EQ(::listen(fd.get(), 8), 0);
  }
  return fd;
}

TEST(ApiClient, ConnectNeedsAnEndpoint) {
  auto client = ApiClient::Connect("");
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code(), EINVAL);
  EXPECT_TRUE(ApiClient::Connect(kDefaultApiEndpoint));  // does not contact the service
}

TEST(ApiClient, NothingListeningIsUnavailableNamingTheMethod) {
  int port = 0;
  { os::UniqueFd closed = Bind(false, &port); }  // the port is free again, nobody listens
  auto client = ApiClient::Connect("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(client);
  const auto start = std::chrono::steady_clock::now();
  auto pods = client->ListPods();
  ASSERT_FALSE(pods);
  EXPECT_THAT(pods.error().ToString(), StartsWith("ListPods: UNAVAILABLE: "));
  EXPECT_EQ(pods.error().code(), ECONNREFUSED);
  // Refused at once, then one wait for a reconnect (1 s at most): far below the 10 s deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  auto info = client->GetInfo();
  ASSERT_FALSE(info);
  EXPECT_THAT(info.error().ToString(), StartsWith("GetInfo: UNAVAILABLE"));
}

TEST(ApiClient, ASilentServiceMeetsTheDeadline) {
  int port = 0;
  os::UniqueFd listener = Bind(true, &port);
  ApiClientOptions options;
  options.deadline = 300ms;
  auto client = ApiClient::Connect("127.0.0.1:" + std::to_string(port), options);
  ASSERT_TRUE(client);
  const auto start = std::chrono::steady_clock::now();
  auto pod = client->InspectPod("11111111-1111-4111-8111-111111111111");
  ASSERT_FALSE(pod);
  EXPECT_THAT(pod.error().ToString(), StartsWith("InspectPod: DEADLINE_EXCEEDED"));
  EXPECT_EQ(pod.error().code(), ETIMEDOUT);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  auto logs = client->GetLogs("11111111-1111-4111-8111-111111111111", "web", 10);
  ASSERT_FALSE(logs);
  EXPECT_THAT(logs.error().ToString(), HasSubstr("GetLogs: DEADLINE_EXCEEDED"));
}

TEST(ApiClient, ErrorsCarryTheStatusText) {
  Error error = ApiError("InspectPod", grpc::Status(grpc::StatusCode::NOT_FOUND, "no pod x"));
  EXPECT_EQ(error.ToString(), "InspectPod: NOT_FOUND: no pod x");
  EXPECT_EQ(error.code(), ENOENT);
  EXPECT_EQ(ApiError("GetInfo", grpc::Status(grpc::StatusCode::INTERNAL, "")).ToString(),
            "GetInfo: INTERNAL");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
}

}  // namespace
}  // namespace comet::node
