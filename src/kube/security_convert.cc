// ApplySecurityContext, CometDefaultCapabilities; see security_convert.h.
#include "kube/security_convert.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/convert_internal.h"
#include "oci/names.h"

namespace comet::kube {
namespace {

using internal::FieldError;
using internal::Indexed;

template <class T, class U>
bool Contains(const std::vector<T>& list, const U& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// "net_admin" / "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "ALL" stays "ALL".
Result<std::string> NormalizeCapability(std::string_view name, const std::string& field) {
  std::string upper;
  for (char c : name) {
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (upper == "ALL") {
    return upper;
  }
  if (!StartsWith(upper, "CAP_")) {
    upper.insert(0, "CAP_");
  }
  if (oci::CapabilityNumber(upper) < 0) {
    return Err(FieldError(field, fmt::format("unknown capability \"{}\"", Printable(name, 64))));
  }
  return upper;
}

std::vector<std::string> AllCapabilities() {
  std::vector<std::string> all;
  for (std::string_view name : oci::CapabilityNames()) {
    all.emplace_back(name);
  }
  return all;
}

// containerd's order (WithCapabilities in its CRI plugin): "ALL" in add, then "ALL" in drop,
// then the single additions, then the single drops — so a drop wins over an add.
Result<std::vector<std::string>> CapabilitySet(const Capabilities& caps, const std::string& field) {
  std::vector<std::string> add;
  std::vector<std::string> drop;
  for (size_t i = 0; i < caps.add.size(); ++i) {
    ASSIGN_OR_RETURN(std::string cap, NormalizeCapability(caps.add[i], Indexed(field + ".add", i)));
    add.push_back(std::move(cap));
  }
  for (size_t i = 0; i < caps.drop.size(); ++i) {
    ASSIGN_OR_RETURN(std::string cap,
                     NormalizeCapability(caps.drop[i], Indexed(field + ".drop", i)));
    drop.push_back(std::move(cap));
  }
  std::vector<std::string> set = CometDefaultCapabilities();
  if (Contains(add, "ALL")) {
    set = AllCapabilities();
  }
  if (Contains(drop, "ALL")) {
    set.clear();
  }
  for (const std::string& cap : add) {
    if (cap != "ALL" && !Contains(set, cap)) {
      set.push_back(cap);
    }
  }
  std::erase_if(set, [&](const std::string& cap) { return Contains(drop, cap); });
  return set;
}

// pod::App says "the default set" with an empty caps_retain, so a set within the defaults is
// written as the defaults it lacks (caps_remove), any other as itself.
void SetCapabilities(const std::vector<std::string>& set, pod::App& app) {
  const std::vector<std::string>& defaults = CometDefaultCapabilities();
  const bool within_defaults = std::all_of(
      set.begin(), set.end(), [&](const std::string& cap) { return Contains(defaults, cap); });
  if (!within_defaults) {
    app.caps_retain = set;
    return;
  }
  for (const std::string& cap : defaults) {
    if (!Contains(set, cap)) {
      app.caps_remove.push_back(cap);
    }
  }
}

Result<uint32_t> Id(int64_t id, const std::string& field) {
  if (id < 0 || id > std::numeric_limits<uint32_t>::max() - 1) {
    return Err(FieldError(field, fmt::format("{} is not a valid id", id)));
  }
  return static_cast<uint32_t>(id);
}

Status SetGroups(const PodSecurityContext& pod, pod::App& app) {
  for (size_t i = 0; i < pod.supplemental_groups.size(); ++i) {
    ASSIGN_OR_RETURN(uint32_t gid, Id(pod.supplemental_groups[i],
                                      Indexed("spec.securityContext.supplementalGroups", i)));
    if (!Contains(app.supplementary_gids, gid)) {
      app.supplementary_gids.push_back(gid);
    }
  }
  if (pod.fs_group) {
    ASSIGN_OR_RETURN(uint32_t gid, Id(*pod.fs_group, "spec.securityContext.fsGroup"));
    if (!Contains(app.supplementary_gids, gid)) {
      app.supplementary_gids.push_back(gid);
    }
  }
  return Ok();
}

// The container's value, else the pod's.
template <class T>
std::optional<T> Pick(const std::optional<T>& container, const std::optional<T>& pod) {
  return container ? container : pod;
}

Status SetUser(const SecurityContext& own, const PodSecurityContext& pod, std::string_view field,
               ContainerDraft* draft) {
  const std::string own_field = fmt::format("{}.securityContext", field);
  const bool own_user = own.run_as_user.has_value();
  if (auto user = Pick(own.run_as_user, pod.run_as_user)) {
    ASSIGN_OR_RETURN(uint32_t uid, Id(*user, own_user ? own_field + ".runAsUser"
                                                      : "spec.securityContext.runAsUser"));
    draft->user = std::to_string(uid);
  }
  if (auto group = Pick(own.run_as_group, pod.run_as_group)) {
    ASSIGN_OR_RETURN(uint32_t gid,
                     Id(*group, own.run_as_group ? own_field + ".runAsGroup"
                                                 : "spec.securityContext.runAsGroup"));
    draft->group = std::to_string(gid);
  }
  draft->run_as_non_root = Pick(own.run_as_non_root, pod.run_as_non_root).value_or(false);
  if (draft->run_as_non_root && draft->user == "0") {
    return Err(FieldError(own_user ? own_field + ".runAsUser" : "spec.securityContext.runAsUser",
                          "0 (root) but runAsNonRoot is true"));
  }
  return Ok();
}

SeccompChoice Seccomp(const std::optional<SeccompProfile>& profile, const std::string& field,
                      std::vector<std::string>* warnings) {
  if (!profile || profile->type.empty() || profile->type == "RuntimeDefault") {
    return SeccompChoice::kRuntimeDefault;
  }
  if (profile->type == "Unconfined") {
    return SeccompChoice::kUnconfined;
  }
  warnings->push_back(fmt::format("{}: type {}: not supported, using the runtime default profile",
                                  field, Printable(profile->type, 64)));
  return SeccompChoice::kRuntimeDefault;
}

}  // namespace

const std::vector<std::string>& CometDefaultCapabilities() {
  static const std::vector<std::string> kDefaultCaps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",    "CAP_FSETID",
      "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",   "CAP_SETGID",
      "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT"};
  return kDefaultCaps;
}

Result<SeccompChoice> ApplySecurityContext(const PodSpec& spec, const Container& container,
                                           std::string_view field, ContainerDraft* draft,
                                           std::vector<std::string>* warnings) {
  const SecurityContext own = container.security_context.value_or(SecurityContext{});
  const PodSecurityContext pod = spec.security_context.value_or(PodSecurityContext{});
  const std::string own_field = fmt::format("{}.securityContext", field);
  pod::App& app = draft->app;
  RETURN_IF_ERROR(SetUser(own, pod, field, draft));
  RETURN_IF_ERROR(SetGroups(pod, app));
  app.read_only_rootfs = own.read_only_root_filesystem.value_or(false);
  const bool privileged = own.privileged.value_or(false);
  if (privileged) {
    app.caps_retain = AllCapabilities();
    app.annotations[kPrivilegedAnnotation] = "true";
  } else if (own.capabilities) {
    ASSIGN_OR_RETURN(std::vector<std::string> set,
                     CapabilitySet(*own.capabilities, own_field + ".capabilities"));
    SetCapabilities(set, app);
  }
  // comet's supervisor gives every app no_new_privs (supervisor/app_spec.cc), so "false" is what
  // happens anyway; the annotation records the request. "true" cannot be honoured.
  if (own.allow_privilege_escalation == false) {
    app.annotations[kNoNewPrivilegesAnnotation] = "true";
  } else if (own.allow_privilege_escalation == true && !privileged) {
    warnings->push_back(fmt::format(
        "{}.allowPrivilegeEscalation: comet runs every app with no_new_privs; setuid programs "
        "will not gain privileges",
        own_field));
  }
  if (own.seccomp_profile) {
    return Seccomp(own.seccomp_profile, own_field + ".seccompProfile", warnings);
  }
  return Seccomp(pod.seccomp_profile, "spec.securityContext.seccompProfile", warnings);
}

}  // namespace comet::kube
