// ToPodDraft (to_comet.h): the pod-level fields, then each container (container_convert.h),
// volumes (volumes_convert.h) and DNS (dns_convert.h).
#include "kube/to_comet.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/container_convert.h"
#include "kube/convert_internal.h"
#include "kube/dns_convert.h"
#include "kube/node_info.h"
#include "kube/validation.h"
#include "kube/volumes_convert.h"

namespace comet::kube {
namespace {

using internal::FieldError;
using internal::Indexed;

constexpr const char* kLabelAnnotationPrefix = "io.kubernetes.label/";
constexpr const char* kClusterDomain = "cluster.local";
// What the supervisor's /etc/hosts maps the pod's own name to when it knows no pod address.
constexpr const char* kSelfAddress = "127.0.1.1";
constexpr size_t kMaxHostnameLength = 63;
constexpr size_t kGeneratedNameSuffix = 5;

bool IsIp(const std::string& text) {
  std::array<unsigned char, 16> buf{};
  return inet_pton(AF_INET, text.c_str(), buf.data()) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buf.data()) == 1;
}

// The metadata as the API server would have stored it: a name (generateName plus a random
// suffix when only that is given) and a uid.
Result<ObjectMeta> StoredMeta(const ObjectMeta& given) {
  ObjectMeta meta = given;
  if (meta.name.empty()) {
    if (meta.generate_name.empty()) {
      return Err(FieldError("metadata.name", "required"));
    }
    // The API server's suffix alphabet has no vowels (no words); a uuid's hex is random enough.
    const std::string uuid = pod::NewUuid();
    constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    std::string suffix;
    for (char c : uuid) {
      if (c == '-') {
        continue;
      }
      const int digit = (c >= 'a') ? c - 'a' + 10 : c - '0';
      suffix.push_back(kAlphabet[static_cast<size_t>(digit) % kAlphabet.size()]);
      if (suffix.size() == kGeneratedNameSuffix) {
        break;
      }
    }
    meta.name = meta.generate_name + suffix;
  }
  if (meta.namespace_.empty()) {
    meta.namespace_ = "default";
  }
  if (meta.uid.empty()) {
    meta.uid = pod::NewUuid();
  }
  return meta;
}

// spec.hostname, else the pod's name cut to 63 characters without a trailing '-' or '.' (the
// kubelet's GeneratePodHostNameAndDomain); the node's own with the host's network, whose UTS
// namespace the kubelet's runtimes share then.
Result<std::string> Hostname(const Pod& pod, const ObjectMeta& meta) {
  if (pod.spec.host_network) {
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) == 0 && name[0] != '\0') {
      return std::string(name.data());
    }
  }
  if (!pod.spec.hostname.empty()) {
    if (auto invalid = validation::Dns1123Label(pod.spec.hostname)) {
      return Err(FieldError("spec.hostname", *invalid));
    }
    return pod.spec.hostname;
  }
  std::string name = meta.name.substr(0, kMaxHostnameLength);
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) {
    name.pop_back();
  }
  return name;
}

Status SetNetwork(const Pod& pod, const ObjectMeta& meta, PodDraft& draft) {
  const PodSpec& spec = pod.spec;
  pod::PodManifest& out = draft.pod;
  if (spec.host_network) {
    out.net = pod::NetMode::kHost;
  } else {
    out.net = pod::NetMode::kNetworks;
    out.networks = {"default"};
  }
  ASSIGN_OR_RETURN(out.hostname, Hostname(pod, meta));
  for (size_t i = 0; i < spec.host_aliases.size(); ++i) {
    const HostAlias& alias = spec.host_aliases[i];
    if (!IsIp(alias.ip)) {
      return Err(FieldError(Indexed("spec.hostAliases", i) + ".ip",
                            fmt::format("\"{}\": not an IP address", Printable(alias.ip, 100))));
    }
    out.hosts_entries.push_back(pod::HostsEntry{.ip = alias.ip, .names = alias.hostnames});
  }
  // The pod's fully qualified name. Its address is not known yet, so it goes with the
  // supervisor's stand-in for the pod's own name (what matters: it resolves, to the pod).
  if (!spec.subdomain.empty() && !spec.host_network) {
    out.hosts_entries.push_back(
        pod::HostsEntry{.ip = kSelfAddress,
                        .names = {fmt::format("{}.{}.{}.svc.{}", out.hostname, spec.subdomain,
                                              meta.namespace_, kClusterDomain)}});
  }
  return Ok();
}

Status SetNamespaces(const PodSpec& spec, pod::PodManifest& out) {
  if (spec.host_pid && spec.share_process_namespace) {
    return Err(FieldError("spec.shareProcessNamespace", "cannot be used with hostPID"));
  }
  out.host_pid = spec.host_pid;
  out.host_ipc = spec.host_ipc;
  out.share_pid = spec.share_process_namespace;
  if (spec.termination_grace_period_seconds < 0) {
    return Err(FieldError("spec.terminationGracePeriodSeconds", "must not be negative"));
  }
  out.stop_grace_seconds = spec.termination_grace_period_seconds;
  return Ok();
}

void SetAnnotations(const Pod& pod, const ObjectMeta& meta, QosClass qos, pod::PodManifest& out) {
  // comet's own annotations change how the engine runs the pod (seccomp, overlay): a YAML gets
  // those only through the fields that ask for them (securityContext), never by annotation.
  for (const auto& [key, value] : pod.metadata.annotations) {
    if (key.rfind("comet.dev/", 0) != 0) {
      out.annotations[key] = value;
    }
  }
  for (const auto& [key, value] : pod.metadata.labels) {
    out.annotations[kLabelAnnotationPrefix + key] = value;
  }
  // Ours last: the YAML's annotations cannot pose as them.
  out.annotations[kManagedByAnnotation] = "true";
  out.annotations[kPodUidAnnotation] = meta.uid;
  out.annotations[kPodNameAnnotation] = meta.name;
  out.annotations[kPodNamespaceAnnotation] = meta.namespace_;
  out.annotations[kQosClassAnnotation] = QosClassName(qos);
}

Result<pod::RestartPolicy> RestartPolicy(const std::string& policy) {
  if (policy == "Always" || policy.empty()) {
    return pod::RestartPolicy::kAlways;
  }
  if (policy == "OnFailure") {
    return pod::RestartPolicy::kOnFailure;
  }
  if (policy == "Never") {
    return pod::RestartPolicy::kNever;
  }
  return Err(FieldError(
      "spec.restartPolicy",
      fmt::format("\"{}\": unknown (want Always, OnFailure or Never)", Printable(policy, 64))));
}

// The published ports of every container; a host port given twice (same ip and protocol) is an
// error, as the scheduler would never place such a pod.
Status SetPorts(PodDraft& draft) {
  std::set<std::tuple<std::string, int32_t, std::string>> seen;
  for (const ContainerDraft& container : draft.containers) {
    for (const ContainerPort& port : container.ports) {
      std::string protocol = port.protocol;
      std::transform(protocol.begin(), protocol.end(), protocol.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!seen.emplace(port.host_ip, port.host_port, protocol).second) {
        return Err(
            FieldError(fmt::format("containers \"{}\"", container.app.name),
                       fmt::format("hostPort {}/{} published twice", port.host_port, protocol)));
      }
      draft.pod.ports.push_back(
          pod::PortMapping{.name = port.name,
                           .host_ip = port.host_ip,
                           .host_port = static_cast<uint32_t>(port.host_port),
                           .pod_port = static_cast<uint32_t>(port.container_port),
                           .protocol = protocol});
    }
  }
  return Ok();
}

Status ConvertContainers(const Pod& pod, const ContainerContext& context, PodDraft& draft,
                         std::vector<SeccompChoice>* seccomp) {
  std::set<std::string> names;
  std::vector<ContainerDraft> sidecars;
  std::vector<ContainerDraft> apps;
  for (bool init : {true, false}) {
    const std::vector<Container>& list = init ? pod.spec.init_containers : pod.spec.containers;
    for (size_t i = 0; i < list.size(); ++i) {
      ASSIGN_OR_RETURN(ConvertedContainer converted,
                       ConvertContainer(context, list[i], init, i, &draft.warnings));
      if (!names.insert(list[i].name).second) {
        return Err(FieldError(internal::ContainerField(init, i) + ".name",
                              fmt::format("\"{}\": duplicate container name", list[i].name)));
      }
      seccomp->push_back(converted.seccomp);
      if (converted.sidecar) {
        sidecars.push_back(std::move(converted.draft));
      } else if (init) {
        draft.containers.push_back(std::move(converted.draft));
      } else {
        apps.push_back(std::move(converted.draft));
      }
    }
  }
  if (pod.spec.containers.empty()) {
    return Err(FieldError("spec.containers", "at least one container is required"));
  }
  for (auto* list : {&sidecars, &apps}) {
    std::move(list->begin(), list->end(), std::back_inserter(draft.containers));
  }
  if (pod.spec.host_network) {
    for (ContainerDraft& container : draft.containers) {
      container.ports.clear();  // the ports are the host's already
    }
  }
  return SetPorts(draft);
}

// comet's seccomp choice is the pod's: unconfined if any container asks for it.
void SetSeccomp(const std::vector<SeccompChoice>& choices, PodDraft& draft) {
  const auto unconfined = std::count(choices.begin(), choices.end(), SeccompChoice::kUnconfined);
  if (unconfined == 0) {
    return;
  }
  draft.pod.annotations[pod::kSeccompAnnotation] = pod::kSeccompUnconfined;
  if (static_cast<size_t>(unconfined) != choices.size()) {
    draft.warnings.emplace_back(
        "seccompProfile: Unconfined for some containers only; comet's seccomp setting is "
        "pod-wide, so every container runs unconfined");
  }
}

void DeduplicateWarnings(std::vector<std::string>& warnings) {
  std::set<std::string> seen;
  std::erase_if(warnings, [&](const std::string& w) { return !seen.insert(w).second; });
}

}  // namespace

Result<PodDraft> ToPodDraft(const Pod& pod, const Objects& objects, const NodeInfo& node_given) {
  const NodeInfo node = WithHostDefaults(node_given);
  ASSIGN_OR_RETURN(const ObjectMeta meta, StoredMeta(pod.metadata));
  PodDraft draft;
  draft.pod.name = meta.name;
  draft.qos = PodQosClass(pod.spec);
  RETURN_IF_ERROR(SetNetwork(pod, meta, draft));
  RETURN_IF_ERROR(SetNamespaces(pod.spec, draft.pod));
  RETURN_IF_ERROR(ConvertDns(pod.spec, node, &draft.pod, &draft.warnings));
  if (pod.spec.security_context && !pod.spec.security_context->sysctls.empty()) {
    draft.warnings.emplace_back("spec.securityContext.sysctls: not supported yet, ignored");
  }
  RETURN_IF_ERROR(ConvertVolumes(pod, objects, &draft, &draft.warnings));
  ContainerContext context;
  context.env = EnvContext{.meta = &meta, .spec = &pod.spec, .objects = &objects, .node = &node};
  context.qos = draft.qos;
  ASSIGN_OR_RETURN(context.restart, RestartPolicy(pod.spec.restart_policy));
  context.node_critical = pod.spec.priority_class_name == "system-node-critical";
  std::vector<SeccompChoice> seccomp;
  RETURN_IF_ERROR(ConvertContainers(pod, context, draft, &seccomp));
  SetAnnotations(pod, meta, draft.qos, draft.pod);
  SetSeccomp(seccomp, draft);
  DeduplicateWarnings(draft.warnings);
  return draft;
}

}  // namespace comet::kube
