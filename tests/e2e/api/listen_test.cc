// api-service e2e: where the service listens (a unix socket, a socket passed by systemd-style
// socket activation, `comet api-service`) and its graceful shutdown with a follow open.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "e2e/api/api_fixture.h"
#include "e2e/subprocess.h"

namespace comet::e2e::api {
namespace {

using ApiListenTest = ApiTest;

bool InfoOk(v1alpha::PublicAPI::Stub& stub, const std::string& data) {
  v1alpha::GetInfoResponse response;
  grpc::Status status = stub.GetInfo(ApiTest::Context(10s).get(), {}, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return status.ok() && response.info().global_flags().dir() == data;
}

TEST_F(ApiListenTest, UnixSocket) {
  const std::string socket = tmp() + "/api.sock";
  ASSERT_NO_FATAL_FAILURE(StartService({"--listen=unix:" + socket}));
  EXPECT_EQ(address(), "unix:" + socket);
  EXPECT_TRUE(InfoOk(*stub_, data()));
}

TEST_F(ApiListenTest, TwoListenersAtOnce) {
  const std::string socket = tmp() + "/api.sock";
  ASSERT_NO_FATAL_FAILURE(StartService({"--listen=127.0.0.1:0", "--listen=unix:" + socket}));
  EXPECT_TRUE(InfoOk(*stub_, data()));
  auto unix_stub = v1alpha::PublicAPI::NewStub(Channel("unix:" + socket));
  EXPECT_TRUE(InfoOk(*unix_stub, data()));
}

TEST_F(ApiListenTest, SocketActivation) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  // --listen is ignored when sockets are passed: a unix socket there must not appear.
  const std::string ignored = tmp() + "/ignored.sock";
  (void)Ok({"list"});  // creates pods/<phase>/, which the service reads
  service_ = std::make_unique<ServiceProcess>(
      std::vector<std::string>{ApiServiceBinary(), "--dir=" + data(), "--listen=unix:" + ignored},
      tmp() + "/api-service.log", listener);
  ::close(listener);
  ASSERT_TRUE(service_->WaitReady()) << service_->Output();
  EXPECT_NE(service_->Output().find("socket activation"), std::string::npos) << service_->Output();
  auto stub = v1alpha::PublicAPI::NewStub(Channel("127.0.0.1:" + std::to_string(port)));
  EXPECT_TRUE(InfoOk(*stub, data()));
  // Several connections, one after the other and at once.
  auto second = v1alpha::PublicAPI::NewStub(Channel("127.0.0.1:" + std::to_string(port)));
  EXPECT_TRUE(InfoOk(*second, data()));
  EXPECT_TRUE(InfoOk(*stub, data()));
  EXPECT_NE(::access(ignored.c_str(), F_OK), 0);
}

TEST_F(ApiListenTest, CometApiServiceSubcommand) {
  ProcResult help = Comet({"api-service", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.Describe();
  EXPECT_TRUE(Contains(help.out, "--listen")) << help.out;
  // `comet api-service` execs comet-api-service (the same process).
  const std::string socket = tmp() + "/cli.sock";
  (void)Ok({"list"});
  service_ = std::make_unique<ServiceProcess>(
      std::vector<std::string>{pod::CometBinary(), "api-service", "--dir=" + data(),
                               "--listen=unix:" + socket},
      tmp() + "/api-service.log");
  ASSERT_TRUE(service_->WaitReady()) << service_->Output();
  EXPECT_TRUE(Contains(service_->Output(), "comet-api-service: listening on unix:" + socket))
      << service_->Output();
  auto stub = v1alpha::PublicAPI::NewStub(Channel("unix:" + socket));
  EXPECT_TRUE(InfoOk(*stub, data()));
  const std::string exe = ReadFileOrEmpty("/proc/" + std::to_string(service_->pid()) + "/comm");
  EXPECT_EQ(Trim(exe), "comet-api-servi");  // comm is cut at 15 characters
}

TEST_F(ApiListenTest, BadListenAddressFailsClearly) {
  (void)Ok({"list"});
  ProcResult result = Exec({ApiServiceBinary(), "--dir=" + data(), "--listen=256.1.1.1:99999"});
  EXPECT_EQ(result.exit_code, 254) << result.Describe();
  EXPECT_TRUE(Contains(result.err, "cannot listen on")) << result.err;
}

TEST_F(ApiListenTest, SigtermEndsFollowsAndExitsZero) {
  const std::string uuid = RunDetached(ShellApp("sleeper", "echo hi; " + std::string(kSleeper)));
  ASSERT_FALSE(uuid.empty());
  ASSERT_NO_FATAL_FAILURE(StartService());
  v1alpha::GetLogsRequest request;
  request.set_pod_id(uuid);
  request.set_follow(true);
  auto context = Context(60s);
  auto reader = stub_->GetLogs(context.get(), request);
  v1alpha::GetLogsResponse response;
  ASSERT_TRUE(reader->Read(&response));
  // A reader keeps the client's side of the connection polled (an idle sync client is polled
  // only every 5 s), as a real follower does.
  std::thread drain([&] {
    while (reader->Read(&response)) {
    }
    (void)reader->Finish();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(service_->Terminate(), 0) << service_->Output();
  // The follow ends at once, not after the 5 s grace period.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  drain.join();
  // The pod did not notice.
  EXPECT_EQ(Status(uuid)["state"], "running");
}

}  // namespace
}  // namespace comet::e2e::api
