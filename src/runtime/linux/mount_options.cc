// ParseMountOptions: the option table runc and crun users rely on (mount(8) names).
// Pure functions; thread-safe.
#include "runtime/linux/mount_options.h"

#include <sys/mount.h>

#include <algorithm>
#include <array>

namespace comet::runtime {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // "rw", "suid", "dev" ... clear a flag set earlier
  unsigned long flag;
};

constexpr std::array<FlagOption, 33> kFlagOptions = {{
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
}};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr std::array<PropagationOption, 8> kPropagationOptions = {{
    {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC},
    {"private", MS_PRIVATE},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"unbindable", MS_UNBINDABLE},
    {"runbindable", MS_UNBINDABLE | MS_REC},
}};

// Recursive mount attributes (mount_setattr(2), Linux 5.12), as runc 1.1 and crun name them.
struct AttrOption {
  std::string_view name;
  bool clear;
  uint64_t attr;
};

constexpr std::array<AttrOption, 12> kAttrOptions = {{
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
}};

// The atime modes are one field: MOUNT_ATTR__ATIME must be cleared to change it.
bool ApplyAtimeAttr(std::string_view option, MountOptions* out) {
  uint64_t mode = 0;
  if (option == "rnoatime") {
    mode = MOUNT_ATTR_NOATIME;
  } else if (option == "rstrictatime") {
    mode = MOUNT_ATTR_STRICTATIME;
  } else if (option == "rrelatime" || option == "ratime" || option == "rnostrictatime" ||
             option == "rnorelatime") {
    mode = MOUNT_ATTR_RELATIME;  // == 0: the default mode
  } else {
    return false;
  }
  out->attr_clr |= MOUNT_ATTR__ATIME;
  out->attr_set = (out->attr_set & ~uint64_t{MOUNT_ATTR__ATIME}) | mode;
  return true;
}

bool ApplyFlagOption(std::string_view option, MountOptions* out) {
  for (const FlagOption& f : kFlagOptions) {
    if (f.name == option) {
      if (f.clear) {
        out->flags &= ~f.flag;
      } else {
        out->flags |= f.flag;
      }
      if ((f.flag & MS_BIND) != 0) {
        out->bind = true;
      }
      return true;
    }
  }
  for (const PropagationOption& p : kPropagationOptions) {
    if (p.name == option) {
      out->propagation.push_back(p.flags);
      return true;
    }
  }
  if (ApplyAtimeAttr(option, out)) {
    return true;
  }
  const auto* attr =
      std::ranges::find_if(kAttrOptions, [&](const AttrOption& a) { return a.name == option; });
  if (attr == kAttrOptions.end()) {
    return false;
  }
  if (attr->clear) {
    out->attr_clr |= attr->attr;
    out->attr_set &= ~attr->attr;
  } else {
    out->attr_set |= attr->attr;
    out->attr_clr &= ~attr->attr;
  }
  return true;
}

}  // namespace

Result<MountOptions> ParseMountOptions(const std::vector<std::string>& options) {
  MountOptions out;
  for (const std::string& option : options) {
    if (option.empty() || ApplyFlagOption(option, &out)) {
      continue;
    }
    if (option == "idmap" || option == "ridmap") {
      return Err(Error::Invalid("mount option \"" + option + "\": idmapped mounts not supported"));
    }
    if (option == "tmpcopyup") {
      // An extension of some runtimes that copies the shadowed directory into the new tmpfs.
      // Not supported (listed in docs/comet-runtime.md); dropped so that the mount still works.
      continue;
    }
    if (!out.data.empty()) {
      out.data += ',';
    }
    out.data += option;
  }
  return out;
}

Result<unsigned long> ParsePropagation(std::string_view value) {
  if (value.empty()) {
    return 0UL;
  }
  for (const PropagationOption& p : kPropagationOptions) {
    if (p.name == value) {
      return p.flags;
    }
  }
  return Err(Error::Invalid("unknown propagation \"" + std::string(value) + "\""));
}

}  // namespace comet::runtime
