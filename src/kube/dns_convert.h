// A Pod's dnsPolicy and dnsConfig as the pod's resolv.conf fields. There is no cluster DNS on a
// comet node: ClusterFirst and ClusterFirstWithHostNet behave as Default (the host's resolvers,
// which the supervisor copies when the pod sets none), with the dnsConfig merged on top as the
// kubelet merges it (nameservers and searches appended without duplicates, options overriding
// by name). Thread-safe; reads the host's resolv.conf only when a dnsConfig must be merged.
#ifndef COMET_KUBE_DNS_CONVERT_H_
#define COMET_KUBE_DNS_CONVERT_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/objects.h"
#include "kube/to_comet.h"
#include "pod/manifest.h"

namespace comet::kube {

// The kubelet's limits (pkg/kubelet/network/dns: validation.MaxDNSNameservers,
// MaxDNSSearchPaths): what lies beyond is dropped with a warning.
inline constexpr size_t kMaxDnsNameservers = 3;
inline constexpr size_t kMaxDnsSearches = 32;

// Sets manifest->dns, dns_search and dns_opt ("ndots:5" form). Errors name the field
// (`spec.dnsConfig: required with dnsPolicy None`).
[[nodiscard]] Status ConvertDns(const PodSpec& spec, const NodeInfo& node,
                                pod::PodManifest* manifest, std::vector<std::string>* warnings);

// The nameserver, search and options lines of a resolv.conf (the last search line wins, as in
// resolv.conf(5)).
struct ResolvConf {
  std::vector<std::string> nameservers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};
[[nodiscard]] ResolvConf ParseResolvConf(std::string_view text);

}  // namespace comet::kube

#endif  // COMET_KUBE_DNS_CONVERT_H_
