// ApiTest fixture and the comet-api-service process (see api_fixture.h).
#include "e2e/api/api_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "e2e/subprocess.h"

#ifndef COMET_API_SERVICE_DEFAULT
#define COMET_API_SERVICE_DEFAULT "comet-api-service"
#endif

namespace comet::e2e::api {

const std::string& ApiServiceBinary() {
  static const std::string kBinary = [] {
    const char* env = std::getenv("COMET_API_SERVICE");  // NOLINT(concurrency-mt-unsafe)
    return std::string(env != nullptr && env[0] != '\0' ? env : COMET_API_SERVICE_DEFAULT);
  }();
  return kBinary;
}

ServiceProcess::ServiceProcess(const std::vector<std::string>& argv, const std::string& output_path,
                               int activation_fd)
    : output_path_(output_path) {
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  cargv.reserve(args.size() + 1);
  for (std::string& arg : args) {
    cargv.push_back(arg.data());
  }
  cargv.push_back(nullptr);
  const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    if (activation_fd >= 0) {
      // sd_listen_fds(3): fds from 3, LISTEN_PID naming the process that is to use them.
      ::dup2(activation_fd, 3);  // dup2 clears FD_CLOEXEC on 3
      char pid_text[32];
      (void)std::snprintf(pid_text, sizeof(pid_text), "%d", ::getpid());
      ::setenv("LISTEN_FDS", "1", 1);       // NOLINT(concurrency-mt-unsafe): the child
      ::setenv("LISTEN_PID", pid_text, 1);  // NOLINT(concurrency-mt-unsafe)
    }
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(out);
  ::close(in);
}

ServiceProcess::~ServiceProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
}

std::string ServiceProcess::Output() const {
  return ReadFileOrEmpty(output_path_);
}

bool ServiceProcess::WaitReady(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Output().find("listening on ") != std::string::npos) {
      return true;
    }
    if (!reaped_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) {
      reaped_ = true;
    }
    if (reaped_) {
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string ServiceProcess::Address() const {
  const std::string output = Output();
  const size_t at = output.find("listening on ");
  if (at == std::string::npos) {
    return "";
  }
  const size_t start = at + std::string("listening on ").size();
  const size_t end = output.find_first_of(", \n", start);
  return output.substr(start, end - start);
}

int ServiceProcess::Terminate(std::chrono::milliseconds timeout) {
  if (!reaped_) {
    ::kill(pid_, SIGTERM);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
      reaped_ = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return pod::kStillRunning;
    }
    std::this_thread::sleep_for(20ms);
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -WTERMSIG(status_);
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments);
}

void ApiTest::TearDown() {
  stub_.reset();
  if (service_) {
    const int code = service_->Terminate();
    EXPECT_EQ(code, 0) << "comet-api-service after SIGTERM; it said:\n" << service_->Output();
    service_.reset();
  }
  PodTest::TearDown();
}

void ApiTest::StartService(const std::vector<std::string>& args) {
  // Each start logs to a file of its own: a restarted service's "listening on" line is its own.
  static int starts = 0;
  std::vector<std::string> argv = {ApiServiceBinary(), "--dir=" + data()};
  argv.insert(argv.end(), args.begin(), args.end());
  service_ = std::make_unique<ServiceProcess>(
      argv, tmp() + "/api-service-" + std::to_string(++starts) + ".log");
  ASSERT_TRUE(service_->WaitReady()) << "comet-api-service did not start:\n" << service_->Output();
  address_ = service_->Address();
  stub_ = v1alpha::PublicAPI::NewStub(Channel(address_));
}

ApiTest::ThreePods ApiTest::MakeThreePods() {
  ThreePods pods;
  pods.prepared = Trim(Ok({"prepare", "--quiet", "--annotation=role=prepared", kImage,
                           "--name=idle", "--", "/bin/true"}));
  pods.running = RunDetached(Concat(
      {{"--annotation=role=running", "--annotation=team=api"}, ShellApp("sleeper", kSleeper)}));
  const std::string uuid_file = tmp() + "/exited.uuid";
  (void)Comet(Concat({{"run", "--uuid-file-save=" + uuid_file, "--annotation=role=exited",
                       "--annotation=team=api"},
                      ShellApp("quitter", "echo bye; exit 3")}));
  pods.exited = Trim(ReadFileOrEmpty(uuid_file));
  EXPECT_FALSE(pods.prepared.empty() || pods.running.empty() || pods.exited.empty());
  return pods;
}

std::unique_ptr<grpc::ClientContext> ApiTest::Context(std::chrono::milliseconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

}  // namespace comet::e2e::api
