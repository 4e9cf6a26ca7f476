// RegistryServer: a real registry (/usr/bin/docker-registry) on 127.0.0.1 for tests, with
// optional htpasswd basic auth, TLS (a CA and server certificate made with openssl) and bearer
// token auth (tests/testing/token_server.py). Also RunCommand, to run the tools tests need.
// Not thread-safe: drive one server from one test thread.
#ifndef COMET_TESTING_REGISTRY_SERVER_H_
#define COMET_TESTING_REGISTRY_SERVER_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "os/temp_dir.h"

namespace comet::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  std::string out;
  std::string err;
  // "`argv0 ...` exited 1: <stderr>" for messages.
  [[nodiscard]] std::string Describe() const;
};

// Runs argv (argv[0] searched in PATH) with `env` ("K=V") added to the environment, stdout and
// stderr captured. Errors only when it cannot be started or times out (then it is killed).
[[nodiscard]] Result<CommandResult> RunCommand(
    const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
    std::chrono::seconds timeout = std::chrono::seconds(300));
// Like RunCommand, and a non-zero exit is an error carrying stderr. Returns stdout.
[[nodiscard]] Result<std::string> RunChecked(
    const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
    std::chrono::seconds timeout = std::chrono::seconds(300));

// A free TCP port on 127.0.0.1 (bound and released: a tiny race, fine for tests).
[[nodiscard]] Result<int> FreeLoopbackPort();

struct RegistryServerOptions {
  // htpasswd users (user, password). With token_auth, the token server checks them instead.
  std::vector<std::pair<std::string, std::string>> users;
  bool tls = false;
  // Bearer-token auth through a token server on another port (needs `users`).
  bool token_auth = false;
  // With token_auth: anonymous requests get pull tokens (as Docker Hub's public images).
  bool anonymous_pull = false;
};

class RegistryServer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<RegistryServer>> Start(
      RegistryServerOptions options = {});
  ~RegistryServer();
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;
  RegistryServer(RegistryServer&&) = delete;
  RegistryServer& operator=(RegistryServer&&) = delete;

  // "127.0.0.1:40123": the registry name for references and clients.
  [[nodiscard]] const std::string& host_port() const { return host_port_; }
  [[nodiscard]] int port() const { return port_; }
  // "http://127.0.0.1:40123" or "https://...".
  [[nodiscard]] std::string url() const;
  // The CA certificate (PEM) that signed the server's certificate; empty without TLS.
  [[nodiscard]] const std::string& ca_path() const { return ca_path_; }
  // A certs.d-style directory holding <host_port>/ca.crt (and localhost:<port>/ca.crt).
  [[nodiscard]] const std::string& certs_dir() const { return certs_dir_; }
  [[nodiscard]] const std::string& storage_dir() const { return storage_dir_; }
  // "user:password" of the first user, for skopeo's --dest-creds; empty without users.
  [[nodiscard]] std::string creds() const;
  // The registry's log so far (for failure messages).
  [[nodiscard]] std::string Log() const;

  // Stops the registry (SIGTERM, then SIGKILL after 5 s) and the token server.
  void Stop();
  // SIGKILLs the registry at once (the token server keeps running): for interrupted transfers.
  void Kill();
  // Starts the registry again on the same port with the same storage and settings.
  [[nodiscard]] Status Restart();
  [[nodiscard]] bool running() const { return pid_ > 0; }

 private:
  RegistryServer(RegistryServerOptions options, os::TempDir dir);
  [[nodiscard]] Status Setup();
  [[nodiscard]] Status Launch();
  [[nodiscard]] Status StartTokenServer();

  RegistryServerOptions options_;
  os::TempDir dir_;
  int port_ = 0;
  int token_port_ = 0;
  std::string host_port_;
  std::string config_path_;
  std::string storage_dir_;
  std::string ca_path_;
  std::string certs_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  pid_t token_pid_ = -1;
};

// Starts argv in its own process group, stdout and stderr appended to `log_path`.
[[nodiscard]] Result<pid_t> SpawnDaemon(const std::vector<std::string>& argv,
                                        const std::string& log_path);
// Waits up to 10 s until 127.0.0.1:`port` accepts connections; fails early when `pid` exits
// (the error quotes `log_path`).
[[nodiscard]] Status WaitForLoopbackPort(int port, pid_t pid, const std::string& what,
                                         const std::string& log_path);
// SIGTERMs (or SIGKILLs) the process group of `pid` and reaps `pid`; escalates to SIGKILL
// after `grace`.
void StopDaemon(pid_t pid, bool kill_now,
                std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

}  // namespace comet::testing

#endif  // COMET_TESTING_REGISTRY_SERVER_H_
