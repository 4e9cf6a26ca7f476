// Image reference parsing after the grammar of docker's distribution/reference package, written
// from its documented grammar. Pure functions; thread-safe.
#include "image/reference.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::image {
namespace {

// distribution/reference's NameTotalLengthMax and the tag grammar's 128 characters.
constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;
// Long enough for any valid reference; longer text is cut in error messages.
constexpr size_t kMaxShown = 300;

std::string Shown(std::string_view text) {
  return Printable(text, kMaxShown);
}

Error Invalid(std::string_view text, std::string_view why) {
  return Error::Invalid(fmt::format("invalid reference \"{}\": {}", Shown(text), why));
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsLowerAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z');
}
bool IsAlnum(char c) {
  return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}
bool IsWord(char c) {
  return IsAlnum(c) || c == '_';
}

// domain-component: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9].
bool IsDomainComponent(std::string_view part) {
  if (part.empty() || !IsAlnum(part.front()) || !IsAlnum(part.back())) {
    return false;
  }
  return std::all_of(part.begin(), part.end(), [](char c) { return IsAlnum(c) || c == '-'; });
}

bool IsDomainName(std::string_view host) {
  while (true) {
    size_t dot = host.find('.');
    if (!IsDomainComponent(host.substr(0, dot))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    host.remove_prefix(dot + 1);
  }
}

bool IsPort(std::string_view port) {
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
    return false;
  }
  unsigned value = 0;
  for (char c : port) {
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

bool IsIpv6(std::string_view address) {
  if (address.empty() || address.size() >= INET6_ADDRSTRLEN) {
    return false;
  }
  std::string copy(address);
  in6_addr parsed{};
  return inet_pton(AF_INET6, copy.c_str(), &parsed) == 1;
}

// Splits "host[:port]" / "[v6][:port]" into the host (brackets kept) and the port (may be
// empty). nullopt when the shape is wrong.
std::optional<std::pair<std::string_view, std::string_view>> SplitHostPort(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return std::nullopt;
    }
    return std::pair{text.substr(0, close + 1), rest.empty() ? rest : rest.substr(1)};
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return std::pair{text, std::string_view()};
  }
  return std::pair{text.substr(0, colon), text.substr(colon + 1)};
}

bool IsValidDomain(std::string_view domain) {
  auto split = SplitHostPort(domain);
  if (!split) {
    return false;
  }
  auto [host, port] = *split;
  if (domain.find(':', host.size()) != std::string_view::npos && !IsPort(port)) {
    return false;
  }
  if (!host.empty() && host.front() == '[') {
    return IsIpv6(host.substr(1, host.size() - 2));
  }
  return IsDomainName(host);
}

// path-component: [a-z0-9]+ (separator [a-z0-9]+)*, separator: [_.] | __ | -+.
bool IsPathComponent(std::string_view part) {
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < part.size() && IsLowerAlnum(part[i])) {
      ++i;
    }
    if (i == start) {
      return false;
    }
    if (i == part.size()) {
      return true;
    }
    size_t sep_start = i;
    while (i < part.size() && !IsLowerAlnum(part[i])) {
      ++i;
    }
    std::string_view sep = part.substr(sep_start, i - sep_start);
    bool dashes = std::all_of(sep.begin(), sep.end(), [](char c) { return c == '-'; });
    if (sep != "." && sep != "_" && sep != "__" && !dashes) {
      return false;
    }
  }
}

Status ValidateRepository(std::string_view text, std::string_view repository) {
  if (std::any_of(repository.begin(), repository.end(),
                  [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Err(
        Invalid(text, fmt::format("repository name \"{}\" must be lowercase", Shown(repository))));
  }
  size_t start = 0;
  while (true) {
    size_t slash = repository.find('/', start);
    std::string_view part = repository.substr(start, slash - start);
    if (!IsPathComponent(part)) {
      return Err(
          Invalid(text, fmt::format("invalid repository path component \"{}\"", Shown(part))));
    }
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  // docker refuses names that look like image IDs, which would be ambiguous.
  if (repository.size() == 64 && std::all_of(repository.begin(), repository.end(), [](char c) {
        return IsDigit(c) || (c >= 'a' && c <= 'f');
      })) {
    return Err(Invalid(text, "repository name cannot be a 64-digit hexadecimal string"));
  }
  return Ok();
}

// tag: [\w][\w.-]{0,127}.
bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength || !IsWord(tag.front())) {
    return false;
  }
  return std::all_of(tag.begin(), tag.end(),
                     [](char c) { return IsWord(c) || c == '.' || c == '-'; });
}

// docker's rule: the first component names a registry when it could not be a repository path
// component of a lowercase name: it has a '.' or ':' or is "localhost".
bool LooksLikeDomain(std::string_view component) {
  return component.find_first_of(".:") != std::string_view::npos || component == "localhost";
}

}  // namespace

std::string Reference::Name() const {
  return registry + "/" + repository;
}

std::string Reference::ToString() const {
  std::string out = Name();
  if (!tag.empty()) {
    out += ":" + tag;
  }
  if (digest) {
    out += "@" + digest->ToString();
  }
  return out;
}

std::string Reference::TagOrDigest() const {
  return digest ? digest->ToString() : tag;
}

Result<Reference> ParseReference(std::string_view text, const ReferenceOptions& options) {
  if (text.empty()) {
    return Err(Error::Invalid("invalid reference: empty"));
  }
  Reference ref;
  std::string_view name = text;
  if (size_t at = name.find('@'); at != std::string_view::npos) {
    auto digest = Digest::Parse(name.substr(at + 1));
    if (!digest) {
      return Err(Invalid(text, digest.error().message()));
    }
    ref.digest = *std::move(digest);
    name = name.substr(0, at);
  }
  size_t last_slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    std::string_view tag = name.substr(colon + 1);
    if (!IsValidTag(tag)) {
      return Err(Invalid(text, fmt::format("invalid tag \"{}\"", Shown(tag))));
    }
    ref.tag = tag;
    name = name.substr(0, colon);
  }
  if (name.empty()) {
    return Err(Invalid(text, "missing repository name"));
  }

  std::string_view repository = name;
  size_t first_slash = name.find('/');
  if (first_slash != std::string_view::npos && LooksLikeDomain(name.substr(0, first_slash))) {
    std::string_view domain = name.substr(0, first_slash);
    if (!IsValidDomain(domain)) {
      return Err(Invalid(text, fmt::format("invalid registry \"{}\"", Shown(domain))));
    }
    ref.registry = domain == "index.docker.io" ? std::string(kDockerHub) : std::string(domain);
    repository = name.substr(first_slash + 1);
  } else {
    if (!IsValidDomain(options.default_registry)) {
      return Err(Invalid(
          text, fmt::format("invalid default registry \"{}\"", Shown(options.default_registry))));
    }
    ref.registry = options.default_registry == "index.docker.io" ? std::string(kDockerHub)
                                                                 : options.default_registry;
  }
  RETURN_IF_ERROR(ValidateRepository(text, repository));
  ref.repository = repository;
  if (ref.registry == kDockerHub && repository.find('/') == std::string_view::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.Name().size() > kMaxNameLength) {
    return Err(Invalid(text, fmt::format("name \"{}\" is longer than {} characters",
                                         Shown(ref.Name()), kMaxNameLength)));
  }
  if (ref.tag.empty() && !ref.digest) {
    ref.tag = "latest";
  }
  return ref;
}

bool IsLoopbackRegistry(std::string_view registry) {
  auto split = SplitHostPort(registry);
  if (!split) {
    return false;
  }
  auto [host, port] = *split;
  if (registry.find(':', host.size()) != std::string_view::npos && !IsPort(port)) {
    return false;
  }
  if (host == "localhost") {
    return true;
  }
  if (!host.empty() && host.front() == '[') {
    std::string copy(host.substr(1, host.size() - 2));
    in6_addr parsed{};
    return copy.size() < INET6_ADDRSTRLEN && inet_pton(AF_INET6, copy.c_str(), &parsed) == 1 &&
           IN6_IS_ADDR_LOOPBACK(&parsed);
  }
  if (host.size() >= INET_ADDRSTRLEN || host.substr(0, 4) != "127.") {
    return false;
  }
  std::string copy(host);
  in_addr parsed{};
  return inet_pton(AF_INET, copy.c_str(), &parsed) == 1;
}

}  // namespace comet::image
