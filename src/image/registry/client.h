// A client for registries speaking the OCI distribution spec (v2) / Docker registry API:
// manifests and blobs, bearer-token and basic auth, TLS with the system CAs plus per-registry
// CA directories, plain HTTP only for loopback registries and those the user calls insecure.
// Thread-safe: every call uses its own connection handle; tokens are cached under a mutex.
#ifndef COMET_IMAGE_REGISTRY_CLIENT_H_
#define COMET_IMAGE_REGISTRY_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/digest.h"
#include "image/reference.h"

namespace comet::image::registry {

struct Credentials {
  std::string username;
  std::string password;  // or an identity token when username is "<token>"
};

struct RegistryOptions {
  // "host[:port]" entries reached over plain HTTP, or HTTPS without verifying the certificate.
  std::vector<std::string> insecure_registries;
  // An explicit auth.json (--authfile); when empty the usual places are searched:
  // $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json,
  // $DOCKER_CONFIG/config.json, ~/.docker/config.json.
  std::string auth_file;
  // Explicit credentials (--creds user:pass) win over any auth file.
  std::optional<Credentials> credentials;
  // Per-registry CA certificates: <dir>/<host[:port]>/*.crt (podman's and docker's layout).
  std::vector<std::string> certs_dirs = {"/etc/containers/certs.d", "/etc/docker/certs.d"};
  std::chrono::seconds connect_timeout{30};
  // A transfer slower than 1 KiB/s for this long is aborted (a hung server must not hang us).
  std::chrono::seconds stall_timeout{60};
  std::string user_agent = "comet";
};

struct FetchedManifest {
  std::string media_type;  // the response's Content-Type
  std::string body;        // at most kMaxManifestBytes
  Digest digest;           // sha256 of body (verified against the request when by digest)
};

struct BlobFetch {
  bool resumed = false;   // the server honoured the Range request (206)
  uint64_t received = 0;  // bytes passed to the sink
};

// Called with the bytes received so far; cheap, called often.
using ProgressFn = std::function<void(uint64_t received)>;

class RegistryClient {
 public:
  // `registry` as in Reference::registry ("docker.io" means registry-1.docker.io).
  [[nodiscard]] static Result<std::unique_ptr<RegistryClient>> Create(std::string registry,
                                                                      std::string repository,
                                                                      RegistryOptions options);
  virtual ~RegistryClient() = default;

  // GET /v2/<repo>/manifests/<tag or digest>, accepting OCI and Docker manifests and indexes.
  // 404 is NotFound ("manifest unknown: <ref>"), 401/403 name the registry and say "denied".
  [[nodiscard]] virtual Result<FetchedManifest> GetManifest(std::string_view tag_or_digest) = 0;
  // A small blob (an image config), verified against its digest.
  [[nodiscard]] virtual Result<std::string> GetBlob(const Digest& digest, size_t limit) = 0;
  // Streams a blob from byte `offset` (a Range request when > 0) into `sink`. The caller
  // verifies the digest. When the server answers 200 to a Range request, resumed is false and
  // the sink receives the blob from byte 0 (the caller must have restarted: see
  // `on_restart`, called before the first byte in that case).
  [[nodiscard]] virtual Result<BlobFetch> StreamBlob(
      const Digest& digest, uint64_t offset, const std::function<Status()>& on_restart,
      const std::function<Status(std::string_view)>& sink, const ProgressFn& progress) = 0;

 protected:
  RegistryClient() = default;
};

// Credentials for `registry` from the auth file search list (or options.auth_file), nullopt
// when none. The file content is never logged.
[[nodiscard]] Result<std::optional<Credentials>> LookupCredentials(std::string_view registry,
                                                                   const RegistryOptions& options);

}  // namespace comet::image::registry

#endif  // COMET_IMAGE_REGISTRY_CLIENT_H_
