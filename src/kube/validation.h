// Kubernetes' rules for names and keys (k8s.io/apimachinery/pkg/util/validation), for the parser's
// checks. Each returns what is wrong with `value` ("\"Web\": must be a DNS-1123 label: ..."),
// or nullopt when it is valid. Thread-safe (pure functions).
#ifndef COMET_KUBE_VALIDATION_H_
#define COMET_KUBE_VALIDATION_H_

#include <optional>
#include <string>
#include <string_view>

namespace comet::kube::validation {

// RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters (container, volume and
// port names, namespaces, hostnames).
[[nodiscard]] std::optional<std::string> Dns1123Label(std::string_view value);
// RFC 1123 subdomain: such labels joined by '.', at most 253 characters (object names).
[[nodiscard]] std::optional<std::string> Dns1123Subdomain(std::string_view value);
// A label or annotation key: [prefix/]name, the prefix a subdomain, the name at most 63
// characters of [-A-Za-z0-9_.] that start and end alphanumeric.
[[nodiscard]] std::optional<std::string> QualifiedName(std::string_view value);
// A label value: empty, or a name as in QualifiedName.
[[nodiscard]] std::optional<std::string> LabelValue(std::string_view value);
// A named port (IANA service name): at most 15 of [-a-z0-9], a letter at least, no "--", not
// starting or ending with '-'.
[[nodiscard]] std::optional<std::string> PortName(std::string_view value);
// A ConfigMap or Secret key: at most 253 of [-._a-zA-Z0-9], neither "." nor "..", not starting
// with "..".
[[nodiscard]] std::optional<std::string> ConfigMapKey(std::string_view value);
// An environment variable name: printable ASCII without '=' (the API server's relaxed rule,
// which accepts every name a process can be given).
[[nodiscard]] std::optional<std::string> EnvVarName(std::string_view value);
// A relative path with no ".." component (subPath, an item's path in a configMap volume).
[[nodiscard]] std::optional<std::string> RelativePath(std::string_view value);
// An IPv4 or IPv6 address in text.
[[nodiscard]] bool IsIpAddress(std::string_view value);

}  // namespace comet::kube::validation

#endif  // COMET_KUBE_VALIDATION_H_
