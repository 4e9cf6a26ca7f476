// RegistryServer's files: config.yml, htpasswd, the TLS CA and server certificate, the token
// server's signing key; and the token server's start. Not thread-safe.
#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"
#include "testing/registry_server.h"

namespace comet::testing {
namespace {

#ifndef COMET_TOKEN_SERVER
#define COMET_TOKEN_SERVER "tests/testing/token_server.py"
#endif

constexpr std::string_view kService = "comet-test-registry";
constexpr std::string_view kIssuer = "comet-test-issuer";

// A CA and a server certificate for 127.0.0.1 and localhost, signed by it.
Status MakeCertificates(const std::string& dir) {
  std::string ca_key = os::JoinPath(dir, "ca.key");
  std::string ca_crt = os::JoinPath(dir, "ca.crt");
  RETURN_IF_ERROR(RunChecked({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                              ca_key, "-out", ca_crt, "-days", "3", "-subj", "/CN=comet test CA",
                              "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                              "keyUsage=critical,keyCertSign,cRLSign"}));
  std::string key = os::JoinPath(dir, "server.key");
  std::string csr = os::JoinPath(dir, "server.csr");
  RETURN_IF_ERROR(RunChecked({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                              "-out", csr, "-subj", "/CN=127.0.0.1"}));
  std::string ext = os::JoinPath(dir, "server.ext");
  RETURN_IF_ERROR(os::WriteFile(ext,
                                "basicConstraints=CA:FALSE\n"
                                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                                "extendedKeyUsage=serverAuth\n"
                                "subjectAltName=IP:127.0.0.1,DNS:localhost\n"));
  RETURN_IF_ERROR(RunChecked({"openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey",
                              ca_key, "-CAcreateserial", "-out", os::JoinPath(dir, "server.crt"),
                              "-days", "3", "-extfile", ext}));
  return Ok();
}

}  // namespace

Status RegistryServer::Setup() {
  const std::string& dir = dir_.path();
  ASSIGN_OR_RETURN(port_, FreeLoopbackPort());
  host_port_ = fmt::format("127.0.0.1:{}", port_);
  storage_dir_ = os::JoinPath(dir, "storage");
  log_path_ = os::JoinPath(dir, "registry.log");
  config_path_ = os::JoinPath(dir, "config.yml");
  RETURN_IF_ERROR(os::MkdirAll(storage_dir_));

  std::string config = fmt::format(
      "version: 0.1\n"
      "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
      "storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n"
      "http:\n  addr: {}\n  secret: comet-test-secret\n",
      storage_dir_, host_port_);
  if (options_.tls) {
    RETURN_IF_ERROR(MakeCertificates(dir));
    ca_path_ = os::JoinPath(dir, "ca.crt");
    certs_dir_ = os::JoinPath(dir, "certs.d");
    ASSIGN_OR_RETURN(std::string ca, os::ReadFile(ca_path_));
    for (const auto& name : {host_port_, fmt::format("localhost:{}", port_)}) {
      RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(certs_dir_, name)));
      RETURN_IF_ERROR(os::WriteFile(os::JoinPath(certs_dir_, name + "/ca.crt"), ca));
    }
    config += fmt::format("  tls:\n    certificate: {}\n    key: {}\n",
                          os::JoinPath(dir, "server.crt"), os::JoinPath(dir, "server.key"));
  }
  if (options_.token_auth) {
    RETURN_IF_ERROR(StartTokenServer());
    config += fmt::format(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {}\n"
        "    issuer: {}\n    rootcertbundle: {}\n",
        token_port_, kService, kIssuer, os::JoinPath(dir, "token.crt"));
  } else if (!options_.users.empty()) {
    std::string htpasswd;
    for (const auto& [user, password] : options_.users) {
      ASSIGN_OR_RETURN(std::string line, RunChecked({"htpasswd", "-Bbn", user, password}));
      htpasswd += std::string(TrimSpace(line)) + "\n";
    }
    std::string path = os::JoinPath(dir, "htpasswd");
    RETURN_IF_ERROR(os::WriteFile(path, htpasswd, 0600));
    config += fmt::format("auth:\n  htpasswd:\n    realm: comet-test\n    path: {}\n", path);
  }
  return os::WriteFile(config_path_, config);
}

Status RegistryServer::StartTokenServer() {
  const std::string& dir = dir_.path();
  std::string key = os::JoinPath(dir, "token.key");
  std::string cert = os::JoinPath(dir, "token.crt");
  RETURN_IF_ERROR(
      RunChecked({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                  "-out", cert, "-days", "3", "-subj", "/CN=comet test token issuer"}));
  std::string users;
  for (const auto& [user, password] : options_.users) {
    users.append(user).append(":").append(password).append("\n");
  }
  std::string users_path = os::JoinPath(dir, "token-users");
  RETURN_IF_ERROR(os::WriteFile(users_path, users, 0600));
  ASSIGN_OR_RETURN(token_port_, FreeLoopbackPort());
  std::vector<std::string> argv = {"python3",  COMET_TOKEN_SERVER,
                                   "--port",   std::to_string(token_port_),
                                   "--users",  users_path,
                                   "--key",    key,
                                   "--cert",   cert,
                                   "--issuer", std::string(kIssuer)};
  if (options_.anonymous_pull) {
    argv.emplace_back("--anonymous-pull");
  }
  std::string log = os::JoinPath(dir, "token.log");
  ASSIGN_OR_RETURN(token_pid_, SpawnDaemon(argv, log));
  return WaitForLoopbackPort(token_port_, token_pid_, "token server", log);
}

}  // namespace comet::testing
