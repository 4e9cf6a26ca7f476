// ManifestDir and the pod hash (see desired_pods.h).
#include "node/desired_pods.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/yaml_parse.h"
#include "os/file.h"

namespace comet::node {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// FNV-1a, 64 bits: a change detector, not a defence against someone choosing collisions (who
// writes the manifest directory controls the pods anyway).
uint64_t Fnv1a(std::string_view bytes, uint64_t hash = kFnvOffset) {
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

void Add(std::vector<std::string>* problems, std::string problem) {
  if (problems != nullptr) {
    problems->push_back(std::move(problem));
  }
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::string KubePodKey(std::string_view namespace_name, std::string_view name) {
  return fmt::format("{}/{}", namespace_name, name);
}

std::string PodHash(std::string_view file_bytes, std::string_view pod_name) {
  uint64_t hash = Fnv1a(file_bytes);
  hash = Fnv1a(std::string_view("\0", 1), hash);
  return fmt::format("{:016x}", Fnv1a(pod_name, hash));
}

std::string UuidFromSeed(std::string_view seed) {
  const uint64_t high = Fnv1a(seed);
  const uint64_t low = Fnv1a(seed, high ^ kFnvPrime);
  const std::string hex = fmt::format("{:016x}{:016x}", high, low);
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20, 12));
}

bool IsManifestFileName(std::string_view name) {
  if (name.empty() || name[0] == '.') {
    return false;
  }
  return EndsWith(name, ".yaml") || EndsWith(name, ".yml") || EndsWith(name, ".json");
}

std::optional<std::vector<std::string>> ManifestDir::ListFiles(
    std::vector<std::string>* problems) const {
  std::vector<std::string> names;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir_, ec);
  if (ec) {
    Add(problems, fmt::format("{}: {}{}", dir_, ec.message(),
                              files_.empty() ? "" : " (its pods are kept as they were)"));
    return std::nullopt;
  }
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    std::error_code type_ec;
    if (IsManifestFileName(name) && entry.is_regular_file(type_ec)) {
      names.push_back(std::move(name));
    }
  }
  std::sort(names.begin(), names.end());
  if (names.size() > kube::kMaxManifestDirFiles) {
    Add(problems, fmt::format("{}: more than {} manifest files; only the first {} are read", dir_,
                              kube::kMaxManifestDirFiles, kube::kMaxManifestDirFiles));
    names.resize(kube::kMaxManifestDirFiles);
  }
  return names;
}

bool ManifestDir::ReadOne(const std::string& path, FileState& state,
                          std::vector<std::string>* problems) {
  const char* kept = state.parsed ? " (its pods are kept as they were)" : "";
  auto bytes = os::ReadFileLimited(path, kube::kMaxManifestBytes);
  if (!bytes) {
    if (bytes.error().code() == ENOENT) {
      return false;  // removed since the listing
    }
    Add(problems, fmt::format("{}: {}{}", path, bytes.error().ToString(), kept));
    return true;
  }
  const std::string bytes_hash = fmt::format("{:016x}", Fnv1a(*bytes));
  if (bytes_hash == state.bytes_hash && state.parsed) {
    return true;  // unchanged: no need to parse it again
  }
  state.bytes_hash = bytes_hash;
  std::vector<std::string> warnings;
  auto objects = kube::ParseKubeYaml(*bytes, path, &warnings);
  if (!objects) {
    Add(problems, fmt::format("{}{}", objects.error().ToString(), kept));
    return true;
  }
  auto content = std::make_shared<const std::string>(std::move(*bytes));
  state.parsed = true;
  state.pods.clear();
  for (kube::Pod& pod : objects->pods) {
    DesiredPod desired;
    desired.key = KubePodKey(pod.metadata.namespace_, pod.metadata.name);
    desired.file = path;
    desired.hash = PodHash(*content, pod.metadata.name);
    desired.uid = pod.metadata.uid.empty() ? UuidFromSeed(desired.key + "@" + desired.hash)
                                           : pod.metadata.uid;
    desired.content = content;
    desired.pod = std::move(pod);
    state.pods.push_back(std::move(desired));
  }
  for (std::string& warning : warnings) {
    Add(problems, std::move(warning));
  }
  return true;
}

std::map<std::string, DesiredPod> ManifestDir::Load(std::vector<std::string>* problems) {
  // A directory that cannot be listed (moved away, replaced) keeps the pods it had: its removal
  // is not taken for the removal of every pod.
  if (std::optional<std::vector<std::string>> names = ListFiles(problems)) {
    std::map<std::string, FileState> files;
    for (const std::string& name : *names) {
      const std::string path = os::JoinPath(dir_, name);
      FileState state;
      if (auto old = files_.find(path); old != files_.end()) {
        state = std::move(old->second);
      }
      if (ReadOne(path, state, problems)) {
        files.emplace(path, std::move(state));
      }
    }
    files_ = std::move(files);
  }
  std::map<std::string, DesiredPod> pods;
  for (const auto& [path, file] : files_) {  // name order: the paths share the directory
    for (const DesiredPod& pod : file.pods) {
      auto [where, added] = pods.emplace(pod.key, pod);
      if (!added) {
        Add(problems, fmt::format("{}: pod {} is also in {}; that one is kept", pod.file, pod.key,
                                  where->second.file));
      }
    }
  }
  return pods;
}

}  // namespace comet::node
