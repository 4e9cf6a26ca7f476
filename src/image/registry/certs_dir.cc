// Per-registry certificates in podman's and docker's layout: <dir>/<host[:port]>/*.crt are CA
// certificates, *.cert/*.key pairs client certificates. Thread-safe (reads files only).
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "image/registry/http.h"
#include "os/file.h"

namespace comet::image::registry {
namespace {

constexpr size_t kMaxCertFile = 1U << 20U;

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Result<TlsSettings> LoadCertsDirs(const std::vector<std::string>& certs_dirs,
                                  const std::string& authority) {
  TlsSettings tls;
  if (authority.empty() || authority.find('/') != std::string::npos || authority == "." ||
      authority == "..") {
    return tls;
  }
  for (const auto& base : certs_dirs) {
    std::string dir = os::JoinPath(base, authority);
    if (!os::IsDirectory(dir)) {
      continue;
    }
    std::error_code ec;
    std::vector<std::string> names;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) {
      return Err(Error::FromCode(ec.value(), "listing", dir));
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string path = os::JoinPath(dir, name);
      if (EndsWith(name, ".crt")) {
        ASSIGN_OR_RETURN(std::string pem, os::ReadFileLimited(path, kMaxCertFile));
        tls.extra_cas += pem;
        tls.extra_cas += "\n";
      } else if (EndsWith(name, ".cert")) {
        std::string key = path.substr(0, path.size() - 5) + ".key";
        if (!os::Exists(key)) {
          return Err(Error::Invalid(fmt::format("client certificate {} has no key {}", path, key)));
        }
        tls.client_cert = path;
        tls.client_key = key;
      } else if (EndsWith(name, ".key")) {
        std::string cert = path.substr(0, path.size() - 4) + ".cert";
        if (!os::Exists(cert)) {
          return Err(
              Error::Invalid(fmt::format("client key {} has no certificate {}", path, cert)));
        }
      }
    }
  }
  return tls;
}

}  // namespace comet::image::registry
