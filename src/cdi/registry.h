// The CDI devices of a node: every spec file (*.yaml, *.json) of the spec directories, loaded in
// directory order, and the resolution of fully qualified device names to the edits they need.
// Specs of a later directory override those of an earlier one for the same device (the
// reference implementation's priority: /var/run/cdi, written by drivers at boot, over /etc/cdi);
// two definitions in one directory make the device unusable. A spec file that does not parse is
// recorded in errors() and skipped, as the reference implementation does. Immutable once
// loaded; thread-safe for concurrent const use.
#ifndef COMET_CDI_REGISTRY_H_
#define COMET_CDI_REGISTRY_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cdi/spec.h"

namespace comet::cdi {

// {"/etc/cdi", "/var/run/cdi"}, lowest priority first.
[[nodiscard]] const std::vector<std::string>& DefaultSpecDirs();

// Spec files read from one directory at most (a node has a handful).
inline constexpr size_t kMaxSpecFiles = 1024;

class Registry {
 public:
  // Reads every spec of `dirs` (lowest priority first; empty: DefaultSpecDirs()). A directory
  // that does not exist is skipped silently; one that cannot be read, and every spec file that
  // cannot be read or parsed, is recorded in errors().
  [[nodiscard]] static Registry Load(const std::vector<std::string>& dirs);

  // "FILE: message" for each spec file or directory that was skipped.
  [[nodiscard]] const std::vector<std::string>& errors() const { return errors_; }
  [[nodiscard]] const std::vector<std::string>& dirs() const { return dirs_; }

  // Every fully qualified device name, sorted.
  [[nodiscard]] std::vector<std::string> DeviceNames() const;

  // The edits of `names` ("nvidia.com/gpu=0"), in order: the spec-level edits of each spec the
  // first time one of its devices is used, then the device's own. "KIND=all" is the spec's
  // device named "all" when there is one, else every device of the kind. A name asked for twice
  // is applied once. Device nodes get their missing type and numbers from the host
  // (FillDeviceInfo). Errors name the device: an unknown one, a kind no spec has, a conflicting
  // definition, intelRdt edits (not supported).
  [[nodiscard]] Result<ContainerEdits> Resolve(const std::vector<std::string>& names) const;

  // For a Kubernetes resource count (resources.limits["nvidia.com/gpu"]: 2): the fully qualified
  // names of the first `count` devices of `kind` in natural name order ("gpu2" before "gpu10"),
  // skipping "all". Too few: "nvidia.com/gpu: 2 requested, 1 available".
  [[nodiscard]] Result<std::vector<std::string>> PickDevices(std::string_view kind,
                                                             size_t count) const;

 private:
  struct Entry {
    const Spec* spec = nullptr;
    size_t device = 0;     // index in spec->devices
    size_t dir_index = 0;  // which of dirs_ it came from
    std::string conflict;  // another file of the same directory defines it too
  };

  void AddSpec(std::unique_ptr<Spec> spec, size_t dir_index);
  [[nodiscard]] Result<std::vector<const Entry*>> Expand(const std::string& name) const;
  [[nodiscard]] std::vector<const Entry*> EntriesOfKind(std::string_view kind) const;

  std::vector<std::string> dirs_;
  std::vector<std::unique_ptr<Spec>> specs_;  // stable addresses for Entry::spec
  std::map<std::string, Entry> devices_;      // by fully qualified name
  std::vector<std::string> errors_;
};

// Natural order of device names: runs of digits compare as numbers ("gpu2" < "gpu10").
[[nodiscard]] bool NaturalLess(std::string_view a, std::string_view b);

}  // namespace comet::cdi

#endif  // COMET_CDI_REGISTRY_H_
