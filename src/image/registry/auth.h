// Registry authentication: WWW-Authenticate challenges (Bearer and Basic), bearer-token fetches
// from the challenge's realm, and auth.json / docker config.json credential files.
// Thread-safe: pure functions, and TokenCache locks a mutex.
#ifndef COMET_IMAGE_REGISTRY_AUTH_H_
#define COMET_IMAGE_REGISTRY_AUTH_H_

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/registry/client.h"
#include "image/registry/http.h"

namespace comet::image::registry {

struct Challenge {
  std::string scheme;                         // lowercase: "bearer", "basic"
  std::map<std::string, std::string> params;  // lowercase keys: realm, service, scope, error
};

// Parses a WWW-Authenticate header value, which may hold several challenges
// (`Basic realm="x", Bearer realm="y",service="z"`). Unparsable input yields what was parsed.
[[nodiscard]] std::vector<Challenge> ParseWwwAuthenticate(std::string_view header);

struct Token {
  std::string value;
  std::chrono::steady_clock::time_point expires;
};

// Fetches a bearer token for `scope` from the challenge's realm: GET with basic credentials
// (or anonymously), or a POST refresh-token grant for identity tokens. `registry` is for
// messages only. The token never appears in errors or logs.
[[nodiscard]] Result<Token> FetchToken(HttpClient& http, const Challenge& challenge,
                                       const std::string& scope,
                                       const std::optional<Credentials>& credentials,
                                       const std::string& registry);

// Tokens per scope, until shortly before they expire.
class TokenCache {
 public:
  [[nodiscard]] std::optional<std::string> Get(const std::string& scope);
  void Put(const std::string& scope, Token token);
  void Drop(const std::string& scope);

 private:
  std::mutex mutex_;
  std::map<std::string, Token> tokens_;
};

// The "Authorization" value for basic credentials.
[[nodiscard]] std::string BasicAuthorization(const Credentials& credentials);

// Credentials for `registry` in one auth.json / config.json file: nullopt when the file or the
// entry is missing. Malformed files are errors naming the file, never quoting it.
[[nodiscard]] Result<std::optional<Credentials>> CredentialsFromFile(const std::string& path,
                                                                     std::string_view registry);

// The auth files searched when no --authfile is given, in order.
[[nodiscard]] std::vector<std::string> DefaultAuthFiles();

}  // namespace comet::image::registry

#endif  // COMET_IMAGE_REGISTRY_AUTH_H_
