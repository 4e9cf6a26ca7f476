// A pod's volatile directory on tmpfs and the <pod>/state link to it; see volatile_dir.h.
// Not thread-safe (the pod's lock holder is the only writer).
#include "pod/volatile_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "os/file.h"
#include "os/group_dir.h"
#include "os/unique_fd.h"
#include "pod/manifest.h"
#include "pod/pod_dir.h"
#include "pod/pod_networks.h"
#include "runtime/container_store.h"

namespace comet::pod {
namespace {

constexpr const char* kNewStateDir = ".state.new";
// The status files are a few KiB; this bounds what a copy reads.
constexpr size_t kMaxCopyBytes = 1 << 20;

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string DirName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    return ".";
  }
  return slash == 0 ? "/" : std::string(path.substr(0, slash));
}

// Whether this process is in the initial user namespace, and its euid's uid there (rootless
// comet runs as root of a namespace mapping 0 to the user: the user's own /tmp dir is wanted).
struct HostIdentity {
  bool initial_namespace = true;
  uid_t uid = 0;
};

HostIdentity Identity() {
  const uid_t euid = ::geteuid();
  HostIdentity identity{.initial_namespace = true, .uid = euid};
  auto map = os::ReadFileLimited("/proc/self/uid_map", 64 << 10);
  if (!map) {
    return identity;  // no user namespaces in this kernel
  }
  for (const std::string& line : Split(*map, '\n')) {
    std::vector<uint64_t> fields;
    for (const std::string& field : Split(TrimSpace(line), ' ')) {
      if (auto value = ParseUint(field); value) {
        fields.push_back(*value);
      }
    }
    if (fields.size() != 3) {
      continue;
    }
    if (fields[0] != 0 || fields[1] != 0 || fields[2] != 4294967295U) {
      identity.initial_namespace = false;
    }
    if (euid >= fields[0] && euid - fields[0] < fields[2]) {
      identity.uid = static_cast<uid_t>(fields[1] + (euid - fields[0]));
    }
  }
  return identity;
}

// mkdir, or an existing directory; either way it must be ours and writable by nobody else.
Status MakeOwnDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return Err(Error::FromErrno("mkdir", path));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return Err(Error::FromErrno("stat", path));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    return Err(Error(EPERM, fmt::format("{} must be a directory owned by this user and writable "
                                        "by no one else",
                                        path)));
  }
  return Ok();
}

Result<std::string> ReadLink(const std::string& path) {
  char target[PATH_MAX];
  const ssize_t n = ::readlink(path.c_str(), target, sizeof(target));
  if (n < 0) {
    return Err(Error::FromErrno("readlink", path));
  }
  if (static_cast<size_t>(n) >= sizeof(target)) {
    return Err(Error(ENAMETOOLONG, fmt::format("readlink {}: target too long", path)));
  }
  return std::string(target, static_cast<size_t>(n));
}

// The link's target, when it is one we could have made for this pod: absolute, ending in
// /pods/<uuid>, with no "." or ".." component.
Result<std::string> TrustedTarget(const std::string& link, std::string_view uuid) {
  ASSIGN_OR_RETURN(std::string target, ReadLink(link));
  const std::string suffix = fmt::format("/pods/{}", uuid);
  bool ok = target.size() > suffix.size() && target.front() == '/' &&
            target.compare(target.size() - suffix.size(), suffix.size(), suffix) == 0;
  for (const std::string& part : Split(target, '/')) {
    ok = ok && part != "." && part != "..";
  }
  if (!ok) {
    return Err(Error(
        EPERM, fmt::format("{} -> {}: not a volatile directory of pod {}", link, target, uuid)));
  }
  return target;
}

Status CheckPodUuid(const std::string& uuid, const std::string& pod_dir) {
  if (!IsValidUuid(uuid)) {
    return Err(Error::Invalid(fmt::format("{}: the directory name is not a pod uuid", pod_dir)));
  }
  return Ok();
}

// The root's parent (the per-boot dir: /run/comet, $XDG_RUNTIME_DIR/comet, /tmp/comet-<uid>)
// and the root itself. 0711 under /run as in the runtime's state root; elsewhere 0700.
Status MakeRoot(const std::string& root) {
  const mode_t mode = StartsWith(root, "/run/") ? 0711 : 0700;
  RETURN_IF_ERROR(MakeOwnDir(DirName(root), mode));
  return MakeOwnDir(root, mode);
}

// A pod directory shared with the api-service's group (os/group_dir.h) has its volatile
// directory shared with that group too, whatever the volatile root (/run/comet/pods, 0711, serves
// data directories shared or not): the statuses there are for the api-service to read. Its etc/
// is not: those files are bind-mounted into the apps, which would see the group.
Status ShareLikePodDir(const std::string& pod_dir, const std::string& target) {
  const std::optional<gid_t> group = os::SharedGroup(pod_dir);
  if (!group) {
    return Ok();
  }
  RETURN_IF_ERROR(os::ShareDirectory(target, *group, 0750));
  // The runtime's state (exec.fifo is writable by its group: a member could fail or hang an
  // app's start) is root's alone; init reaches its fifo through an fd, never this path.
  RETURN_IF_ERROR(os::MakeUnsharedDir(os::JoinPath(target, "runtime"), 0700));
  return os::MakeUnsharedDir(os::JoinPath(target, "etc"), 0755);
}

// Builds the on-disk copy of a volatile directory's statuses under a new directory; every file
// and directory made is kept open for one fsync pass at the end (on ext4 the first fsync
// commits them all, so the others are nearly free).
class StatusCopy {
 public:
  StatusCopy(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}

  Status Run() {
    RETURN_IF_ERROR(MakeDir(""));
    RETURN_IF_ERROR(CopyFile(kPidFile));
    RETURN_IF_ERROR(CopyFile(kSupervisorStatusFile));
    RETURN_IF_ERROR(CopyLink(kReadyLink));
    std::vector<std::string> apps = ListDir("apps");
    if (!apps.empty()) {
      RETURN_IF_ERROR(MakeDir("apps"));
    }
    for (const std::string& app : apps) {
      const std::string dir = os::JoinPath("apps", app);
      if (os::Exists(os::JoinPath(os::JoinPath(from_, dir), "status.json"))) {
        RETURN_IF_ERROR(MakeDir(dir));
        RETURN_IF_ERROR(CopyFile(os::JoinPath(dir, "status.json")));
      }
    }
    for (const os::UniqueFd& fd : synced_) {
      if (::fsync(fd.get()) != 0) {
        return Err(Error::FromErrno("fsync", to_));
      }
    }
    return Ok();
  }

 private:
  // `name` relative to the state directory ("state/pid" -> "pid").
  static std::string Relative(std::string_view name) {
    const std::string prefix = std::string(kStateLink) + "/";
    return std::string(StartsWith(name, prefix) ? name.substr(prefix.size()) : name);
  }

  Status MakeDir(const std::string& name) {
    const std::string path = name.empty() ? to_ : os::JoinPath(to_, name);
    if (::mkdir(path.c_str(), 0750) != 0) {
      return Err(Error::FromErrno("mkdir", path));
    }
    ASSIGN_OR_RETURN(os::UniqueFd fd, os::Open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    synced_.push_back(std::move(fd));
    return Ok();
  }

  Status CopyFile(std::string_view name) {
    const std::string relative = Relative(name);
    auto text = os::ReadFileLimited(os::JoinPath(from_, relative), kMaxCopyBytes);
    if (!text) {
      return text.error().code() == ENOENT ? Ok() : Err(std::move(text).error());
    }
    const std::string path = os::JoinPath(to_, relative);
    ASSIGN_OR_RETURN(os::UniqueFd fd,
                     os::Open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644));
    RETURN_IF_ERROR(os::WriteAll(fd.get(), *text));
    synced_.push_back(std::move(fd));
    return Ok();
  }

  Status CopyLink(std::string_view name) {
    const std::string relative = Relative(name);
    auto target = ReadLink(os::JoinPath(from_, relative));
    if (!target) {
      return target.error().code() == ENOENT ? Ok() : Err(std::move(target).error());
    }
    const std::string path = os::JoinPath(to_, relative);
    if (::symlink(target->c_str(), path.c_str()) != 0) {
      return Err(Error::FromErrno("symlink", path));
    }
    return Ok();
  }

  // Valid app names in <from>/<name> (a planted entry cannot name a path).
  std::vector<std::string> ListDir(const std::string& name) const {
    std::vector<std::string> names;
    const std::string path = os::JoinPath(from_, name);
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
      return names;
    }
    while (const dirent* entry = ::readdir(dir)) {  // NOLINT(concurrency-mt-unsafe)
      if (IsValidName(entry->d_name)) {
        names.emplace_back(entry->d_name);
      }
    }
    ::closedir(dir);
    return names;
  }

  std::string from_;
  std::string to_;
  std::vector<os::UniqueFd> synced_;
};

}  // namespace

std::string VolatileRoot() {
  const HostIdentity identity = Identity();
  const bool rootless = ::geteuid() != 0 || !identity.initial_namespace;
  return os::JoinPath(runtime::PerBootDir(rootless, "comet", identity.uid), "pods");
}

Status EnsureVolatileDir(const std::string& pod_dir, const std::string& root) {
  const std::string uuid = BaseName(pod_dir);
  RETURN_IF_ERROR(CheckPodUuid(uuid, pod_dir));
  const std::string link = os::JoinPath(pod_dir, kStateLink);
  struct stat st {};
  std::string target;
  if (::lstat(link.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return Ok();  // persisted by an earlier run
    }
    if (!S_ISLNK(st.st_mode)) {
      return Err(Error(EEXIST, fmt::format("{} is neither a link nor a directory", link)));
    }
    ASSIGN_OR_RETURN(target, TrustedTarget(link, uuid));
    RETURN_IF_ERROR(MakeRoot(DirName(target)));  // gone after a reboot
  } else if (errno == ENOENT) {
    const std::string volatile_root = root.empty() ? VolatileRoot() : root;
    RETURN_IF_ERROR(MakeRoot(volatile_root));
    target = os::JoinPath(volatile_root, uuid);
    if (::symlink(target.c_str(), link.c_str()) != 0) {
      return Err(Error::FromErrno("symlink", link));
    }
  } else {
    return Err(Error::FromErrno("stat", link));
  }
  RETURN_IF_ERROR(MakeOwnDir(target, 0750));
  return ShareLikePodDir(pod_dir, target);
}

Status PersistVolatileDir(const std::string& pod_dir) {
  const std::string uuid = BaseName(pod_dir);
  RETURN_IF_ERROR(CheckPodUuid(uuid, pod_dir));
  const std::string link = os::JoinPath(pod_dir, kStateLink);
  struct stat st {};
  if (::lstat(link.c_str(), &st) != 0) {
    return errno == ENOENT ? Ok() : Err(Error::FromErrno("stat", link));
  }
  if (!S_ISLNK(st.st_mode)) {
    return Ok();
  }
  ASSIGN_OR_RETURN(std::string target, TrustedTarget(link, uuid));
  // A container the runtime could not delete keeps its state there, for gc to kill it by.
  const std::string runtime_root = os::JoinPath(target, "runtime");
  if (::rmdir(runtime_root.c_str()) != 0 && errno != ENOENT) {
    if (errno == ENOTEMPTY || errno == EEXIST) {
      return Err(Error(EBUSY, fmt::format("{}: containers are left, for gc", runtime_root)));
    }
    return Err(Error::FromErrno("rmdir", runtime_root));
  }
  // So do the records of networks that could not be detached (pod_networks.h).
  const std::string networks = os::JoinPath(target, kNetworkRecordsName);
  if (::access(networks.c_str(), F_OK) == 0) {
    return Err(Error(EBUSY, fmt::format("{}: networks are left, for gc", networks)));
  }
  const std::string fresh = os::JoinPath(pod_dir, kNewStateDir);
  RETURN_IF_ERROR(os::RemoveAll(fresh));  // a crash's leftover
  if (auto copied = StatusCopy(target, fresh).Run(); !copied) {
    (void)os::RemoveAll(fresh);
    return copied;
  }
  ASSIGN_OR_RETURN(os::UniqueFd pod, os::Open(pod_dir, O_RDONLY | O_DIRECTORY));
  if (::renameat2(pod.get(), kNewStateDir, pod.get(), kStateLink, RENAME_EXCHANGE) != 0) {
    Error error = Error::FromErrno("renameat2 RENAME_EXCHANGE", link);
    (void)os::RemoveAll(fresh);
    return Err(std::move(error));
  }
  // kNewStateDir is the old link now.
  if (::unlinkat(pod.get(), kNewStateDir, 0) != 0) {
    return Err(Error::FromErrno("unlink", fresh));
  }
  if (::fsync(pod.get()) != 0) {
    return Err(Error::FromErrno("fsync", pod_dir));
  }
  return os::RemoveAll(target);
}

namespace {

// Where <pod>/state leads when it is a link comet could have made for this pod and everything
// on the way belongs to the pod's owner alone: nullopt when there is nothing to go through (no
// link, a persisted directory, a target gone with a reboot); EPERM when the link is not to be
// trusted (another user could have planted or swapped something on the way).
Result<std::optional<std::string>> VerifiedTarget(const std::string& pod_dir,
                                                  std::string_view uuid) {
  const std::string link = os::JoinPath(pod_dir, kStateLink);
  struct stat st {};
  if (::lstat(link.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return std::optional<std::string>();
    }
    return Err(Error::FromErrno("stat", link));
  }
  if (!S_ISLNK(st.st_mode)) {
    return std::optional<std::string>();  // persisted on disk: part of the pod directory
  }
  ASSIGN_OR_RETURN(std::string target, TrustedTarget(link, uuid));
  // The root, its parent and the target must belong to the pod's owner, who alone may write
  // there: nobody else can have swapped one for a link to elsewhere.
  struct stat pod {};
  if (::stat(pod_dir.c_str(), &pod) != 0) {
    return Err(Error::FromErrno("stat", pod_dir));
  }
  const std::string root = DirName(target);
  for (const std::string& dir : {DirName(root), root, target}) {
    struct stat own {};
    if (::lstat(dir.c_str(), &own) != 0) {
      if (errno == ENOENT) {
        return std::optional<std::string>();  // gone (a reboot): nothing to go through
      }
      return Err(Error::FromErrno("stat", dir));
    }
    if (!S_ISDIR(own.st_mode) || own.st_uid != pod.st_uid || (own.st_mode & 022) != 0) {
      return Err(Error(EPERM, fmt::format("{}: not a directory of the pod's owner that only it "
                                          "may write to; {} left alone",
                                          dir, target)));
    }
  }
  return std::optional<std::string>(std::move(target));
}

}  // namespace

Status DropUntrustedVolatileLink(const std::string& pod_dir, std::string_view uuid) {
  auto target = VerifiedTarget(pod_dir, uuid);
  if (target || target.error().code() != EPERM) {
    return target ? Ok() : Status(Err(std::move(target).error()));
  }
  log::Warning("pod {}: {}; dropping the link", uuid, target.error().ToString());
  const std::string link = os::JoinPath(pod_dir, kStateLink);
  if (::unlink(link.c_str()) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("unlink", link));
  }
  return Ok();
}

Status RemoveVolatileDir(const std::string& pod_dir, std::string_view uuid) {
  ASSIGN_OR_RETURN(std::optional<std::string> target, VerifiedTarget(pod_dir, uuid));
  if (!target) {
    return Ok();
  }
  // RemoveAll unlinks a symlink planted in the target's place rather than follow it.
  return os::RemoveAll(*target);
}

namespace {

// A regular file (not followed if a symlink) made group `gid`, mode 0644.
Status ShareStatusFile(const std::string& path, gid_t gid) {
  auto fd = os::Open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (!fd) {
    const int code = fd.error().code();
    return code == ENOENT || code == ELOOP ? Ok() : Status(Err(std::move(fd).error()));
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) {
    return Err(Error::FromErrno("stat", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return Ok();
  }
  if (::fchown(fd->get(), static_cast<uid_t>(-1), gid) != 0 || ::fchmod(fd->get(), 0644) != 0) {
    return Err(Error::FromErrno("chown", path));
  }
  return Ok();
}

}  // namespace

Status ShareVolatileDir(const std::string& pod_dir, std::string_view uuid) {
  const std::optional<gid_t> group = os::SharedGroup(pod_dir);
  if (!group) {
    return Ok();
  }
  auto target = VerifiedTarget(pod_dir, uuid);
  if (!target) {
    if (target.error().code() != EPERM) {
      return Err(std::move(target).error());
    }
    log::Warning("pod {}: {}; its volatile directory is not shared", uuid,
                 target.error().ToString());
    return Ok();
  }
  if (!*target) {
    return Ok();
  }
  const std::string& dir = **target;
  RETURN_IF_ERROR(ShareLikePodDir(pod_dir, dir));
  RETURN_IF_ERROR(ShareStatusFile(os::JoinPath(dir, "pid"), *group));
  RETURN_IF_ERROR(ShareStatusFile(os::JoinPath(dir, "supervisor.json"), *group));
  const std::string apps = os::JoinPath(dir, "apps");
  struct stat st {};
  if (::lstat(apps.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Ok();
  }
  RETURN_IF_ERROR(os::ShareDirectory(apps, *group, 0750));
  DIR* stream = ::opendir(apps.c_str());
  if (stream == nullptr) {
    return Err(Error::FromErrno("opendir", apps));
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(stream)) {  // NOLINT(concurrency-mt-unsafe)
    if (IsValidName(entry->d_name)) {
      names.emplace_back(entry->d_name);
    }
  }
  ::closedir(stream);
  for (const std::string& name : names) {
    const std::string app = os::JoinPath(apps, name);
    if (::lstat(app.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      RETURN_IF_ERROR(os::ShareDirectory(app, *group, 0750));
      RETURN_IF_ERROR(ShareStatusFile(os::JoinPath(app, "status.json"), *group));
    }
  }
  return Ok();
}

}  // namespace comet::pod
