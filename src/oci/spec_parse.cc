// config.json and process.json parsing; see spec_json.h. Each Parse* fills one struct from one
// JSON object and names the path of any field with the wrong type or range.
#include <utility>

#include "oci/json_internal.h"
#include "oci/spec_json.h"
#include "os/file.h"

namespace comet::oci {
namespace internal {
namespace {

Status ParseUser(const Json& obj, std::string_view path, User* out) {
  RETURN_IF_ERROR(Read(obj, "uid", path, &out->uid));
  RETURN_IF_ERROR(Read(obj, "gid", path, &out->gid));
  RETURN_IF_ERROR(Read(obj, "umask", path, &out->umask));
  RETURN_IF_ERROR(Read(obj, "username", path, &out->username));
  const Json* gids = Member(obj, "additionalGids");
  if (gids != nullptr) {
    std::string gids_path = ChildPath(path, "additionalGids");
    if (!gids->is_array()) {
      return Err(PathError(gids_path, "expected array of integers"));
    }
    for (size_t i = 0; i < gids->size(); ++i) {
      ASSIGN_OR_RETURN(uint32_t gid, AsInt<uint32_t>((*gids)[i], IndexPath(gids_path, i)));
      out->additional_gids.push_back(gid);
    }
  }
  return Ok();
}

Status ParseCapabilities(const Json& obj, std::string_view path, Capabilities* out) {
  RETURN_IF_ERROR(Read(obj, "bounding", path, &out->bounding));
  RETURN_IF_ERROR(Read(obj, "effective", path, &out->effective));
  RETURN_IF_ERROR(Read(obj, "inheritable", path, &out->inheritable));
  RETURN_IF_ERROR(Read(obj, "permitted", path, &out->permitted));
  RETURN_IF_ERROR(Read(obj, "ambient", path, &out->ambient));
  return Ok();
}

Status ParseRlimit(const Json& obj, std::string_view path, Rlimit* out) {
  RETURN_IF_ERROR(Read(obj, "type", path, &out->type));
  RETURN_IF_ERROR(Read(obj, "soft", path, &out->soft));
  RETURN_IF_ERROR(Read(obj, "hard", path, &out->hard));
  return Ok();
}

Status ParseConsoleSize(const Json& obj, std::string_view path, ConsoleSize* out) {
  RETURN_IF_ERROR(Read(obj, "height", path, &out->height));
  RETURN_IF_ERROR(Read(obj, "width", path, &out->width));
  return Ok();
}

Status ParseRoot(const Json& obj, std::string_view path, Root* out) {
  RETURN_IF_ERROR(Read(obj, "path", path, &out->path));
  RETURN_IF_ERROR(Read(obj, "readonly", path, &out->readonly));
  return Ok();
}

Status ParseMount(const Json& obj, std::string_view path, Mount* out) {
  RETURN_IF_ERROR(Read(obj, "destination", path, &out->destination));
  RETURN_IF_ERROR(Read(obj, "type", path, &out->type));
  RETURN_IF_ERROR(Read(obj, "source", path, &out->source));
  RETURN_IF_ERROR(Read(obj, "options", path, &out->options));
  RETURN_IF_ERROR(ReadObjectArray(obj, "uidMappings", path, &out->uid_mappings, ParseIdMapping));
  RETURN_IF_ERROR(ReadObjectArray(obj, "gidMappings", path, &out->gid_mappings, ParseIdMapping));
  return Ok();
}

Status ParseHook(const Json& obj, std::string_view path, Hook* out) {
  RETURN_IF_ERROR(Read(obj, "path", path, &out->path));
  RETURN_IF_ERROR(Read(obj, "args", path, &out->args));
  RETURN_IF_ERROR(Read(obj, "env", path, &out->env));
  RETURN_IF_ERROR(Read(obj, "timeout", path, &out->timeout));
  return Ok();
}

Status ParseHooks(const Json& obj, std::string_view path, Hooks* out) {
  RETURN_IF_ERROR(ReadObjectArray(obj, "prestart", path, &out->prestart, ParseHook));
  RETURN_IF_ERROR(ReadObjectArray(obj, "createRuntime", path, &out->create_runtime, ParseHook));
  RETURN_IF_ERROR(ReadObjectArray(obj, "createContainer", path, &out->create_container, ParseHook));
  RETURN_IF_ERROR(ReadObjectArray(obj, "startContainer", path, &out->start_container, ParseHook));
  RETURN_IF_ERROR(ReadObjectArray(obj, "poststart", path, &out->poststart, ParseHook));
  RETURN_IF_ERROR(ReadObjectArray(obj, "poststop", path, &out->poststop, ParseHook));
  return Ok();
}

Status ParseNamespace(const Json& obj, std::string_view path, Namespace* out) {
  RETURN_IF_ERROR(Read(obj, "type", path, &out->type));
  RETURN_IF_ERROR(Read(obj, "path", path, &out->path));
  return Ok();
}

Status ParseDevice(const Json& obj, std::string_view path, Device* out) {
  RETURN_IF_ERROR(Read(obj, "type", path, &out->type));
  RETURN_IF_ERROR(Read(obj, "path", path, &out->path));
  RETURN_IF_ERROR(Read(obj, "major", path, &out->major));
  RETURN_IF_ERROR(Read(obj, "minor", path, &out->minor));
  RETURN_IF_ERROR(Read(obj, "fileMode", path, &out->file_mode));
  RETURN_IF_ERROR(Read(obj, "uid", path, &out->uid));
  RETURN_IF_ERROR(Read(obj, "gid", path, &out->gid));
  return Ok();
}

Status ParseSeccompArg(const Json& obj, std::string_view path, SeccompArg* out) {
  RETURN_IF_ERROR(Read(obj, "index", path, &out->index));
  RETURN_IF_ERROR(Read(obj, "value", path, &out->value));
  RETURN_IF_ERROR(Read(obj, "valueTwo", path, &out->value_two));
  RETURN_IF_ERROR(Read(obj, "op", path, &out->op));
  return Ok();
}

Status ParseSeccompSyscall(const Json& obj, std::string_view path, SeccompSyscall* out) {
  RETURN_IF_ERROR(Read(obj, "names", path, &out->names));
  RETURN_IF_ERROR(Read(obj, "action", path, &out->action));
  RETURN_IF_ERROR(Read(obj, "errnoRet", path, &out->errno_ret));
  RETURN_IF_ERROR(ReadObjectArray(obj, "args", path, &out->args, ParseSeccompArg));
  return Ok();
}

Status ParseSeccomp(const Json& obj, std::string_view path, Seccomp* out) {
  RETURN_IF_ERROR(Read(obj, "defaultAction", path, &out->default_action));
  RETURN_IF_ERROR(Read(obj, "defaultErrnoRet", path, &out->default_errno_ret));
  RETURN_IF_ERROR(Read(obj, "architectures", path, &out->architectures));
  RETURN_IF_ERROR(Read(obj, "flags", path, &out->flags));
  RETURN_IF_ERROR(Read(obj, "listenerPath", path, &out->listener_path));
  RETURN_IF_ERROR(Read(obj, "listenerMetadata", path, &out->listener_metadata));
  RETURN_IF_ERROR(ReadObjectArray(obj, "syscalls", path, &out->syscalls, ParseSeccompSyscall));
  return Ok();
}

Status ParsePersonality(const Json& obj, std::string_view path, Personality* out) {
  RETURN_IF_ERROR(Read(obj, "domain", path, &out->domain));
  RETURN_IF_ERROR(Read(obj, "flags", path, &out->flags));
  return Ok();
}

// "timeOffsets": {"monotonic": {"secs": N, "nanosecs": M}}; nanosecs are range-checked but not
// kept (spec.h stores whole seconds).
Status ParseTimeOffsets(const Json& obj, std::string_view path,
                        std::map<std::string, int64_t>* out) {
  const Json* offsets = Member(obj, "timeOffsets");
  if (offsets == nullptr) {
    return Ok();
  }
  std::string offsets_path = ChildPath(path, "timeOffsets");
  RETURN_IF_ERROR(ExpectObject(*offsets, offsets_path));
  for (const auto& [clock, value] : offsets->items()) {
    std::string clock_path = ChildPath(offsets_path, clock);
    RETURN_IF_ERROR(ExpectObject(value, clock_path));
    int64_t secs = 0;
    uint32_t nanosecs = 0;
    RETURN_IF_ERROR(Read(value, "secs", clock_path, &secs));
    RETURN_IF_ERROR(Read(value, "nanosecs", clock_path, &nanosecs));
    (*out)[clock] = secs;
  }
  return Ok();
}

Status ParseLinux(const Json& obj, std::string_view path, Linux* out) {
  RETURN_IF_ERROR(ReadObjectArray(obj, "namespaces", path, &out->namespaces, ParseNamespace));
  RETURN_IF_ERROR(ReadObjectArray(obj, "uidMappings", path, &out->uid_mappings, ParseIdMapping));
  RETURN_IF_ERROR(ReadObjectArray(obj, "gidMappings", path, &out->gid_mappings, ParseIdMapping));
  RETURN_IF_ERROR(ReadObjectArray(obj, "devices", path, &out->devices, ParseDevice));
  RETURN_IF_ERROR(Read(obj, "cgroupsPath", path, &out->cgroups_path));
  RETURN_IF_ERROR(ReadOptObject(obj, "resources", path, &out->resources, ParseResourcesObject));
  RETURN_IF_ERROR(Read(obj, "rootfsPropagation", path, &out->rootfs_propagation));
  RETURN_IF_ERROR(ReadOptObject(obj, "seccomp", path, &out->seccomp, ParseSeccomp));
  RETURN_IF_ERROR(Read(obj, "sysctl", path, &out->sysctl));
  RETURN_IF_ERROR(Read(obj, "maskedPaths", path, &out->masked_paths));
  RETURN_IF_ERROR(Read(obj, "readonlyPaths", path, &out->readonly_paths));
  RETURN_IF_ERROR(Read(obj, "mountLabel", path, &out->mount_label));
  RETURN_IF_ERROR(ReadOptObject(obj, "personality", path, &out->personality, ParsePersonality));
  RETURN_IF_ERROR(ParseTimeOffsets(obj, path, &out->time_offsets));
  return Ok();
}

Status ParseSpecObject(const Json& obj, Spec* out) {
  RETURN_IF_ERROR(Read(obj, "ociVersion", "", &out->oci_version));
  RETURN_IF_ERROR(ReadOptObject(obj, "process", "", &out->process, ParseProcessObject));
  const Json* root = Member(obj, "root");
  if (root != nullptr) {
    RETURN_IF_ERROR(ExpectObject(*root, "root"));
    RETURN_IF_ERROR(ParseRoot(*root, "root", &out->root));
  }
  RETURN_IF_ERROR(Read(obj, "hostname", "", &out->hostname));
  RETURN_IF_ERROR(Read(obj, "domainname", "", &out->domainname));
  RETURN_IF_ERROR(ReadObjectArray(obj, "mounts", "", &out->mounts, ParseMount));
  RETURN_IF_ERROR(ReadOptObject(obj, "hooks", "", &out->hooks, ParseHooks));
  RETURN_IF_ERROR(Read(obj, "annotations", "", &out->annotations));
  RETURN_IF_ERROR(ReadOptObject(obj, "linux", "", &out->linux_config, ParseLinux));
  return Ok();
}

}  // namespace

Status ParseIdMapping(const Json& obj, std::string_view path, IdMapping* out) {
  RETURN_IF_ERROR(Read(obj, "containerID", path, &out->container_id));
  RETURN_IF_ERROR(Read(obj, "hostID", path, &out->host_id));
  RETURN_IF_ERROR(Read(obj, "size", path, &out->size));
  return Ok();
}

Status ParseProcessObject(const Json& obj, std::string_view path, Process* out) {
  RETURN_IF_ERROR(Read(obj, "terminal", path, &out->terminal));
  RETURN_IF_ERROR(ReadOptObject(obj, "consoleSize", path, &out->console_size, ParseConsoleSize));
  const Json* user = Member(obj, "user");
  if (user != nullptr) {
    std::string user_path = ChildPath(path, "user");
    RETURN_IF_ERROR(ExpectObject(*user, user_path));
    RETURN_IF_ERROR(ParseUser(*user, user_path, &out->user));
  }
  RETURN_IF_ERROR(Read(obj, "args", path, &out->args));
  RETURN_IF_ERROR(Read(obj, "commandLine", path, &out->command_line));
  RETURN_IF_ERROR(Read(obj, "env", path, &out->env));
  RETURN_IF_ERROR(Read(obj, "cwd", path, &out->cwd));
  RETURN_IF_ERROR(ReadOptObject(obj, "capabilities", path, &out->capabilities, ParseCapabilities));
  RETURN_IF_ERROR(ReadObjectArray(obj, "rlimits", path, &out->rlimits, ParseRlimit));
  RETURN_IF_ERROR(Read(obj, "noNewPrivileges", path, &out->no_new_privileges));
  RETURN_IF_ERROR(Read(obj, "apparmorProfile", path, &out->apparmor_profile));
  RETURN_IF_ERROR(Read(obj, "oomScoreAdj", path, &out->oom_score_adj));
  RETURN_IF_ERROR(Read(obj, "selinuxLabel", path, &out->selinux_label));
  return Ok();
}

}  // namespace internal

Result<Spec> ParseSpec(std::string_view json) {
  auto parsed = internal::ParseObjectText(json);
  if (!parsed) {
    return Err(std::move(parsed).error().AddContext("config.json"));
  }
  Spec spec;
  RETURN_IF_ERROR_CTX(internal::ParseSpecObject(*parsed, &spec), "config.json");
  return spec;
}

Result<Spec> LoadSpec(const std::string& bundle_dir) {
  std::string context = "bundle " + bundle_dir;
  auto text = os::ReadFileLimited(os::JoinPath(bundle_dir, "config.json"), kMaxConfigSize);
  if (!text) {
    return Err(std::move(text).error().AddContext(std::move(context)));
  }
  auto spec = ParseSpec(*text);
  if (!spec) {
    return Err(std::move(spec).error().AddContext(std::move(context)));
  }
  return spec;
}

Result<Process> ParseProcess(std::string_view json) {
  ASSIGN_OR_RETURN(internal::Json obj, internal::ParseObjectText(json));
  Process process;
  RETURN_IF_ERROR(internal::ParseProcessObject(obj, "", &process));
  return process;
}

Result<Resources> ParseResources(std::string_view json) {
  ASSIGN_OR_RETURN(internal::Json obj, internal::ParseObjectText(json));
  Resources resources;
  RETURN_IF_ERROR(internal::ParseResourcesObject(obj, "", &resources));
  return resources;
}

}  // namespace comet::oci
