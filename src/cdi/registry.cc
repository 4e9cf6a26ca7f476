// Loading the CDI spec directories and resolving device names; see registry.h.
#include "cdi/registry.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include <fmt/format.h>

#include "base/strings.h"
#include "cdi/device_info.h"
#include "cdi/names.h"
#include "os/file.h"

namespace comet::cdi {
namespace {

bool HasSpecSuffix(std::string_view name) {
  constexpr std::string_view kSuffixes[] = {".yaml", ".json"};
  return std::ranges::any_of(kSuffixes, [name](std::string_view suffix) {
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  });
}

// The spec file names of `dir` in name order (hidden files, editors' leftovers, skipped).
Result<std::vector<std::string>> SpecFiles(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) {
      return names;
    }
    return Err(Error::FromErrno("opening CDI spec dir", dir));
  }
  errno = 0;
  while (const dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (name.empty() || name[0] == '.' || !HasSpecSuffix(name)) {
      continue;
    }
    if (names.size() == kMaxSpecFiles) {
      ::closedir(d);
      return Err(Error::Invalid(fmt::format("more than {} spec files", kMaxSpecFiles)));
    }
    names.emplace_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string DeviceKey(const Spec& spec, const Device& device) {
  return spec.kind + "=" + device.name;
}

}  // namespace

const std::vector<std::string>& DefaultSpecDirs() {
  static const std::vector<std::string> kDirs = {"/etc/cdi", "/var/run/cdi"};
  return kDirs;
}

bool NaturalLess(std::string_view a, std::string_view b) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t ei = i;
      size_t ej = j;
      while (ei < a.size() && digit(a[ei])) {
        ++ei;
      }
      while (ej < b.size() && digit(b[ej])) {
        ++ej;
      }
      // Compare the numbers without converting them: leading zeros off, then length, then text.
      std::string_view na = a.substr(i, ei - i);
      std::string_view nb = b.substr(j, ej - j);
      na.remove_prefix(std::min(na.find_first_not_of('0'), na.size()));
      nb.remove_prefix(std::min(nb.find_first_not_of('0'), nb.size()));
      if (na.size() != nb.size()) {
        return na.size() < nb.size();
      }
      if (na != nb) {
        return na < nb;
      }
      i = ei;
      j = ej;
    } else {
      if (a[i] != b[j]) {
        return a[i] < b[j];
      }
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j || (a.size() - i == b.size() - j && a < b);
}

Registry Registry::Load(const std::vector<std::string>& dirs) {
  Registry registry;
  registry.dirs_ = dirs.empty() ? DefaultSpecDirs() : dirs;
  for (size_t d = 0; d < registry.dirs_.size(); ++d) {
    const std::string& dir = registry.dirs_[d];
    auto files = SpecFiles(dir);
    if (!files) {
      registry.errors_.push_back(fmt::format("{}: {}", dir, files.error().ToString()));
      continue;
    }
    for (const std::string& name : *files) {
      auto spec = ReadSpecFile(os::JoinPath(dir, name));
      if (!spec) {
        registry.errors_.push_back(spec.error().ToString());
        continue;
      }
      registry.AddSpec(std::make_unique<Spec>(std::move(*spec)), d);
    }
  }
  return registry;
}

void Registry::AddSpec(std::unique_ptr<Spec> spec, size_t dir_index) {
  const Spec* owned = spec.get();
  specs_.push_back(std::move(spec));
  for (size_t i = 0; i < owned->devices.size(); ++i) {
    const std::string key = DeviceKey(*owned, owned->devices[i]);
    auto [it, inserted] = devices_.try_emplace(key, Entry{owned, i, dir_index, ""});
    if (inserted) {
      continue;
    }
    Entry& existing = it->second;
    if (existing.dir_index == dir_index) {
      // Same priority: neither wins (the reference implementation's rule).
      existing.conflict = owned->source;
    } else {
      existing = Entry{owned, i, dir_index, ""};  // a later directory overrides
    }
  }
}

std::vector<std::string> Registry::DeviceNames() const {
  std::vector<std::string> names;
  names.reserve(devices_.size());
  for (const auto& [name, entry] : devices_) {
    names.push_back(name);
  }
  return names;
}

std::vector<const Registry::Entry*> Registry::EntriesOfKind(std::string_view kind) const {
  std::vector<std::pair<std::string_view, const Entry*>> found;
  for (const auto& [name, entry] : devices_) {
    if (entry.spec->kind == kind) {
      found.emplace_back(entry.spec->devices[entry.device].name, &entry);
    }
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return NaturalLess(a.first, b.first); });
  std::vector<const Entry*> out;
  out.reserve(found.size());
  for (const auto& item : found) {
    out.push_back(item.second);
  }
  return out;
}

Result<std::vector<const Registry::Entry*>> Registry::Expand(const std::string& name) const {
  ASSIGN_OR_RETURN(QualifiedName qualified, ParseQualifiedName(name));
  const std::string key = qualified.ToString();
  auto it = devices_.find(key);
  if (it != devices_.end()) {
    if (!it->second.conflict.empty()) {
      return Err(Error::Invalid(fmt::format("CDI device {}: defined in both {} and {}", key,
                                            it->second.spec->source, it->second.conflict)));
    }
    return std::vector<const Entry*>{&it->second};
  }
  const std::string kind = qualified.Kind();
  std::vector<const Entry*> of_kind = EntriesOfKind(kind);
  if (of_kind.empty()) {
    return Err(Error::NotFound(fmt::format("unknown CDI device {}: no spec of kind {} in {}", key,
                                           kind, Join(dirs_, ", "))));
  }
  if (qualified.name != "all") {
    constexpr size_t kNamesShown = 8;
    std::vector<std::string> known;
    for (const Entry* entry : of_kind) {
      if (known.size() == kNamesShown) {
        known.emplace_back("...");
        break;
      }
      known.push_back(entry->spec->devices[entry->device].name);
    }
    return Err(Error::NotFound(
        fmt::format("unknown CDI device {} ({} has {})", key, kind, Join(known, ", "))));
  }
  std::erase_if(of_kind, [](const Entry* e) { return !e->conflict.empty(); });
  return of_kind;
}

Result<ContainerEdits> Registry::Resolve(const std::vector<std::string>& names) const {
  ContainerEdits edits;
  std::set<const Spec*> specs_used;
  std::set<const Entry*> devices_used;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(std::vector<const Entry*> entries, Expand(name));
    for (const Entry* entry : entries) {
      if (!devices_used.insert(entry).second) {
        continue;
      }
      if (specs_used.insert(entry->spec).second) {
        edits.Append(entry->spec->edits);
      }
      edits.Append(entry->spec->devices[entry->device].edits);
    }
  }
  if (edits.intel_rdt) {
    return Err(Error::Invalid(
        fmt::format("CDI devices {}: intelRdt edits are not supported", Join(names, ", "))));
  }
  for (DeviceNode& node : edits.device_nodes) {
    RETURN_IF_ERROR_CTX(FillDeviceInfo(node), fmt::format("CDI devices {}", Join(names, ", ")));
  }
  return edits;
}

Result<std::vector<std::string>> Registry::PickDevices(std::string_view kind, size_t count) const {
  RETURN_IF_ERROR(ValidateKind(kind));
  std::vector<std::string> available;
  for (const Entry* entry : EntriesOfKind(kind)) {
    const Device& device = entry->spec->devices[entry->device];
    if (device.name != "all" && entry->conflict.empty()) {
      available.push_back(DeviceKey(*entry->spec, device));
    }
  }
  if (available.size() < count) {
    return Err(Error(ENODEV,
                     fmt::format("{}: {} requested, {} available", kind, count, available.size())));
  }
  available.resize(count);
  return available;
}

}  // namespace comet::cdi
