// Kubernetes manifests (YAML or JSON, multi-document) read into kube/objects.h: v1 Pods, the pod
// templates of Deployments, ReplicaSets, StatefulSets, DaemonSets, ReplicationControllers, Jobs
// and CronJobs (each run once, named after the workload), ConfigMaps and Secrets. Defaults are
// those the API server applies; validation is its basic checks. Other kinds are skipped with a
// warning, as are fields comet does not act on (warnings name the field path). Errors name the
// source, the document and the field:
//   pod.yaml: document 2 (Pod web): spec.containers[1].image: required
//   pod.yaml: line 3, column 5: mapping values are not allowed here
// Hostile input is bounded (yaml_tree.h): 8 MiB a stream, depth 64, a million nodes created and
// a million read (aliases), 1000 documents. Nothing throws. Thread-safe (no shared state).
#ifndef COMET_KUBE_YAML_PARSE_H_
#define COMET_KUBE_YAML_PARSE_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/objects.h"

namespace comet::kube {

// Input bounds: bytes of one stream (a file, stdin), bytes of all of LoadKubeFiles' inputs
// together, and files in one directory.
inline constexpr size_t kMaxManifestBytes = size_t{8} << 20;
inline constexpr size_t kMaxManifestTotalBytes = size_t{64} << 20;
inline constexpr size_t kMaxManifestDirFiles = 1000;

// Parses one stream; `source_name` names it in errors, warnings and Pod::source. Warnings are
// appended to *warnings (which may be null). Two Pods (or ConfigMaps, or Secrets) of one name in
// one namespace are an error.
[[nodiscard]] Result<Objects> ParseKubeYaml(std::string_view text, std::string_view source_name,
                                            std::vector<std::string>* warnings);

// Reads each path — a file, a directory (its *.yaml, *.yml and *.json files in name order, not
// recursively, hidden files skipped) or "-" (stdin) — into one set of objects, in order; names
// must be unique across the set, and a Pod sees the ConfigMaps and Secrets of every file.
[[nodiscard]] Result<Objects> LoadKubeFiles(const std::vector<std::string>& paths,
                                            std::vector<std::string>* warnings);

}  // namespace comet::kube

#endif  // COMET_KUBE_YAML_PARSE_H_
