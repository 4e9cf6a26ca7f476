// Bearer/Basic challenges and token fetches (distribution spec "token authentication", docker's
// OAuth2 refresh-token grant for identity tokens). Thread-safe: TokenCache locks; the rest is
// pure or uses a thread-safe HttpClient.
#include "image/registry/auth.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "image/reference.h"

namespace comet::image::registry {
namespace {

constexpr size_t kMaxTokenResponse = 1U << 20U;
constexpr std::chrono::seconds kMinTokenLifetime{60};  // docker's floor for "expires_in"
constexpr std::chrono::seconds kExpiryMargin{10};

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t';
}

std::string ReadQuoted(std::string_view text, size_t& i) {
  std::string value;
  ++i;  // the opening quote
  while (i < text.size() && text[i] != '"') {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
    }
    value.push_back(text[i]);
    ++i;
  }
  if (i < text.size()) {
    ++i;  // the closing quote
  }
  return value;
}

struct TokenJson {
  std::string token;
  long long expires_in = 0;
};

Result<TokenJson> ParseTokenResponse(const std::string& body, const std::string& registry) {
  auto bad = [&registry](std::string_view why) {
    return Error(EPROTO, fmt::format("token server for {}: {}", registry, why));
  };
  try {
    auto json = nlohmann::json::parse(body);
    if (!json.is_object()) {
      return Err(bad("response is not a JSON object"));
    }
    TokenJson out;
    for (const char* key : {"token", "access_token"}) {
      auto it = json.find(key);
      if (it != json.end() && it->is_string() && !it->get<std::string>().empty()) {
        out.token = it->get<std::string>();
        break;
      }
    }
    if (out.token.empty()) {
      return Err(bad("response has no \"token\""));
    }
    auto exp = json.find("expires_in");
    if (exp != json.end() && exp->is_number_integer()) {
      out.expires_in = exp->get<long long>();
    }
    return out;
  } catch (const nlohmann::json::exception&) {
    return Err(bad("response is not valid JSON"));
  }
}

HttpRequest TokenRequest(const std::string& realm, const Challenge& challenge,
                         const std::string& scope, const std::optional<Credentials>& credentials) {
  auto service = challenge.params.find("service");
  HttpRequest request;
  request.body_limit = kMaxTokenResponse;
  request.headers.emplace_back("Accept: application/json");
  if (credentials && credentials->username == "<token>") {
    request.method = "POST";
    request.url = realm;
    request.headers.emplace_back("Content-Type: application/x-www-form-urlencoded");
    request.body = "grant_type=refresh_token&client_id=comet&refresh_token=" +
                   UrlEncode(credentials->password);
    if (service != challenge.params.end()) {
      request.body += "&service=" + UrlEncode(service->second);
    }
    if (!scope.empty()) {
      request.body += "&scope=" + UrlEncode(scope);
    }
    return request;
  }
  std::string query;
  if (service != challenge.params.end()) {
    query += "service=" + UrlEncode(service->second);
  }
  if (!scope.empty()) {
    query += (query.empty() ? "scope=" : "&scope=") + UrlEncode(scope);
  }
  request.url = realm;
  if (!query.empty()) {
    request.url += (realm.find('?') == std::string::npos ? "?" : "&") + query;
  }
  if (credentials) {
    request.authorization = BasicAuthorization(*credentials);
  }
  return request;
}

}  // namespace

std::vector<Challenge> ParseWwwAuthenticate(std::string_view header) {
  std::vector<Challenge> out;
  size_t i = 0;
  auto skip = [&header, &i](auto pred) {
    while (i < header.size() && pred(header[i])) {
      ++i;
    }
  };
  auto is_token_char = [](char c) { return !IsSpace(c) && c != '=' && c != ','; };
  while (i < header.size()) {
    skip([](char c) { return IsSpace(c) || c == ','; });
    size_t start = i;
    skip(is_token_char);
    if (i == start) {
      ++i;  // a stray '=': skip it
      continue;
    }
    std::string token = Lower(header.substr(start, i - start));
    skip(IsSpace);
    if (i >= header.size() || header[i] != '=' || out.empty()) {
      out.push_back(Challenge{std::move(token), {}});
      continue;
    }
    ++i;
    skip(IsSpace);
    std::string value;
    if (i < header.size() && header[i] == '"') {
      value = ReadQuoted(header, i);
    } else {
      size_t vstart = i;
      skip([](char c) { return c != ',' && !IsSpace(c); });
      value = std::string(header.substr(vstart, i - vstart));
    }
    out.back().params[token] = std::move(value);
  }
  return out;
}

std::string BasicAuthorization(const Credentials& credentials) {
  return "Basic " + Base64Encode(credentials.username + ":" + credentials.password);
}

Result<Token> FetchToken(HttpClient& http, const Challenge& challenge, const std::string& scope,
                         const std::optional<Credentials>& credentials,
                         const std::string& registry) {
  auto realm = challenge.params.find("realm");
  if (realm == challenge.params.end() || realm->second.empty()) {
    return Err(Error(EPROTO, fmt::format("{}: bearer challenge without a realm", registry)));
  }
  ASSIGN_OR_RETURN(UrlParts where, ParseHttpUrl(realm->second));
  if (credentials && where.scheme != "https" && !IsLoopbackRegistry(where.authority)) {
    return Err(Error(EPERM, fmt::format("refusing to send the credentials for {} over plain "
                                        "http to the token server {}",
                                        registry, RedactUrl(realm->second))));
  }
  HttpRequest request = TokenRequest(realm->second, challenge, scope, credentials);
  ASSIGN_OR_RETURN(HttpResponse response, http.Send(std::move(request)));
  if (response.status == 401 || response.status == 403) {
    return Err(Error(EACCES, credentials
                                 ? fmt::format("invalid username or password for {}", registry)
                                 : fmt::format("authentication required for {}", registry)));
  }
  if (response.status != 200) {
    return Err(Error(EPROTO, fmt::format("token server {} for {}: HTTP {}",
                                         RedactUrl(realm->second), registry, response.status)));
  }
  ASSIGN_OR_RETURN(TokenJson parsed, ParseTokenResponse(response.body, registry));
  std::chrono::seconds lifetime =
      std::max(kMinTokenLifetime, std::chrono::seconds(parsed.expires_in));
  log::Debug("registry: got a token for {} scope {}", registry, scope);
  return Token{std::move(parsed.token), std::chrono::steady_clock::now() + lifetime};
}

std::optional<std::string> TokenCache::Get(const std::string& scope) {
  std::lock_guard lock(mutex_);
  auto it = tokens_.find(scope);
  if (it == tokens_.end()) {
    return std::nullopt;
  }
  if (std::chrono::steady_clock::now() + kExpiryMargin >= it->second.expires) {
    tokens_.erase(it);
    return std::nullopt;
  }
  return it->second.value;
}

void TokenCache::Put(const std::string& scope, Token token) {
  std::lock_guard lock(mutex_);
  tokens_[scope] = std::move(token);
}

void TokenCache::Drop(const std::string& scope) {
  std::lock_guard lock(mutex_);
  tokens_.erase(scope);
}

}  // namespace comet::image::registry
