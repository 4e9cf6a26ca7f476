// Device node facts from the host; see device_info.h.
#include "cdi/device_info.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>

namespace comet::cdi {

Result<HostDevice> StatHostDevice(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return Err(Error::FromErrno("stat of device node", path));
  }
  HostDevice out;
  out.mode = st.st_mode & 07777;
  if (S_ISCHR(st.st_mode)) {
    out.type = "c";
  } else if (S_ISBLK(st.st_mode)) {
    out.type = "b";
  } else if (S_ISFIFO(st.st_mode)) {
    out.type = "p";
  } else {
    return Err(Error::Invalid(fmt::format("{}: not a device node", path)));
  }
  if (out.type != "p") {
    out.major = static_cast<int64_t>(major(st.st_rdev));
    out.minor = static_cast<int64_t>(minor(st.st_rdev));
  }
  return out;
}

Status FillDeviceInfo(DeviceNode& node) {
  if (node.host_path.empty()) {
    node.host_path = node.path;
  }
  // Without a fileMode the node gets the host node's permissions, not the runtime's 0666
  // default: a GPU that is 0660 root:video on the host must not become world-writable.
  if (!node.type.empty() && (node.major.value_or(0) != 0 || node.type == "p")) {
    if (!node.file_mode) {  // a complete node's host path need not exist
      if (auto host = StatHostDevice(node.host_path); host) {
        node.file_mode = host->mode;
      }
    }
    return Ok();
  }
  ASSIGN_OR_RETURN(HostDevice host, StatHostDevice(node.host_path));
  if (!node.file_mode) {
    node.file_mode = host.mode;
  }
  const std::string given = node.type == "u" ? "c" : node.type;
  if (given.empty()) {
    node.type = host.type;
  } else if (given != host.type) {
    return Err(
        Error::Invalid(fmt::format("device {}: type {} given, but host node {} is of type {}",
                                   node.path, node.type, node.host_path, host.type)));
  }
  if (node.major.value_or(0) == 0 && host.type != "p") {
    node.major = host.major;
    node.minor = host.minor;
  }
  return Ok();
}

}  // namespace comet::cdi
