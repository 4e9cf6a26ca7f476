// ApiTest: the api-service end-to-end fixture. A PodTest (fresh data dir with the busybox image,
// the real `comet`, cleanup checks) plus comet-api-service processes started by the test on
// 127.0.0.1 (port 0: the service prints the port it got), a unix socket or a socket passed by
// socket activation, and v1alpha.PublicAPI stubs generated from proto/v1alpha/api.proto.
// Not thread-safe: one test at a time per process.
#ifndef COMET_TESTS_E2E_API_API_FIXTURE_H_
#define COMET_TESTS_E2E_API_API_FIXTURE_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "e2e/pod/pod_fixture.h"
#include "v1alpha/api.grpc.pb.h"

namespace comet::e2e::api {

using namespace std::chrono_literals;
using pod::Contains;
using pod::Lines;
using pod::Trim;

// The comet-api-service binary under test: $COMET_API_SERVICE, else the one built with the test.
const std::string& ApiServiceBinary();

// A comet-api-service process (own process group), stderr and stdout to a file.
class ServiceProcess {
 public:
  // `activation_fd` >= 0: passed as fd 3 with LISTEN_FDS=1 and LISTEN_PID=<the child's pid>.
  ServiceProcess(const std::vector<std::string>& argv, const std::string& output_path,
                 int activation_fd = -1);
  ~ServiceProcess();  // SIGKILLs the group when still running
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;
  ServiceProcess(ServiceProcess&&) = delete;
  ServiceProcess& operator=(ServiceProcess&&) = delete;

  // Waits for the "listening on" line; false when the process died or `timeout` passed.
  bool WaitReady(std::chrono::milliseconds timeout = 20s);
  // The first address of the "listening on" line ("127.0.0.1:41234", "unix:/x").
  [[nodiscard]] std::string Address() const;
  [[nodiscard]] std::string Output() const;
  // SIGTERM and the exit code (or -signal) within `timeout`; pod::kStillRunning if still running.
  int Terminate(std::chrono::milliseconds timeout = 15s);
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string output_path_;
};

// A channel to `address` that ignores http_proxy (gRPC honours it even for 127.0.0.1).
std::shared_ptr<grpc::Channel> Channel(const std::string& address);

class ApiTest : public pod::PodTest {
 public:
  // A client context with a deadline.
  static std::unique_ptr<grpc::ClientContext> Context(std::chrono::milliseconds timeout = 30s);

 protected:
  void TearDown() override;

  // Starts comet-api-service --dir=<data> with `args` (default --listen=127.0.0.1:0), waits
  // until it is ready and connects `stub_` to it.
  void StartService(const std::vector<std::string>& args = {"--listen=127.0.0.1:0"});
  [[nodiscard]] const std::string& address() const { return address_; }

  // A prepared pod, a pod that runs until stopped, a pod that exited with code 3. Annotations:
  // role=<prepared|running|exited> on each, team=api on the running and the exited one.
  struct ThreePods {
    std::string prepared, running, exited;
  };
  ThreePods MakeThreePods();

  std::unique_ptr<v1alpha::PublicAPI::Stub> stub_;
  std::unique_ptr<ServiceProcess> service_;

 private:
  std::string address_;
};

}  // namespace comet::e2e::api

#endif  // COMET_TESTS_E2E_API_API_FIXTURE_H_
