// The readers of the Pod parser's parts (yaml_pod_spec.cc, yaml_container.cc, yaml_probe.cc,
// yaml_volumes.cc, yaml_parse.cc): each reads one Kubernetes type from a MapReader, applies the
// API server's defaults and basic validation, and warns about the fields it does not read.
// Internal to the kube layer. Not thread-safe (the readers share their ReadContext).
#ifndef COMET_KUBE_YAML_PARSE_INTERNAL_H_
#define COMET_KUBE_YAML_PARSE_INTERNAL_H_

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/objects.h"
#include "kube/yaml_reader.h"

namespace comet::kube::yaml {

// One document as read: its kind and name as soon as they are known (for its label), and the
// object it defines, unless its kind was skipped.
struct ParsedDocument {
  int number = 0;
  std::string kind;
  std::string name;
  bool skipped = false;
  std::optional<Pod> pod;
  std::optional<ConfigMap> config_map;
  std::optional<Secret> secret;
};
// "document 2 (Pod web)", "document 2 (Pod)", "document 2".
[[nodiscard]] std::string DocumentLabel(const ParsedDocument& doc);

// The objects defined so far, by kind, namespace and name, with the label of their document:
// a second definition is an error naming the first.
class ObjectIndex {
 public:
  // Moves the document's object into *out.
  [[nodiscard]] Status Add(ParsedDocument& doc, const std::string& label, Objects* out);

 private:
  std::map<std::string, std::string> labels_;
};

// ParseKubeYaml's work, with an index that LoadKubeFiles shares between streams.
[[nodiscard]] Status ParseStreamInto(std::string_view text, std::string_view source_name,
                                     ObjectIndex* index, Objects* out,
                                     std::vector<std::string>* warnings);

// metadata: name (or generateName plus 5 random characters) unless `name_optional` (a
// workload's pod template, named after the workload), namespace, uid, labels, annotations.
[[nodiscard]] Status ReadObjectMeta(MapReader& meta, bool name_optional, ObjectMeta* out);

// A v1 ConfigMap or Secret document (`root` its top level): data decoded from base64 where
// the API says so.
[[nodiscard]] Status ReadConfigMap(MapReader& root, ConfigMap* out);
[[nodiscard]] Status ReadSecret(MapReader& root, Secret* out);

// A PodSpec, validated as a whole (names unique, mounts of existing volumes, ...).
[[nodiscard]] Status ReadPodSpec(MapReader& spec, PodSpec* out);

// A container of spec.containers (`init` false) or spec.initContainers.
[[nodiscard]] Status ReadContainer(MapReader& reader, bool init, Container* out);
[[nodiscard]] Status ReadSecurityContext(MapReader& reader, SecurityContext* out);
[[nodiscard]] Status ReadSeccompProfile(MapReader& reader, SeccompProfile* out);

// Probes and lifecycle hooks. A probe with a handler comet cannot run (grpc) is dropped with a
// warning: *out stays empty.
[[nodiscard]] Status ReadProbe(MapReader& reader, bool liveness_or_startup,
                               std::optional<Probe>* out);
[[nodiscard]] Status ReadLifecycle(MapReader& reader, Lifecycle* out);

// One entry of spec.volumes.
[[nodiscard]] Status ReadVolume(MapReader& reader, Volume* out);

// Field checks shared by the parts.
[[nodiscard]] Status CheckEnum(std::string_view path, std::string_view value,
                               std::initializer_list<std::string_view> allowed);
[[nodiscard]] Status CheckAbsolutePath(std::string_view path, std::string_view value);
// A numeric or named port (a probe's, a hook's): 1-65535 or an IANA service name.
[[nodiscard]] Status CheckPortOrName(std::string_view path, std::string_view value);

}  // namespace comet::kube::yaml

#endif  // COMET_KUBE_YAML_PARSE_INTERNAL_H_
