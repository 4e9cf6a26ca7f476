// The agent's desired state: every Pod of the manifest files in --pod-manifest-path (static
// pods, as the kubelet's file source read them), each file parsed on its own so that one bad file
// hides none of the others, and each pod with a hash of what it came from, so that an edited
// file replaces its pods. Not thread-safe (the agent's loop owns it).
#ifndef COMET_NODE_DESIRED_PODS_H_
#define COMET_NODE_DESIRED_PODS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/objects.h"

namespace comet::node {

struct DesiredPod {
  kube::Pod pod;
  std::string key;   // "namespace/name"
  std::string file;  // the manifest file
  // 16 hex digits over the file's bytes and the pod's name: a change to the file (to this pod,
  // or to a ConfigMap it may use) gives its pods new hashes.
  std::string hash;
  // metadata.uid when the YAML gives one, else a UUID made from the hash (a static pod's UID
  // changes with its manifest, as the kubelet's did).
  std::string uid;
  // The file's bytes as they were parsed: the agent prepares the pod from exactly these.
  std::shared_ptr<const std::string> content;
};

// "namespace/name".
[[nodiscard]] std::string KubePodKey(std::string_view namespace_name, std::string_view name);

// The pod hash of DesiredPod::hash.
[[nodiscard]] std::string PodHash(std::string_view file_bytes, std::string_view pod_name);
// A UUID (8-4-4-4-12 lower-case hex) derived from `seed`.
[[nodiscard]] std::string UuidFromSeed(std::string_view seed);

// Whether `name` is a manifest file name the agent reads: *.yaml, *.yml or *.json, not hidden.
[[nodiscard]] bool IsManifestFileName(std::string_view name);

class ManifestDir {
 public:
  explicit ManifestDir(std::string dir) : dir_(std::move(dir)) {}

  // Reads every manifest file of the directory (not recursively), keyed by "namespace/name".
  // A file that cannot be read or parsed keeps the pods it had when it last parsed (an editor's
  // half-written save must not stop them); a pod name already taken by an earlier file (in name
  // order) is left out. Such problems, and the parser's warnings, go to *problems. A directory
  // that cannot be listed is a problem, and keeps the pods it had (none at first).
  [[nodiscard]] std::map<std::string, DesiredPod> Load(std::vector<std::string>* problems);

  [[nodiscard]] const std::string& dir() const { return dir_; }

 private:
  struct FileState {
    std::string bytes_hash;  // of the bytes last read, parsed or not
    bool parsed = false;
    std::vector<DesiredPod> pods;  // from the last parse that succeeded
  };
  // The manifest file names of the directory, in name order.
  [[nodiscard]] std::optional<std::vector<std::string>> ListFiles(
      std::vector<std::string>* problems) const;
  // Reads and (when changed) parses one file into `state`; false when it vanished.
  [[nodiscard]] static bool ReadOne(const std::string& path, FileState& state,
                                    std::vector<std::string>* problems);
  std::string dir_;
  std::map<std::string, FileState> files_;
};

}  // namespace comet::node

#endif  // COMET_NODE_DESIRED_PODS_H_
