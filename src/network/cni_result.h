// The result a CNI plugin chain prints on ADD (CNI spec 1.0 §5, and the 0.3/0.4 shapes whose
// ips carry a "version"): interfaces, IP configs, routes and DNS. Thread-safe (value types).
#ifndef COMET_NETWORK_CNI_RESULT_H_
#define COMET_NETWORK_CNI_RESULT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace comet::network {

struct CniInterface {
  std::string name;
  std::string mac;
  std::string sandbox;  // the netns path for interfaces inside the pod, empty on the host
};

struct CniIpConfig {
  int version = 4;                    // 4 or 6, from "version" or from the address itself
  std::string address;                // CIDR: "10.0.0.2/24"
  std::string gateway;                // may be empty
  std::optional<uint32_t> interface;  // index into interfaces
};

struct CniRoute {
  std::string dst;  // CIDR
  std::string gw;   // may be empty
};

struct CniDns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
};

struct CniResult {
  std::string cni_version;
  std::vector<CniInterface> interfaces;
  std::vector<CniIpConfig> ips;
  std::vector<CniRoute> routes;
  CniDns dns;

  // The first IP config of `version` on the pod interface `ifname` (or, when the result names
  // no interfaces for its ips, the first of that version at all); nullptr when there is none.
  [[nodiscard]] const CniIpConfig* FirstIp(int version, std::string_view ifname) const;
};

// Reads a result object; unknown members are ignored, wrong types are errors naming the field.
[[nodiscard]] Result<CniResult> ParseCniResult(const json::Json& value);

}  // namespace comet::network

#endif  // COMET_NETWORK_CNI_RESULT_H_
