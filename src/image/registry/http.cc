// HttpClient over libcurl (loaded on first use, curl_api.h): see http.h. Thread-safe: one easy
// handle per request; the share handle (connections, DNS, TLS sessions) locks with one mutex per
// curl lock type.
#include "image/registry/http.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "image/reference.h"
#include "image/registry/curl_api.h"
#include "os/file.h"

namespace comet::image::registry {
namespace {

constexpr int kMaxRedirects = 5;
constexpr size_t kMaxErrorBody = 64U << 10U;
constexpr size_t kMaxHeaderBytes = 256U << 10U;
constexpr size_t kMaxCaBundle = 64U << 20U;

using EasyPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using SlistPtr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// What a transfer accumulates; curl's callbacks get it as userdata.
struct Transfer {
  const CurlApi* curl = nullptr;
  const HttpRequest* request = nullptr;
  HttpResponse response;
  size_t header_bytes = 0;
  bool head_done = false;
  bool streaming = false;  // the body goes to request->sink
  Status failure;          // why a callback aborted the transfer
  uint64_t sunk = 0;
  bool error_body_full = false;  // a non-2xx body reached kMaxErrorBody: transfer stopped
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  t->header_bytes += n;
  if (t->header_bytes > kMaxHeaderBytes) {
    t->failure = Err(Error(EMSGSIZE, "response headers too large"));
    return 0;
  }
  std::string_view line(data, n);
  line = TrimSpace(line);
  if (StartsWith(line, "HTTP/")) {  // a new response (after 100 Continue or a proxy's CONNECT)
    t->response.headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    t->response.headers.emplace_back(Lower(TrimSpace(line.substr(0, colon))),
                                     std::string(TrimSpace(line.substr(colon + 1))));
  }
  return n;
}

bool Is2xx(long status) {
  return status >= 200 && status < 300;
}

// Called before the first body byte and after the transfer (for empty bodies).
Status StartBody(CURL* easy, Transfer& t) {
  t.head_done = true;
  t.curl->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t.response.status);
  if (Is2xx(t.response.status)) {
    if (t.request->on_head) {
      RETURN_IF_ERROR(t.request->on_head(t.response));
    }
    t.streaming = static_cast<bool>(t.request->sink);
  }
  return Ok();
}

struct WriteContext {
  CURL* easy;
  Transfer* transfer;
};

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* ctx = static_cast<WriteContext*>(user);
  Transfer& t = *ctx->transfer;
  size_t n = size * count;
  if (!t.head_done) {
    t.failure = StartBody(ctx->easy, t);
    if (!t.failure) {
      return 0;
    }
  }
  std::string_view chunk(data, n);
  if (t.streaming) {
    t.failure = t.request->sink(chunk);
    if (!t.failure) {
      return 0;
    }
    t.sunk += n;
    return n;
  }
  if (!Is2xx(t.response.status)) {  // an error document: keep its beginning only
    size_t room = kMaxErrorBody - std::min(kMaxErrorBody, t.response.body.size());
    t.response.body.append(chunk.substr(0, room));
    if (n >= room) {
      // Enough to report: stop here rather than reading an endless error body forever.
      t.error_body_full = true;
      return 0;
    }
    return n;
  }
  if (t.response.body.size() + n > t.request->body_limit) {
    t.failure = Err(Error(EFBIG, fmt::format("response body from {} exceeds {} bytes",
                                             RedactUrl(t.request->url), t.request->body_limit)));
    return 0;
  }
  t.response.body.append(chunk);
  return n;
}

bool IsTransient(CURLcode code) {
  switch (code) {
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

Error CurlError(const CurlApi& curl, CURLcode code, long os_errno, const char* errbuf,
                const std::string& url, const HttpClientOptions& options) {
  std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : curl.easy_strerror(code);
  std::string where = RedactUrl(url);
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      if (os_errno == ECONNREFUSED) {
        return {ECONNREFUSED, fmt::format("connecting to {}: connection refused", where)};
      }
      return {ECONNREFUSED, fmt::format("connecting to {}: {}", where, detail)};
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return {EHOSTUNREACH, fmt::format("resolving the host of {}: {}", where, detail)};
    case CURLE_OPERATION_TIMEDOUT:
      return {
          ETIMEDOUT,
          fmt::format("{}: timed out (connect timeout {}s, or under 1 KiB/s for {}s): {}", where,
                      options.connect_timeout.count(), options.stall_timeout.count(), detail)};
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM: {
      std::string dir = options.certs_dirs.empty() ? "<certs.d>" : options.certs_dirs.front();
      auto parts = ParseHttpUrl(url);
      return {kErrCertificate,
              fmt::format("TLS certificate problem with {}: {} (put the registry's CA "
                          "certificate in {}/{}/ca.crt, or mark the registry insecure)",
                          where, detail, dir, parts ? parts->authority : "<host:port>")};
    }
    case CURLE_SSL_CONNECT_ERROR:
      return {kErrTlsHandshake, fmt::format("TLS handshake with {}: {}", where, detail)};
    default:
      if (IsTransient(code)) {
        return {kErrConnectionReset, fmt::format("transfer from {}: {}", where, detail)};
      }
      return {EIO, fmt::format("request to {}: {}", where, detail)};
  }
}

SlistPtr HeaderList(const CurlApi& curl, const HttpRequest& request, bool send_auth) {
  SlistPtr headers(nullptr, curl.slist_free_all);
  auto add_header = [&curl, &headers](const std::string& line) {
    curl_slist* next = curl.slist_append(headers.get(), line.c_str());
    if (next != nullptr) {
      static_cast<void>(headers.release());  // curl_slist_append extended the same list
      headers.reset(next);
    }
  };
  for (const auto& line : request.headers) {
    add_header(line);
  }
  if (send_auth && !request.authorization.empty()) {
    add_header("Authorization: " + request.authorization);
  }
  return headers;
}

// Everything but the per-transfer pointers, the share and TLS.
void SetCommonOptions(const CurlApi& curl, CURL* h, const HttpClientOptions& options,
                      const HttpRequest& request, curl_slist* headers) {
  curl.easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options.connect_timeout.count()));
  curl.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stall_timeout.count()));
  curl.easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl.easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
  curl.easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 15L);
  curl.easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl.easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnWrite);
  if (request.sink) {
    // Blob streams: big reads; only the stall timeout bounds them (layers can take hours).
    curl.easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
  } else if (options.request_timeout.count() > 0) {
    // Manifests, tokens, pings: small documents, so an overall deadline too.
    curl.easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(options.request_timeout.count()));
  }
  if (request.method == "POST") {
    curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl.easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
  } else if (request.method == "HEAD") {
    curl.easy_setopt(h, CURLOPT_NOBODY, 1L);
  }
}

// `blob` must outlive the transfer (CURL_BLOB_NOCOPY; `tls` too).
void SetTlsOptions(const CurlApi& curl, CURL* h, TlsSettings& tls, curl_blob& blob) {
  curl.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1L : 0L);
  curl.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2L : 0L);
  if (!tls.extra_cas.empty()) {
    blob.data = tls.extra_cas.data();
    blob.len = tls.extra_cas.size();
    blob.flags = CURL_BLOB_NOCOPY;
    curl.easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!tls.client_cert.empty()) {
    curl.easy_setopt(h, CURLOPT_SSLCERT, tls.client_cert.c_str());
    curl.easy_setopt(h, CURLOPT_SSLKEY, tls.client_key.c_str());
  }
}

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

Status CheckRedirect(const UrlParts& from, const UrlParts& to, bool with_body) {
  if (from.scheme == "https" && to.scheme == "http" && !IsLoopbackRegistry(to.authority)) {
    return Err(Error(EPERM, fmt::format("refusing a redirect from https {} to plain http {}",
                                        from.authority, to.authority)));
  }
  // A remote registry must not make us talk to services on our own loopback.
  if (IsLoopbackRegistry(to.authority) && !IsLoopbackRegistry(from.authority)) {
    return Err(Error(EPERM, fmt::format("refusing a redirect from {} to loopback {}",
                                        from.authority, to.authority)));
  }
  // 307/308 resend the body (a token POST carries a refresh token): same origin only.
  if (with_body && (from.authority != to.authority || from.scheme != to.scheme)) {
    return Err(Error(EPERM, fmt::format("refusing to resend credentials to {}", to.authority)));
  }
  return Ok();
}

namespace {

// Resolves `location` against `base` with curl's URL parser.
Result<std::string> ResolveLocation(const std::string& base, const std::string& location) {
  ASSIGN_OR_RETURN(const CurlApi* curl, LibCurl());
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl->url(), curl->url_cleanup);
  if (!u || curl->url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl->url_set(u.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK) {
    return Err(Error::Invalid(
        fmt::format("redirect from {}: bad Location {}", RedactUrl(base), RedactUrl(location))));
  }
  char* out = nullptr;
  if (curl->url_get(u.get(), CURLUPART_URL, &out, 0) != CURLUE_OK) {
    return Err(Error::Invalid(fmt::format("redirect from {}: bad Location", RedactUrl(base))));
  }
  std::string resolved(out);
  curl->free(out);
  return resolved;
}

}  // namespace

struct HttpClient::Share {
  const CurlApi* curl = nullptr;  // null when libcurl could not be loaded
  CURLSH* handle = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
  std::once_flag ca_once;
  std::string system_cas;  // the system CA bundle, read once when a host needs extra CAs

  static void Lock(CURL* /*easy*/, curl_lock_data data, curl_lock_access /*access*/, void* user) {
    static_cast<Share*>(user)->locks.at(static_cast<size_t>(data)).lock();
  }
  static void Unlock(CURL* /*easy*/, curl_lock_data data, void* user) {
    static_cast<Share*>(user)->locks.at(static_cast<size_t>(data)).unlock();
  }
};

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return value;
    }
  }
  return std::nullopt;
}

std::vector<std::string> HttpResponse::AllHeaders(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : headers) {
    if (key == name) {
      out.push_back(value);
    }
  }
  return out;
}

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), share_(std::make_unique<Share>()) {
  // Without libcurl there is no share; every request then fails with LibCurl()'s error.
  Result<const CurlApi*> loaded = LibCurl();
  if (!loaded) {
    return;
  }
  const CurlApi& curl = **loaded;
  share_->curl = &curl;
  share_->handle = curl.share_init();
  if (share_->handle != nullptr) {
    curl.share_setopt(share_->handle, CURLSHOPT_LOCKFUNC, &Share::Lock);
    curl.share_setopt(share_->handle, CURLSHOPT_UNLOCKFUNC, &Share::Unlock);
    curl.share_setopt(share_->handle, CURLSHOPT_USERDATA, share_.get());
    curl.share_setopt(share_->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl.share_setopt(share_->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl.share_setopt(share_->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
}

HttpClient::~HttpClient() {
  if (share_->handle != nullptr) {
    share_->curl->share_cleanup(share_->handle);
  }
}

Result<TlsSettings> HttpClient::TlsFor(const std::string& authority) {
  {
    std::lock_guard lock(tls_mutex_);
    auto it = tls_cache_.find(authority);
    if (it != tls_cache_.end()) {
      return it->second;
    }
  }
  ASSIGN_OR_RETURN(TlsSettings tls, LoadCertsDirs(options_.certs_dirs, authority));
  tls.verify = std::find(options_.insecure_hosts.begin(), options_.insecure_hosts.end(),
                         authority) == options_.insecure_hosts.end();
  if (!tls.extra_cas.empty()) {
    ASSIGN_OR_RETURN(const CurlApi* curl, LibCurl());
    // CURLOPT_CAINFO_BLOB replaces the default bundle, so prepend the system CAs.
    std::call_once(share_->ca_once, [this, curl] {
      EasyPtr probe(curl->easy_init(), curl->easy_cleanup);
      char* path = nullptr;
      if (probe && curl->easy_getinfo(probe.get(), CURLINFO_CAINFO, &path) == CURLE_OK &&
          path != nullptr) {
        auto pem = os::ReadFileLimited(path, kMaxCaBundle);
        if (pem) {
          share_->system_cas = std::move(*pem);
        }
      }
    });
    tls.extra_cas = share_->system_cas + "\n" + tls.extra_cas;
  }
  std::lock_guard lock(tls_mutex_);
  tls_cache_.emplace(authority, tls);
  return tls;
}

Result<HttpResponse> HttpClient::Send(HttpRequest request, HttpAttempt* attempt) {
  HttpAttempt local;
  HttpAttempt& att = attempt != nullptr ? *attempt : local;
  ASSIGN_OR_RETURN(UrlParts origin, ParseHttpUrl(request.url));
  for (int hop = 0;; ++hop) {
    ASSIGN_OR_RETURN(UrlParts here, ParseHttpUrl(request.url));
    bool send_auth = here.authority == origin.authority && here.scheme == origin.scheme;
    ASSIGN_OR_RETURN(HttpResponse response, SendOnce(request, send_auth, att));
    auto location = response.Header("location");
    if (!IsRedirect(response.status) || !location) {
      return response;
    }
    if (hop >= kMaxRedirects) {
      return Err(Error(ELOOP, fmt::format("too many redirects from {}", RedactUrl(request.url))));
    }
    ASSIGN_OR_RETURN(std::string next, ResolveLocation(request.url, *location));
    ASSIGN_OR_RETURN(UrlParts there, ParseHttpUrl(next));
    // 301/302/303 turn a POST into a GET without its body (as browsers do); 307/308 keep both.
    if (response.status != 307 && response.status != 308 && request.method == "POST") {
      request.method = "GET";
      request.body.clear();
    }
    bool with_body = request.method == "POST" || !request.body.empty();
    RETURN_IF_ERROR_CTX(CheckRedirect(here, there, with_body),
                        fmt::format("redirect from {}", RedactUrl(request.url)));
    log::Debug("registry: {} redirected to {}", RedactUrl(request.url), RedactUrl(next));
    request.url = std::move(next);
  }
}

Result<HttpResponse> HttpClient::SendOnce(const HttpRequest& request, bool send_auth,
                                          HttpAttempt& attempt) {
  ASSIGN_OR_RETURN(const CurlApi* curl, LibCurl());
  ASSIGN_OR_RETURN(UrlParts url, ParseHttpUrl(request.url));
  TlsSettings tls;
  if (url.scheme == "https") {
    ASSIGN_OR_RETURN(tls, TlsFor(url.authority));
  }
  EasyPtr easy(curl->easy_init(), curl->easy_cleanup);
  if (!easy) {
    return Err(Error(ENOMEM, "curl_easy_init failed"));
  }
  CURL* h = easy.get();
  Transfer transfer;
  transfer.curl = curl;
  transfer.request = &request;
  WriteContext ctx{h, &transfer};
  std::array<char, CURL_ERROR_SIZE> errbuf{};

  SlistPtr headers = HeaderList(*curl, request, send_auth);

  SetCommonOptions(*curl, h, options_, request, headers.get());
  curl->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf.data());
  curl->easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl->easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
  if (share_->handle != nullptr) {
    curl->easy_setopt(h, CURLOPT_SHARE, share_->handle);
  }
  if (IsLoopbackRegistry(url.authority)) {
    curl->easy_setopt(h, CURLOPT_PROXY, "");  // a proxy cannot reach our loopback
  }
  curl_blob blob{};
  if (url.scheme == "https") {
    SetTlsOptions(*curl, h, tls, blob);
  }
  log::Debug("registry: {} {}", request.method, RedactUrl(request.url));
  CURLcode code = curl->easy_perform(h);
  attempt.sunk += transfer.sunk;
  if (!transfer.failure) {
    return Err(std::move(transfer.failure).error());
  }
  long status = 0;
  curl->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  // An error document cut short is still an answer (docker-registry declares the blob's length
  // on its 416 and then closes): its body only ever feeds messages.
  bool error_answer =
      status >= 300 && transfer.sunk == 0 &&
      (IsTransient(code) || (code == CURLE_WRITE_ERROR && transfer.error_body_full));
  if (code != CURLE_OK && !error_answer) {
    attempt.transient = IsTransient(code);
    long os_errno = 0;
    curl->easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    return Err(CurlError(*curl, code, os_errno, errbuf.data(), request.url, options_));
  }
  if (!transfer.head_done) {
    RETURN_IF_ERROR(StartBody(h, transfer));
  }
  char* effective = nullptr;
  curl->easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective);
  transfer.response.url = effective != nullptr ? effective : request.url;
  log::Debug("registry: {} {} -> {}", request.method, RedactUrl(request.url),
             transfer.response.status);
  return std::move(transfer.response);
}

}  // namespace comet::image::registry
