// URL and encoding helpers for the registry client: parsing http(s) URLs with curl's parser
// (curl_api.h), redacting queries from messages, percent- and base64-encoding. Thread-safe (pure
// functions).
#include <array>
#include <memory>

#include <fmt/format.h>

#include "base/strings.h"
#include "image/registry/curl_api.h"
#include "image/registry/http.h"

namespace comet::image::registry {
namespace {

std::string GetPart(const CurlApi& curl, CURLU* u, CURLUPart part) {
  char* out = nullptr;
  if (curl.url_get(u, part, &out, 0) != CURLUE_OK || out == nullptr) {
    return {};
  }
  std::string value(out);
  curl.free(out);
  return value;
}

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

Result<UrlParts> ParseHttpUrl(const std::string& url) {
  ASSIGN_OR_RETURN(const CurlApi* curl, LibCurl());
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl->url(), curl->url_cleanup);
  if (!u || curl->url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return Err(Error::Invalid(fmt::format("bad URL {}", RedactUrl(url))));
  }
  UrlParts parts;
  parts.scheme = GetPart(*curl, u.get(), CURLUPART_SCHEME);
  parts.host = GetPart(*curl, u.get(), CURLUPART_HOST);
  if (parts.scheme != "http" && parts.scheme != "https") {
    return Err(Error::Invalid(fmt::format("URL {}: scheme must be http or https", RedactUrl(url))));
  }
  if (parts.host.empty()) {
    return Err(Error::Invalid(fmt::format("URL {}: no host", RedactUrl(url))));
  }
  std::string port = GetPart(*curl, u.get(), CURLUPART_PORT);  // empty unless written in the URL
  parts.authority = port.empty() ? parts.host : parts.host + ":" + port;
  if (StartsWith(parts.host, "[") && parts.host.size() > 2) {
    parts.host = parts.host.substr(1, parts.host.size() - 2);
  }
  return parts;
}

std::string RedactUrl(std::string_view url) {
  size_t cut = url.find_first_of("?#");
  std::string out(url.substr(0, cut));
  // Userinfo never appears in URLs we build, but a Location header could carry one.
  size_t scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    size_t at = out.find('@', scheme_end + 3);
    size_t slash = out.find('/', scheme_end + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      out.erase(scheme_end + 3, at + 1 - (scheme_end + 3));
    }
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if ((std::isalnum(c) != 0) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16U) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8U) |
                 static_cast<unsigned char>(data[i + 2]);
    out.push_back(kBase64[(v >> 18U) & 63U]);
    out.push_back(kBase64[(v >> 12U) & 63U]);
    out.push_back(kBase64[(v >> 6U) & 63U]);
    out.push_back(kBase64[v & 63U]);
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16U;
    if (rest == 2) {
      v |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8U;
    }
    out.push_back(kBase64[(v >> 18U) & 63U]);
    out.push_back(kBase64[(v >> 12U) & 63U]);
    out.push_back(rest == 2 ? kBase64[(v >> 6U) & 63U] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    size_t pos = kBase64.find(c);
    if (pos == std::string_view::npos || padding > 0) {
      return std::nullopt;
    }
    acc = (acc << 6U) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  if (padding > 2) {
    return std::nullopt;
  }
  return out;
}

}  // namespace comet::image::registry
