// ConvertContainer, DefaultPullPolicy; see container_convert.h.
#include "kube/container_convert.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/convert_internal.h"
#include "kube/resources_convert.h"
#include "kube/volumes_convert.h"

namespace comet::kube {
namespace {

using internal::FieldError;
using internal::Indexed;

constexpr int kNodeCriticalOomScoreAdj = -997;  // the kubelet's guaranteedOOMScoreAdj

Result<std::string> PullPolicy(const Container& container, const std::string& field) {
  const std::string& given = container.image_pull_policy;
  if (given.empty()) {
    return DefaultPullPolicy(container.image);
  }
  if (given != "Always" && given != "IfNotPresent" && given != "Never") {
    return Err(FieldError(
        field + ".imagePullPolicy",
        fmt::format("\"{}\": unknown (want Always, IfNotPresent or Never)", Printable(given, 64))));
  }
  return given;
}

// The kubelet restarts a failed init container unless the pod's policy is Never; one that
// succeeded is done.
pod::RestartPolicy InitRestart(pod::RestartPolicy pod_policy) {
  return pod_policy == pod::RestartPolicy::kNever ? pod::RestartPolicy::kNever
                                                  : pod::RestartPolicy::kOnFailure;
}

Status SetResources(const ContainerContext& context, const Container& container,
                    const std::string& field, ContainerDraft& draft,
                    std::vector<std::string>* warnings) {
  const std::string resources_field = field + ".resources";
  ASSIGN_OR_RETURN(ComputeResources resources,
                   ParseComputeResources(container.resources, resources_field));
  pod::Resources& out = draft.app.resources;
  out.cpu_millis = resources.cpu_limit_millis.value_or(0);
  out.cpu_shares = CpuShares(resources.cpu_request_millis.value_or(0));
  out.memory_bytes = resources.memory_limit_bytes.value_or(0);
  const auto memory_request = static_cast<uint64_t>(resources.memory_request_bytes.value_or(0));
  out.oom_score_adj = context.node_critical ? kNodeCriticalOomScoreAdj
                                            : OomScoreAdj(context.qos, memory_request,
                                                          context.env.node->memory_bytes);
  ASSIGN_OR_RETURN(draft.devices,
                   ExtendedResources(container.resources, resources_field, warnings));
  return Ok();
}

Status SetPorts(const Container& container, const std::string& field, ContainerDraft& draft) {
  for (size_t i = 0; i < container.ports.size(); ++i) {
    const ContainerPort& port = container.ports[i];
    const std::string port_field = Indexed(field + ".ports", i);
    if (port.container_port < 1 || port.container_port > 65535) {
      return Err(FieldError(port_field + ".containerPort",
                            fmt::format("{} is not a port number", port.container_port)));
    }
    if (port.host_port == 0) {
      continue;
    }
    if (port.host_port < 0 || port.host_port > 65535) {
      return Err(FieldError(port_field + ".hostPort",
                            fmt::format("{} is not a port number", port.host_port)));
    }
    if (port.protocol != "TCP" && port.protocol != "UDP") {
      return Err(FieldError(
          port_field + ".protocol",
          fmt::format("\"{}\": not supported (want TCP or UDP)", Printable(port.protocol, 16))));
    }
    draft.ports.push_back(port);
  }
  return Ok();
}

Status SetIdentity(const ContainerContext& context, const Container& container, bool init,
                   const std::string& field, ConvertedContainer& out,
                   std::vector<std::string>* warnings) {
  pod::App& app = out.draft.app;
  if (!pod::IsValidName(container.name)) {
    return Err(FieldError(field + ".name",
                          fmt::format("\"{}\": not a valid container name (a DNS-1123 label)",
                                      Printable(container.name, 100))));
  }
  if (container.image.empty()) {
    return Err(FieldError(field + ".image", "required"));
  }
  app.name = container.name;
  app.image = container.image;
  app.annotations[kContainerNameAnnotation] = container.name;
  ASSIGN_OR_RETURN(out.draft.pull_policy, PullPolicy(container, field));
  app.restart = context.restart;
  if (init) {
    if (container.restart_policy == "Always") {
      // A sidecar (KEP-753): the supervisor has no "started, keep running" init step, so it
      // runs as an app, started with the others once the init containers are done.
      out.sidecar = true;
      app.restart = pod::RestartPolicy::kAlways;
      warnings->push_back(fmt::format(
          "{}.restartPolicy: Always (a sidecar): runs as an app, started after the init "
          "containers rather than before the later ones",
          field));
    } else if (!container.restart_policy.empty()) {
      return Err(FieldError(field + ".restartPolicy",
                            fmt::format("\"{}\": unknown (an init container may only say Always)",
                                        Printable(container.restart_policy, 64))));
    } else {
      app.init = true;
      app.restart = InitRestart(context.restart);
    }
  }
  app.stdin = container.stdin;
  app.tty = container.tty;
  return Ok();
}

}  // namespace

std::string DefaultPullPolicy(std::string_view image) {
  if (image.find('@') != std::string_view::npos) {
    return "IfNotPresent";  // a digest never changes
  }
  const size_t slash = image.rfind('/');
  std::string_view last = slash == std::string_view::npos ? image : image.substr(slash + 1);
  const size_t colon = last.rfind(':');
  if (colon == std::string_view::npos || last.substr(colon + 1) == "latest") {
    return "Always";
  }
  return "IfNotPresent";
}

Result<ConvertedContainer> ConvertContainer(const ContainerContext& context,
                                            const Container& container, bool init, size_t index,
                                            std::vector<std::string>* warnings) {
  const std::string field = internal::ContainerField(init, index);
  ConvertedContainer out;
  ContainerDraft& draft = out.draft;
  RETURN_IF_ERROR(SetIdentity(context, container, init, field, out, warnings));
  RETURN_IF_ERROR(SetResources(context, container, field, draft, warnings));
  ASSIGN_OR_RETURN(draft.env, ResolveEnv(context.env, container, field, warnings));
  // The kubelet expands $(VAR) in command and args against the container's env.
  if (container.command) {
    ASSIGN_OR_RETURN(draft.command, ExpandArgs(*container.command, draft.env, field + ".command"));
  }
  if (container.args) {
    ASSIGN_OR_RETURN(draft.args, ExpandArgs(*container.args, draft.env, field + ".args"));
  }
  if (!container.working_dir.empty()) {
    if (!internal::IsCleanAbsolutePath(container.working_dir)) {
      return Err(FieldError(field + ".workingDir",
                            fmt::format(R"("{}": must be an absolute path without "..")",
                                        Printable(container.working_dir, 200))));
    }
    draft.working_dir = container.working_dir;
  }
  ASSIGN_OR_RETURN(out.seccomp,
                   ApplySecurityContext(*context.env.spec, container, field, &draft, warnings));
  ASSIGN_OR_RETURN(draft.app.mounts, ConvertMounts(*context.env.spec, container, field, warnings));
  RETURN_IF_ERROR(SetPorts(container, field, draft));
  return out;
}

}  // namespace comet::kube
