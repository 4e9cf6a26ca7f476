// ReadSecurityContext and ReadSeccompProfile: a container's securityContext, checked as the API
// server checks it (ids in range, seccomp profile types, no privileged container that forbids
// privilege escalation). The pod's securityContext is read in yaml_pod_spec.cc.
#include <algorithm>

#include <fmt/format.h>

#include "kube/validation.h"
#include "kube/yaml_parse_internal.h"

namespace comet::kube::yaml {
namespace {

constexpr int64_t kMaxId = 2147483647;  // the API server's limit for user and group ids

Status CheckId(MapReader& reader, std::string_view key, const std::optional<int64_t>& id) {
  if (id && (*id < 0 || *id > kMaxId)) {
    return Err(
        FieldError(reader.PathOf(key), fmt::format("{}: must be between 0 and {}", *id, kMaxId)));
  }
  return Ok();
}

bool IsSysAdmin(std::string_view capability) {
  return capability == "SYS_ADMIN" || capability == "CAP_SYS_ADMIN";
}

}  // namespace

Status ReadSeccompProfile(MapReader& reader, SeccompProfile* out) {
  RETURN_IF_ERROR(reader.ReadRequired("type", &out->type));
  RETURN_IF_ERROR(
      CheckEnum(reader.PathOf("type"), out->type, {"RuntimeDefault", "Unconfined", "Localhost"}));
  RETURN_IF_ERROR(reader.Read("localhostProfile", &out->localhost_profile));
  reader.WarnUnread();
  if (out->type == "Localhost") {
    if (out->localhost_profile.empty()) {
      return Err(FieldError(reader.PathOf("localhostProfile"), "required when type is Localhost"));
    }
    if (auto problem = validation::RelativePath(out->localhost_profile)) {
      return Err(FieldError(reader.PathOf("localhostProfile"), *problem));
    }
  } else if (!out->localhost_profile.empty()) {
    return Err(
        FieldError(reader.PathOf("localhostProfile"), "may only be set when type is Localhost"));
  }
  return Ok();
}

Status ReadSecurityContext(MapReader& reader, SecurityContext* out) {
  RETURN_IF_ERROR(reader.Read("runAsUser", &out->run_as_user));
  RETURN_IF_ERROR(CheckId(reader, "runAsUser", out->run_as_user));
  RETURN_IF_ERROR(reader.Read("runAsGroup", &out->run_as_group));
  RETURN_IF_ERROR(CheckId(reader, "runAsGroup", out->run_as_group));
  RETURN_IF_ERROR(reader.Read("runAsNonRoot", &out->run_as_non_root));
  RETURN_IF_ERROR(reader.Read("privileged", &out->privileged));
  RETURN_IF_ERROR(reader.Read("readOnlyRootFilesystem", &out->read_only_root_filesystem));
  RETURN_IF_ERROR(reader.Read("allowPrivilegeEscalation", &out->allow_privilege_escalation));
  if (reader.Find("capabilities") != nullptr) {
    ASSIGN_OR_RETURN(MapReader caps, reader.Map("capabilities"));
    Capabilities& capabilities = out->capabilities.emplace();
    RETURN_IF_ERROR(caps.Read("add", &capabilities.add));
    RETURN_IF_ERROR(caps.Read("drop", &capabilities.drop));
    caps.WarnUnread();
  }
  if (reader.Find("seccompProfile") != nullptr) {
    ASSIGN_OR_RETURN(MapReader seccomp, reader.Map("seccompProfile"));
    RETURN_IF_ERROR(ReadSeccompProfile(seccomp, &out->seccomp_profile.emplace()));
  }
  std::string proc_mount;
  RETURN_IF_ERROR(reader.Read("procMount", &proc_mount));
  if (!proc_mount.empty()) {
    RETURN_IF_ERROR(CheckEnum(reader.PathOf("procMount"), proc_mount, {"Default", "Unmasked"}));
    if (proc_mount != "Default") {
      reader.context()->Warn(reader.PathOf("procMount") + ": not supported, ignored");
    }
  }
  // Silent: windowsOptions (for Windows nodes only).
  reader.WarnUnread({"windowsOptions"});
  if (out->allow_privilege_escalation == std::optional<bool>(false)) {
    if (out->privileged.value_or(false)) {
      return Err(FieldError(reader.path(),
                            "allowPrivilegeEscalation false and privileged true "
                            "cannot go together"));
    }
    if (out->capabilities &&
        std::any_of(out->capabilities->add.begin(), out->capabilities->add.end(), IsSysAdmin)) {
      return Err(FieldError(reader.path(),
                            "allowPrivilegeEscalation false and capability "
                            "SYS_ADMIN cannot go together"));
    }
  }
  return Ok();
}

}  // namespace comet::kube::yaml
