// RegistryClient over HttpClient: the /v2/ ping (scheme and auth challenge, once per client),
// authorization per request, retries of idempotent GETs, manifests and blobs with digest
// checks. Thread-safe: the ping state sits under a mutex, tokens in a TokenCache.
#include "image/registry/client.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "image/manifest.h"
#include "image/registry/auth.h"
#include "image/registry/endpoint.h"
#include "image/registry/http.h"

namespace comet::image::registry {
namespace {

constexpr int kMaxAttempts = 4;
constexpr std::chrono::milliseconds kFirstBackoff{500};
constexpr std::chrono::seconds kMaxBackoff{10};

bool IsRetryableStatus(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::chrono::milliseconds Backoff(int attempt, const HttpResponse* response) {
  if (response != nullptr) {
    if (auto after = response->Header("retry-after")) {
      if (auto secs = ParseInt(*after); secs && *secs >= 0) {
        return std::min<std::chrono::milliseconds>(std::chrono::seconds(*secs), kMaxBackoff);
      }
    }
  }
  return std::min<std::chrono::milliseconds>(kFirstBackoff * (1 << attempt), kMaxBackoff);
}

// The first error of a distribution-spec error document, printable and short.
std::string RegistryErrorText(const std::string& body) {
  try {
    auto json = nlohmann::json::parse(body);
    const auto& errors = json.at("errors");
    if (!errors.is_array() || errors.empty()) {
      return "";
    }
    std::string text = errors[0].value("code", "") + " " + errors[0].value("message", "");
    text.erase(std::remove_if(text.begin(), text.end(),
                              [](unsigned char c) { return c < 0x20 || c >= 0x7f; }),
               text.end());
    return std::string(TrimSpace(text.substr(0, 200)));
  } catch (const nlohmann::json::exception&) {
    return "";
  }
}

bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) {
    return false;
  }
  for (size_t i = 0; i < tag.size(); ++i) {
    auto c = static_cast<unsigned char>(tag[i]);
    bool ok = std::isalnum(c) != 0 || c == '_' || (i > 0 && (c == '.' || c == '-'));
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string ContentType(const HttpResponse& response) {
  std::string type = response.Header("content-type").value_or("");
  return std::string(TrimSpace(std::string_view(type).substr(0, type.find(';'))));
}

class Client final : public RegistryClient {
 public:
  Client(std::string registry, std::string repository, RegistryOptions options,
         std::optional<Credentials> credentials)
      : registry_(std::move(registry)),
        repository_(std::move(repository)),
        options_(std::move(options)),
        credentials_(std::move(credentials)),
        http_(HttpClientOptions{options_.connect_timeout, options_.stall_timeout,
                                options_.user_agent, options_.certs_dirs,
                                options_.insecure_registries,
                                HttpClientOptions{}.request_timeout}) {}

  Result<FetchedManifest> GetManifest(std::string_view tag_or_digest) override;
  Result<std::string> GetBlob(const Digest& digest, size_t limit) override;
  Result<BlobFetch> StreamBlob(const Digest& digest, uint64_t offset,
                               const std::function<Status()>& on_restart,
                               const std::function<Status(std::string_view)>& sink,
                               const ProgressFn& progress) override;

 private:
  struct Endpoint {
    std::string base;  // "https://host[:port]"
    std::optional<Challenge> challenge;
  };
  [[nodiscard]] Result<Endpoint> Ping();
  [[nodiscard]] Result<std::string> Authorization(const std::optional<Challenge>& challenge);
  [[nodiscard]] Result<HttpResponse> Fetch(const std::function<HttpRequest()>& make);
  [[nodiscard]] Error StatusError(const HttpResponse& response, const std::string& what) const;
  [[nodiscard]] std::string Scope() const { return "repository:" + repository_ + ":pull"; }

  std::string registry_;
  std::string repository_;
  RegistryOptions options_;
  std::optional<Credentials> credentials_;
  HttpClient http_;
  TokenCache tokens_;
  std::mutex mutex_;
  std::optional<Endpoint> endpoint_;  // guarded by mutex_
};

Result<Client::Endpoint> Client::Ping() {
  std::lock_guard lock(mutex_);
  if (endpoint_) {
    return *endpoint_;
  }
  std::vector<std::string> schemes = RegistrySchemes(registry_, options_.insecure_registries);
  for (size_t i = 0; i < schemes.size(); ++i) {
    std::string base = schemes[i] + "://" + RegistryHost(registry_);
    HttpRequest request;
    request.url = base + "/v2/";
    auto response = http_.Send(request);
    if (!response) {
      bool plain_next = i + 1 < schemes.size() && response.error().code() == kErrTlsHandshake;
      if (plain_next) {
        log::Debug("registry: {} does not speak TLS, trying plain http", registry_);
        continue;
      }
      Error error = std::move(response).error();
      if (error.code() == kErrTlsHandshake && schemes.size() == 1) {
        error.AddContext(
            fmt::format("{} did not complete a TLS handshake (plain http is used "
                        "only for loopback and insecure registries)",
                        registry_));
      }
      return Err(std::move(error));
    }
    if (response->status == 401) {
      Endpoint endpoint{base, std::nullopt};
      for (auto& challenge :
           ParseWwwAuthenticate(response->Header("www-authenticate").value_or(""))) {
        if (challenge.scheme == "bearer" || (challenge.scheme == "basic" && !endpoint.challenge)) {
          endpoint.challenge = std::move(challenge);
        }
      }
      endpoint_ = std::move(endpoint);
      return *endpoint_;
    }
    if (response->status != 200) {
      return Err(Error(
          EPROTO, fmt::format("{}/v2/: not a registry API (HTTP {})", base, response->status)));
    }
    endpoint_ = Endpoint{base, std::nullopt};
    return *endpoint_;
  }
  return Err(Error(EPROTO, fmt::format("{}: no usable scheme", registry_)));
}

Result<std::string> Client::Authorization(const std::optional<Challenge>& challenge) {
  if (!challenge) {
    return std::string();
  }
  if (challenge->scheme == "basic") {
    return credentials_ ? BasicAuthorization(*credentials_) : std::string();
  }
  if (challenge->scheme != "bearer") {
    return Err(Error(EPROTO, fmt::format("{}: unsupported authentication scheme {}", registry_,
                                         challenge->scheme)));
  }
  std::string scope = Scope();
  if (auto token = tokens_.Get(scope)) {
    return "Bearer " + *token;
  }
  ASSIGN_OR_RETURN(Token token, FetchToken(http_, *challenge, scope, credentials_, registry_));
  std::string header = "Bearer " + token.value;
  tokens_.Put(scope, std::move(token));
  return header;
}

// Sends make()'s request with authorization; renews a rejected token once; retries 429/5xx and
// broken connections while nothing has reached the request's sink.
Result<HttpResponse> Client::Fetch(const std::function<HttpRequest()>& make) {
  ASSIGN_OR_RETURN(Endpoint endpoint, Ping());
  bool renewed = false;
  for (int attempt = 0;; ++attempt) {
    HttpRequest request = make();
    request.url = endpoint.base + request.url;
    ASSIGN_OR_RETURN(request.authorization, Authorization(endpoint.challenge));
    HttpAttempt outcome;
    auto response = http_.Send(std::move(request), &outcome);
    bool more = attempt + 1 < kMaxAttempts && outcome.sunk == 0;
    if (!response) {
      if (!more || !outcome.transient) {
        return Err(std::move(response).error());
      }
      std::this_thread::sleep_for(Backoff(attempt, nullptr));
      continue;
    }
    if (response->status == 401 && !renewed && endpoint.challenge &&
        endpoint.challenge->scheme == "bearer") {
      renewed = true;  // an expired token, or one for a different scope
      tokens_.Drop(Scope());
      --attempt;
      continue;
    }
    if (IsRetryableStatus(response->status) && more) {
      log::Debug("registry: HTTP {} from {}, retrying", response->status, registry_);
      std::this_thread::sleep_for(Backoff(attempt, &*response));
      continue;
    }
    return response;
  }
}

Error Client::StatusError(const HttpResponse& response, const std::string& what) const {
  std::string detail = RegistryErrorText(response.body);
  std::string suffix = detail.empty() ? "" : ": " + detail;
  switch (response.status) {
    case 401:
      return {EACCES, credentials_ ? fmt::format("{}: access denied: invalid username or password "
                                                 "for {}{}",
                                                 what, registry_, suffix)
                                   : fmt::format("{}: access denied: authentication required for "
                                                 "{}{}",
                                                 what, registry_, suffix)};
    case 403:
      return {EACCES, fmt::format("{}: access denied by {}{}", what, registry_, suffix)};
    default:
      return {EPROTO, fmt::format("{}: HTTP {}{}", what, response.status, suffix)};
  }
}

Result<FetchedManifest> Client::GetManifest(std::string_view tag_or_digest) {
  std::optional<Digest> want;
  std::string what;
  if (tag_or_digest.find(':') != std::string_view::npos) {
    ASSIGN_OR_RETURN(want, Digest::Parse(tag_or_digest));
    what = fmt::format("{}/{}@{}", registry_, repository_, tag_or_digest);
  } else if (IsValidTag(tag_or_digest)) {
    what = fmt::format("{}/{}:{}", registry_, repository_, tag_or_digest);
  } else {
    return Err(Error::Invalid("bad tag " + JsonQuote(tag_or_digest)));
  }
  std::string path = fmt::format("/v2/{}/manifests/{}", repository_, tag_or_digest);
  ASSIGN_OR_RETURN(HttpResponse response, Fetch([&path] {
                     HttpRequest request;
                     request.url = path;
                     request.body_limit = kMaxManifestBytes;
                     request.headers.push_back(fmt::format(
                         "Accept: {}, {}, {}, {}", media_type::kOciManifest, media_type::kOciIndex,
                         media_type::kDockerManifest, media_type::kDockerManifestList));
                     return request;
                   }));
  if (response.status == 404) {
    return Err(Error::NotFound("manifest unknown: " + what));
  }
  if (response.status != 200) {
    return Err(StatusError(response, "manifest " + what));
  }
  Digest sha256 = Digest::Sha256Of(response.body);
  FetchedManifest fetched{ContentType(response), std::move(response.body), std::move(sha256)};
  if (want) {
    Hasher hasher(want->algorithm());
    hasher.Update(fetched.body);
    if (hasher.Current() != *want) {
      return Err(Error(EBADMSG, fmt::format("manifest {}: registry returned content for a "
                                            "different digest ({})",
                                            what, hasher.Current().ToString())));
    }
    fetched.digest = *want;
  }
  return fetched;
}

Result<std::string> Client::GetBlob(const Digest& digest, size_t limit) {
  std::string what = fmt::format("blob {}/{}@{}", registry_, repository_, digest.ToString());
  std::string path = fmt::format("/v2/{}/blobs/{}", repository_, digest.ToString());
  ASSIGN_OR_RETURN(HttpResponse response, Fetch([&path, limit] {
                     HttpRequest request;
                     request.url = path;
                     request.body_limit = limit;
                     return request;
                   }));
  if (response.status == 404) {
    return Err(Error::NotFound("blob unknown: " + what.substr(5)));
  }
  if (response.status != 200) {
    return Err(StatusError(response, what));
  }
  Hasher hasher(digest.algorithm());
  hasher.Update(response.body);
  if (hasher.Current() != digest) {
    return Err(Error(EBADMSG, fmt::format("{}: registry returned content for a different digest "
                                          "({})",
                                          what, hasher.Current().ToString())));
  }
  return std::move(response.body);
}

Result<BlobFetch> Client::StreamBlob(const Digest& digest, uint64_t offset,
                                     const std::function<Status()>& on_restart,
                                     const std::function<Status(std::string_view)>& sink,
                                     const ProgressFn& progress) {
  std::string what = fmt::format("blob {}/{}@{}", registry_, repository_, digest.ToString());
  std::string path = fmt::format("/v2/{}/blobs/{}", repository_, digest.ToString());
  BlobFetch fetch;
  // Once the caller has restarted, later attempts must start from 0 too.
  auto restart = [&]() -> Status {
    RETURN_IF_ERROR(on_restart ? on_restart() : Ok());
    offset = 0;
    return Ok();
  };
  auto on_head = [&](const HttpResponse& head) -> Status {
    fetch.resumed = false;
    if (head.status == 206) {
      std::string range = head.Header("content-range").value_or("");
      if (offset == 0 || !StartsWith(range, fmt::format("bytes {}-", offset))) {
        return Err(Error(EPROTO, fmt::format("{}: unexpected Content-Range {}", what,
                                             JsonQuote(range.substr(0, 100)))));
      }
      fetch.resumed = true;
    } else if (offset > 0) {
      return restart();
    }
    return Ok();
  };
  auto on_chunk = [&](std::string_view chunk) -> Status {
    RETURN_IF_ERROR(sink(chunk));
    fetch.received += chunk.size();
    if (progress) {
      progress(fetch.received);
    }
    return Ok();
  };
  for (int tries = 0; tries < 2; ++tries) {
    ASSIGN_OR_RETURN(HttpResponse response, Fetch([&] {
                       HttpRequest request;
                       request.url = path;
                       if (offset > 0) {
                         request.headers.push_back(fmt::format("Range: bytes={}-", offset));
                       }
                       request.on_head = on_head;
                       request.sink = on_chunk;
                       return request;
                     }));
    if (response.status == 416 && offset > 0) {  // the range starts at or past the end
      RETURN_IF_ERROR(restart());
      continue;
    }
    if (response.status == 404) {
      return Err(Error::NotFound("blob unknown: " + what.substr(5)));
    }
    if (response.status != 200 && response.status != 206) {
      return Err(StatusError(response, what));
    }
    return fetch;
  }
  return Err(Error(EPROTO, fmt::format("{}: the registry refused the download range", what)));
}

}  // namespace

Result<std::unique_ptr<RegistryClient>> RegistryClient::Create(std::string registry,
                                                               std::string repository,
                                                               RegistryOptions options) {
  if (registry.empty() || registry.find('/') != std::string::npos) {
    return Err(Error::Invalid("bad registry name " + JsonQuote(registry)));
  }
  if (repository.empty() || repository.find("..") != std::string::npos ||
      repository.find_first_of("?#% \t\r\n") != std::string::npos) {
    return Err(Error::Invalid("bad repository name " + JsonQuote(repository)));
  }
  ASSIGN_OR_RETURN(auto credentials, LookupCredentials(registry, options));
  return std::unique_ptr<RegistryClient>(std::make_unique<Client>(
      std::move(registry), std::move(repository), std::move(options), std::move(credentials)));
}

}  // namespace comet::image::registry
