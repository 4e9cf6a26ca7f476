// ContainerStore: JSON state files in per-container directories.
#include "runtime/container_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "os/file.h"

namespace comet::runtime {
namespace {

constexpr int kFormatVersion = 1;
constexpr size_t kStateLimit = 16U << 20;

nlohmann::json ToJson(const ContainerRecord& r) {
  return {{"version", kFormatVersion},
          {"id", r.id},
          {"bundle", r.bundle},
          {"rootfs", r.rootfs},
          {"pid", r.pid},
          {"pid_start_time", r.pid_start_time},
          {"created", r.created},
          {"owner_uid", r.owner_uid},
          {"rootless", r.rootless},
          {"started", r.started},
          {"annotations", r.annotations},
          {"cgroup_paths", r.cgroup_paths}};
}

}  // namespace

std::string PerBootDir(bool rootless, std::string_view name, uid_t uid) {
  if (rootless) {
    const char* xdg = ::secure_getenv("XDG_RUNTIME_DIR");
    if (xdg != nullptr && *xdg == '/') {
      return os::JoinPath(xdg, name);
    }
    return "/tmp/" + std::string(name) + "-" + std::to_string(uid);
  }
  return os::JoinPath("/run", name);
}

std::string ContainerStore::DefaultRoot(bool rootless) {
  return PerBootDir(rootless, "comet-runtime", ::geteuid());
}

Status ContainerStore::ValidateId(const std::string& id) {
  if (id.empty()) {
    return Err(Error::Invalid("container id must not be empty"));
  }
  if (id == "." || id == ".." || id.size() > 1024) {
    return Err(Error::Invalid("invalid container id \"" + id + "\""));
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok) {
      return Err(
          Error::Invalid("invalid container id \"" + id + "\": only [A-Za-z0-9_+.-] are allowed"));
    }
  }
  return Ok();
}

std::string ContainerStore::Dir(const std::string& id) const {
  return os::JoinPath(root_, id);
}

std::string ContainerStore::FifoPath(const std::string& id) const {
  return os::JoinPath(Dir(id), "exec.fifo");
}

std::string ContainerStore::ConfigPath(const std::string& id) const {
  return os::JoinPath(Dir(id), "config.json");
}

Status ContainerStore::CheckRoot() const {
  struct stat st {};
  if (::lstat(root_.c_str(), &st) != 0) {
    return Err(Error::FromErrno("state root", root_));
  }
  if (!S_ISDIR(st.st_mode) || (st.st_uid != ::geteuid() && st.st_uid != 0) ||
      (st.st_mode & 022) != 0) {
    return Err(Error(EPERM, "state root " + root_ +
                                " must be a directory owned by this user (or root) and writable "
                                "by no one else"));
  }
  return Ok();
}

Result<os::FileLock> ContainerStore::Lock(const std::string& id) const {
  RETURN_IF_ERROR(ValidateId(id));
  RETURN_IF_ERROR(CheckRoot());
  auto lock = os::FileLock::AcquireDirectory(Dir(id), os::FileLock::Mode::kExclusive);
  if (!lock && lock.error().code() == ENOENT) {
    return Err(Error::NotFound("container \"" + id + "\" does not exist"));
  }
  return lock;
}

Status ContainerStore::CreateDir(const std::string& id) const {
  RETURN_IF_ERROR(ValidateId(id));
  RETURN_IF_ERROR(os::MkdirAll(root_, 0711));
  RETURN_IF_ERROR(CheckRoot());
  if (::mkdir(Dir(id).c_str(), 0711) != 0) {
    if (errno == EEXIST) {
      return Err(Error(EEXIST, "container with id \"" + id + "\" already exists"));
    }
    return Err(Error::FromErrno("mkdir", Dir(id)));
  }
  return Ok();
}

Status ContainerStore::Save(const ContainerRecord& record) const {
  // The state root lives on tmpfs (/run) and means nothing after a reboot: no fsync.
  return os::ReplaceFile(os::JoinPath(Dir(record.id), "state.json"), ToJson(record).dump(), 0600);
}

Result<ContainerRecord> ContainerStore::Load(const std::string& id) const {
  RETURN_IF_ERROR(ValidateId(id));
  if (auto root = CheckRoot(); !root && root.error().code() != ENOENT) {
    return Err(std::move(root).error());
  }
  auto text = os::ReadFileLimited(os::JoinPath(Dir(id), "state.json"), kStateLimit);
  if (!text) {
    if (text.error().code() == ENOENT) {
      return Err(Error::NotFound("container \"" + id + "\" does not exist"));
    }
    return Err(std::move(text).error());
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Err(Error::Invalid("state of container \"" + id + "\" is corrupt"));
  }
  try {
    ContainerRecord r;
    r.id = j.at("id").get<std::string>();
    r.bundle = j.at("bundle").get<std::string>();
    r.rootfs = j.at("rootfs").get<std::string>();
    r.pid = j.at("pid").get<pid_t>();
    r.pid_start_time = j.at("pid_start_time").get<uint64_t>();
    r.created = j.at("created").get<std::string>();
    r.owner_uid = j.at("owner_uid").get<uint32_t>();
    r.rootless = j.at("rootless").get<bool>();
    r.started = j.at("started").get<bool>();
    r.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
    r.cgroup_paths = j.at("cgroup_paths").get<std::map<std::string, std::string>>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    return Err(Error::Invalid("state of container \"" + id + "\" is corrupt: " + e.what()));
  }
}

Status ContainerStore::Remove(const std::string& id) const {
  RETURN_IF_ERROR(ValidateId(id));
  return os::RemoveAll(Dir(id));
}

Result<std::vector<std::string>> ContainerStore::ListIds() const {
  std::vector<std::string> ids;
  DIR* dir = ::opendir(root_.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) {
      return ids;
    }
    return Err(Error::FromErrno("opendir", root_));
  }
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != ".." && ValidateId(name) &&
        os::Exists(os::JoinPath(Dir(name), "state.json"))) {
      ids.push_back(name);
    }
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end());
  return ids;
}

uint64_t ProcessStartTime(pid_t pid) {
  if (pid <= 0) {
    return 0;
  }
  auto stat = os::ReadFileLimited("/proc/" + std::to_string(pid) + "/stat", 1 << 16);
  if (!stat) {
    return 0;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::vector<std::string> fields = Split(stat->substr(close + 2), ' ');
  // Field 3 (state) is fields[0]; field 22 (starttime) is fields[19].
  if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X") {
    return 0;
  }
  return ParseUint(fields[19]).value_or(0);
}

}  // namespace comet::runtime
