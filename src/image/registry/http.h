// A small HTTP client over libcurl easy handles for the registry client: one request per call,
// redirects followed by hand (Authorization dropped when the host changes, bodies never sent
// to another host), bounded bodies, per-host TLS settings, stall, connect and request timeouts.
// Thread-safe: handles are per call and the connection cache is shared under mutexes.
#ifndef COMET_IMAGE_REGISTRY_HTTP_H_
#define COMET_IMAGE_REGISTRY_HTTP_H_

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace comet::image::registry {

// Error codes of transport failures, so that callers can tell them apart.
inline constexpr int kErrTlsHandshake = EPROTO;         // the peer does not speak TLS (or badly)
inline constexpr int kErrCertificate = EKEYREJECTED;    // certificate verification failed
inline constexpr int kErrConnectionReset = ECONNRESET;  // transient, worth a retry

// Per-host TLS settings, from the certs directories.
struct TlsSettings {
  bool verify = true;
  std::string extra_cas;    // PEM, added to the system CAs
  std::string client_cert;  // path of a PEM client certificate (with client_key), or empty
  std::string client_key;
};

struct HttpClientOptions {
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds stall_timeout{60};
  std::string user_agent = "comet";
  std::vector<std::string> certs_dirs;
  // host[:port] authorities reached without TLS verification.
  std::vector<std::string> insecure_hosts;
  // Overall deadline of requests without a sink (manifests, tokens, pings); 0 means none.
  // Blob streams are bounded by the stall timeout only.
  std::chrono::seconds request_timeout{300};
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;  // buffered bodies only (errors, small documents)
  std::string url;   // the final URL, after redirects

  // The first header named `name` (lowercase), or nullopt.
  [[nodiscard]] std::optional<std::string> Header(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> AllHeaders(std::string_view name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"; never credentials
  // "Authorization" value; sent to the original host only, never logged.
  std::string authorization;
  std::string body;  // for POST
  // Bodies of 2xx responses go to `sink` when set (after `on_head` accepted the response);
  // otherwise they are buffered up to `body_limit` (more is an error).
  std::function<Status(const HttpResponse& head)> on_head;
  std::function<Status(std::string_view)> sink;
  size_t body_limit = 1U << 20U;
};

// Outcome details used by retry decisions.
struct HttpAttempt {
  uint64_t sunk = 0;       // bytes passed to the request's sink
  bool transient = false;  // a network failure worth a retry (reset, empty reply)
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) = delete;
  HttpClient& operator=(HttpClient&&) = delete;

  // Sends `request`, following up to 5 redirects. Transport failures are errors; any HTTP status
  // is a response. `attempt` (optional) tells the caller whether a retry makes sense.
  [[nodiscard]] Result<HttpResponse> Send(HttpRequest request, HttpAttempt* attempt = nullptr);

  // The TLS settings for an authority "host[:port]" (cached).
  [[nodiscard]] Result<TlsSettings> TlsFor(const std::string& authority);

 private:
  struct Share;
  [[nodiscard]] Result<HttpResponse> SendOnce(const HttpRequest& request, bool send_auth,
                                              HttpAttempt& attempt);

  HttpClientOptions options_;
  std::unique_ptr<Share> share_;
  std::mutex tls_mutex_;
  std::map<std::string, TlsSettings> tls_cache_;
};

// The parts of an http(s) URL we route on. Errors name the URL (without its query).
struct UrlParts {
  std::string scheme;     // "http" or "https"
  std::string host;       // without brackets for IPv6
  std::string authority;  // "host[:port]" as written (brackets kept)
};
[[nodiscard]] Result<UrlParts> ParseHttpUrl(const std::string& url);

// Whether a redirect from `from` to `to` may be followed: never https -> plain http (but to
// loopback), never from a non-loopback host to loopback, and a request body (`with_body`: a
// 307/308 POST, whose body can hold a refresh token) never leaves its scheme and authority.
[[nodiscard]] Status CheckRedirect(const UrlParts& from, const UrlParts& to, bool with_body);

// The URL without its query string and fragment, for messages and logs.
[[nodiscard]] std::string RedactUrl(std::string_view url);

// Percent-encodes a query component.
[[nodiscard]] std::string UrlEncode(std::string_view text);

// Base64 (standard alphabet, padded), for Basic credentials.
[[nodiscard]] std::string Base64Encode(std::string_view data);
[[nodiscard]] std::optional<std::string> Base64Decode(std::string_view text);

// Reads the *.crt, *.cert and *.key files of <dir>/<authority>/ for each certs dir.
[[nodiscard]] Result<TlsSettings> LoadCertsDirs(const std::vector<std::string>& certs_dirs,
                                                const std::string& authority);

}  // namespace comet::image::registry

#endif  // COMET_IMAGE_REGISTRY_HTTP_H_
