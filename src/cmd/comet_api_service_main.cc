// comet-api-service: rkt's read-only gRPC api-service (v1alpha.PublicAPI) over one comet data
// directory (docs/api-service.md). Listens on --listen addresses (TCP or unix:PATH), or on the
// sockets systemd passes (LISTEN_FDS), until SIGTERM/SIGINT. The only binary that links gRPC.
// The exception catch-all (base/run_main.h) wraps Main here (and the gRPC handlers have their
// own): layers return errors.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_posix.h>
#include <systemd/sd-daemon.h>

#include "api/image_catalog.h"
#include "api/pod_catalog.h"
#include "api/service.h"
#include "base/result.h"
#include "base/run_main.h"
#include "base/strings.h"
#include "cli/data_dir.h"
#include "os/file.h"
#include "os/unique_fd.h"

#ifndef COMET_VERSION
#define COMET_VERSION "unknown"
#endif

namespace {

constexpr const char* kProgram = "comet-api-service";
// Requests are small; responses carry up to every pod's manifest (ListPods with detail).
constexpr int kMaxReceiveBytes = 1 << 20;
constexpr int kMaxSendBytes = 64 << 20;
// Streams per connection, and threads for the whole server (a follow holds one thread per app).
constexpr int kMaxStreamsPerConnection = 128;
constexpr int kMaxThreads = 512;
// How long calls in flight get to end after SIGTERM (follows end at once) before they are
// cancelled.
constexpr auto kShutdownGrace = std::chrono::seconds(5);

struct Flags {
  std::string dir;
  std::vector<std::string> listen;
  int max_follows = 64;
};

void Say(const std::string& line) {
  (void)std::fprintf(stderr, "%s: %s\n", kProgram, line.c_str());
}

int Fail(const std::string& what) {
  Say(what);
  return 254;  // rkt's exit status on error
}

// The sockets systemd passed (sd_listen_fds(3): LISTEN_PID must be ours); empty when none.
comet::Result<std::vector<comet::os::UniqueFd>> ActivationSockets() {
  const int count = sd_listen_fds(/*unset_environment=*/1);
  if (count < 0) {
    return comet::Err(comet::Error::FromCode(-count, "sd_listen_fds"));
  }
  std::vector<comet::os::UniqueFd> sockets;
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + count; ++fd) {
    comet::os::UniqueFd owned(fd);
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, /*listening=*/1) <= 0) {
      return comet::Err(comet::Error::Invalid(
          fmt::format("LISTEN_FDS: fd {} is not a listening stream socket", fd)));
    }
    (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);
    sockets.push_back(std::move(owned));
  }
  return sockets;
}

// Accepts connections on a passed listening socket and hands each to the server (gRPC 1.51 has
// no API to serve on a listening fd, only on a connected one) until `stop` becomes readable.
void AcceptLoop(grpc::Server* server, int listener, int stop) {
  // Non-blocking: a connection reset between poll and accept (or another process sharing the
  // socket) must not leave accept4 blocked, which would hang the shutdown's join.
  if (const int flags = ::fcntl(listener, F_GETFL); flags >= 0) {
    (void)::fcntl(listener, F_SETFL, flags | O_NONBLOCK);
  }
  while (true) {
    pollfd fds[2] = {{listener, POLLIN, 0}, {stop, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      Say(comet::Error::FromErrno("poll", fmt::format("fd {}", listener)).ToString());
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    const int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
        Say(comet::Error::FromErrno("accept", fmt::format("fd {}", listener)).ToString());
        // EMFILE and the like: do not spin; the connection waits in the backlog.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    grpc::AddInsecureChannelFromFd(server, conn);  // takes the fd
  }
}

std::string SocketName(int fd) {
  return fmt::format("fd {} (socket activation)", fd);
}

comet::Result<std::unique_ptr<comet::api::PublicApiService>> MakeService(
    const Flags& flags, const std::string& data_dir) {
  RETURN_IF_ERROR(comet::cli::CheckDataDirReadable(data_dir));
  ASSIGN_OR_RETURN(auto pods, comet::api::PodCatalog::Open(data_dir));
  ASSIGN_OR_RETURN(auto images,
                   comet::api::ImageCatalog::Open(comet::cli::ImageStoreDir(data_dir)));
  comet::api::ServiceConfig config;
  config.version = COMET_VERSION;
  config.data_dir = data_dir;
  config.max_follows = flags.max_follows;
  return std::make_unique<comet::api::PublicApiService>(std::move(pods), std::move(images), config);
}

// Starts the server on `listen` (none when sockets were passed); `names` gets what it listens
// on, with the ports TCP port 0 resolved to.
comet::Result<std::unique_ptr<grpc::Server>> StartServer(comet::api::PublicApiService& service,
                                                         const std::vector<std::string>& listen,
                                                         std::vector<std::string>& names) {
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  builder.SetMaxSendMessageSize(kMaxSendBytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxStreamsPerConnection);
  grpc::ResourceQuota quota(kProgram);
  quota.SetMaxThreads(kMaxThreads);
  builder.SetResourceQuota(quota);
  builder.RegisterService(&service);
  std::vector<int> ports(listen.size(), 0);
  for (size_t i = 0; i < listen.size(); ++i) {
    builder.AddListeningPort(listen[i], grpc::InsecureServerCredentials(), &ports[i]);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    return comet::Err(
        comet::Error::Invalid(fmt::format("cannot listen on {}", comet::Join(listen, ", "))));
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    if (ports[i] == 0) {
      return comet::Err(comet::Error::Invalid(fmt::format("cannot listen on {}", listen[i])));
    }
    const std::string& address = listen[i];
    const size_t colon = address.rfind(':');
    const bool tcp = !comet::StartsWith(address, "unix:") && colon != std::string::npos;
    names.push_back(tcp ? fmt::format("{}:{}", address.substr(0, colon), ports[i]) : address);
  }
  return server;
}

// SIGTERM and SIGINT were blocked in main() before any thread started: only this wait sees them.
int WaitForStopSignal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int signal = 0;
  while (sigwait(&signals, &signal) != 0) {
  }
  return signal;
}

int Serve(const Flags& flags) {
  auto data_dir = comet::cli::DataDir(flags.dir);
  if (!data_dir) {
    return Fail("--dir: " + data_dir.error().ToString());
  }
  auto activation = ActivationSockets();
  if (!activation) {
    return Fail(activation.error().ToString());
  }
  auto service = MakeService(flags, *data_dir);
  if (!service) {
    return Fail(service.error().ToString());
  }
  std::vector<std::string> names;
  auto server = StartServer(**service,
                            activation->empty() ? flags.listen : std::vector<std::string>{}, names);
  if (!server) {
    return Fail(server.error().ToString());
  }
  int stop_pipe[2] = {-1, -1};
  if (::pipe2(stop_pipe, O_CLOEXEC) != 0) {
    return Fail(comet::Error::FromErrno("pipe2").ToString());
  }
  comet::os::UniqueFd stop_read(stop_pipe[0]);
  comet::os::UniqueFd stop_write(stop_pipe[1]);
  std::vector<std::thread> acceptors;
  for (const comet::os::UniqueFd& socket : *activation) {
    names.push_back(SocketName(socket.get()));
    acceptors.emplace_back(AcceptLoop, server->get(), socket.get(), stop_read.get());
  }
  Say(fmt::format("listening on {} (data directory {})", comet::Join(names, ", "), *data_dir));

  const int signal = WaitForStopSignal();
  Say(fmt::format("{}: shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT"));
  (void)comet::os::WriteAll(stop_write.get(), "x");
  for (std::thread& acceptor : acceptors) {
    acceptor.join();
  }
  (*service)->StopFollowing();
  (*server)->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  (*server)->Wait();
  return 0;
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app(
      "comet-api-service: rkt's read-only gRPC api-service (v1alpha.PublicAPI) over comet's "
      "pods, images and logs. Started as `comet api-service`, or by systemd with socket "
      "activation (LISTEN_FDS), in which case --listen is ignored. See docs/api-service.md.",
      kProgram);
  app.add_option("--dir", flags.dir,
                 "comet's data directory (default /var/lib/comet, or $XDG_DATA_HOME/comet when "
                 "not root)");
  app.add_option("--listen", flags.listen,
                 "Address to listen on, repeatable: HOST:PORT or unix:PATH (default "
                 "localhost:15441); PORT 0 picks a free port, printed when ready")
      ->expected(1)
      ->take_all()
      ->allow_extra_args(false);
  app.add_option("--max-follows", flags.max_follows,
                 "GetLogs calls with follow served at once (default 64)")
      ->check(CLI::Range(1, 4096));
  app.set_version_flag("--version", fmt::format("comet-api-service version {}", COMET_VERSION));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 254;
  }
  if (flags.listen.empty()) {
    flags.listen.emplace_back("localhost:15441");
  }
  // Before any thread exists (gRPC's included), so that every thread inherits the mask and the
  // signals wait for Serve's sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  (void)std::signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error, not a death
  return Serve(flags);
}

}  // namespace

int main(int argc, char** argv) {
  return comet::RunMain(kProgram, Main, argc, argv);
}
