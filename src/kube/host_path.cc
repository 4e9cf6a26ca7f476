// IsValidHostPathType, PrepareHostPath, UndoHostPaths; see host_path.h. The type checks are the
// kubelet's (pkg/volume/hostpath: checkType), creation modes its own (0755 directories, 0644
// files), set explicitly so that the umask of whoever runs stage0 does not narrow them.
#include "kube/host_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/unique_fd.h"

namespace comet::kube {
namespace {

constexpr mode_t kDirMode = 0755;
constexpr mode_t kFileMode = 0644;

constexpr std::array<std::string_view, 8> kTypes = {
    "",       "DirectoryOrCreate", "Directory",  "FileOrCreate", "File",
    "Socket", "CharDevice",        "BlockDevice"};

Error TypeError(const HostPathRequirement& req, std::string_view what) {
  return Error::Invalid(fmt::format("{}: {}: {}", req.field, req.path, what));
}

// mkdir -p, recording each directory it made; an existing non-directory on the way fails.
Status MakeDirs(const HostPathRequirement& req, const std::string& path,
                std::vector<std::string>* created) {
  std::string prefix;
  for (const std::string& part : Split(path, '/')) {
    if (part.empty()) {
      continue;
    }
    prefix += "/" + part;
    if (::mkdir(prefix.c_str(), kDirMode) == 0) {
      created->push_back(prefix);
      // mkdir's mode went through the umask. Through an O_NOFOLLOW fd: a symlink swapped in for
      // the new directory meanwhile is refused, not followed to whatever it names.
      os::UniqueFd made(::open(prefix.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!made || ::fchmod(made.get(), kDirMode) != 0) {
        return Err(Error::FromErrno("chmod", prefix).AddContext(req.field));
      }
      continue;
    }
    if (errno != EEXIST) {
      return Err(Error::FromErrno("mkdir", prefix).AddContext(req.field));
    }
    struct stat st {};
    if (::stat(prefix.c_str(), &st) != 0) {
      return Err(Error::FromErrno("stat", prefix).AddContext(req.field));
    }
    if (!S_ISDIR(st.st_mode)) {
      return Err(Error::Invalid(fmt::format("{}: {}: not a directory", req.field, prefix)));
    }
  }
  return Ok();
}

Status CreateFile(const HostPathRequirement& req, std::vector<std::string>* created) {
  const size_t slash = req.path.rfind('/');
  if (slash != 0 && slash != std::string::npos) {
    RETURN_IF_ERROR(MakeDirs(req, req.path.substr(0, slash), created));
  }
  os::UniqueFd fd(
      ::open(req.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kFileMode));
  if (!fd) {
    if (errno == EEXIST) {  // made meanwhile (another pod): it must be a file now
      struct stat st {};
      if (::stat(req.path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        return Ok();
      }
      return Err(TypeError(req, "not a file"));
    }
    return Err(Error::FromErrno("create", req.path).AddContext(req.field));
  }
  created->push_back(req.path);
  if (::fchmod(fd.get(), kFileMode) != 0) {
    return Err(Error::FromErrno("chmod", req.path).AddContext(req.field));
  }
  return Ok();
}

// The check of an existing path for `type`.
Status CheckType(const HostPathRequirement& req, const struct stat& st) {
  const std::string& type = req.type;
  if (type.empty()) {
    return Ok();
  }
  if ((type == "DirectoryOrCreate" || type == "Directory") && !S_ISDIR(st.st_mode)) {
    return Err(TypeError(req, "not a directory"));
  }
  if ((type == "FileOrCreate" || type == "File") && !S_ISREG(st.st_mode)) {
    return Err(TypeError(req, "not a file"));
  }
  if (type == "Socket" && !S_ISSOCK(st.st_mode)) {
    return Err(TypeError(req, "not a socket"));
  }
  if (type == "CharDevice" && !S_ISCHR(st.st_mode)) {
    return Err(TypeError(req, "not a character device"));
  }
  if (type == "BlockDevice" && !S_ISBLK(st.st_mode)) {
    return Err(TypeError(req, "not a block device"));
  }
  return Ok();
}

}  // namespace

bool IsValidHostPathType(std::string_view type) {
  return std::find(kTypes.begin(), kTypes.end(), type) != kTypes.end();
}

Status PrepareHostPath(const HostPathRequirement& req, std::vector<std::string>* created) {
  if (!IsValidHostPathType(req.type)) {
    return Err(Error::Invalid(
        fmt::format("{}.type: \"{}\": unknown hostPath type", req.field, Printable(req.type, 64))));
  }
  if (req.path.empty() || req.path.front() != '/') {
    return Err(TypeError(req, "not an absolute path"));
  }
  struct stat st {};
  if (::stat(req.path.c_str(), &st) == 0) {
    return CheckType(req, st);
  }
  // ENOTDIR: a file where a parent should be; creating says which.
  if (errno != ENOENT && errno != ENOTDIR) {
    return Err(Error::FromErrno("stat", req.path).AddContext(req.field));
  }
  if (req.type.empty() || req.type == "DirectoryOrCreate") {
    return MakeDirs(req, req.path, created);
  }
  if (req.type == "FileOrCreate") {
    return CreateFile(req, created);
  }
  return Err(Error::NotFound(
      fmt::format("{}: {}: does not exist (type {})", req.field, req.path, req.type)));
}

void UndoHostPaths(const std::vector<std::string>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    struct stat st {};
    if (::lstat(it->c_str(), &st) != 0) {
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      ::rmdir(it->c_str());  // fails, as it should, once something else lives there
    } else {
      ::unlink(it->c_str());
    }
  }
}

}  // namespace comet::kube
