// FeaturesJson; see features.h. The lists come from names.h, the same tables Validate checks
// against, so that we never advertise what we would reject or the reverse.
#include "oci/features.h"

#include <span>
#include <string_view>

#include "oci/json_internal.h"
#include "oci/names.h"
#include "oci/spec_json.h"

namespace comet::oci {
namespace {

using internal::OrderedJson;

OrderedJson List(std::span<const std::string_view> names) {
  OrderedJson list = OrderedJson::array();
  for (std::string_view name : names) {
    list.push_back(std::string(name));
  }
  return list;
}

}  // namespace

std::string FeaturesJson(const FeaturesOptions& options) {
  OrderedJson seccomp = {
      {"enabled", true},
      {"actions", List(SeccompActions())},
      {"operators", List(SeccompOperators())},
      {"archs", List(SeccompArchitectures())},
      {"knownFlags", List(SeccompFlags())},
      {"supportedFlags", List(SeccompFlags())},
  };
  OrderedJson linux_features = {
      {"namespaces", List(NamespaceTypes())},
      {"capabilities", List(CapabilityNames())},
      // The cgroup layer drives cgroupfs v1 and v2; there is no systemd driver.
      {"cgroup",
       {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
      {"seccomp", std::move(seccomp)},
      {"apparmor", {{"enabled", false}}},
      {"selinux", {{"enabled", false}}},
      {"intelRdt", {{"enabled", false}}},
      {"mountExtensions", {{"idmap", {{"enabled", options.idmap_mounts}}}}},
  };
  OrderedJson out = {
      {"ociVersionMin", "1.0.0"},           {"ociVersionMax", kOciVersion},
      {"hooks", List(HookNames())},         {"mountOptions", List(MountOptions())},
      {"linux", std::move(linux_features)}, {"annotations", options.annotations},
  };
  return internal::Dump(out);
}

}  // namespace comet::oci
