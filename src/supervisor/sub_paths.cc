// StageSubPaths; see sub_paths.h.
#include "supervisor/sub_paths.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "os/file.h"
#include "os/unique_fd.h"
#include "pod/pod_dir.h"
#include "runtime/linux/safe_path.h"

namespace comet::supervisor {
namespace {

// The directory (or file) a volume's sub path names, as an O_PATH fd, created as a directory
// when missing.
// A host volume's root may itself be a symlink (/var/run): the user chose it, so it is followed;
// an empty volume's root is comet's own directory.
Result<os::UniqueFd> OpenSubPath(const std::string& volume_root, const std::string& sub_path,
                                 bool follow_root) {
  ASSIGN_OR_RETURN(os::UniqueFd root, os::Open(volume_root, O_PATH | O_DIRECTORY | O_CLOEXEC |
                                                                (follow_root ? 0 : O_NOFOLLOW)));
  const int fd =
      runtime::OpenOrCreateInRoot(root.get(), sub_path.c_str(), runtime::CreateAs::kDirectory);
  if (fd < 0) {
    return Err(Error::FromErrno("open", fmt::format("{} inside {}", sub_path, volume_root)));
  }
  return os::UniqueFd(fd);
}

// An empty mount point of the same kind as what `source` is (a bind needs dir on dir, file on
// file), made fresh: an earlier staging there is unmounted first.
Status MakeStagingPoint(const std::string& point, int source) {
  struct stat st {};
  if (::fstat(source, &st) != 0) {
    return Err(Error::FromErrno("stat", point));
  }
  if (::umount2(point.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return Err(Error::FromErrno("umount", point));
  }
  // A point of the other kind, left by an earlier run whose sub path was a file (or a
  // directory), is replaced.
  struct stat old {};
  if (::lstat(point.c_str(), &old) == 0 && S_ISDIR(old.st_mode) != S_ISDIR(st.st_mode)) {
    if ((S_ISDIR(old.st_mode) ? ::rmdir(point.c_str()) : ::unlink(point.c_str())) != 0) {
      return Err(Error::FromErrno("remove", point));
    }
  }
  if (S_ISDIR(st.st_mode)) {
    if (::mkdir(point.c_str(), 0700) != 0 && errno != EEXIST) {
      return Err(Error::FromErrno("mkdir", point));
    }
    return Ok();
  }
  ASSIGN_OR_RETURN(os::UniqueFd file,
                   os::Open(point, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  return Ok();
}

}  // namespace

std::string SubPathStagingPoint(const std::string& pod_dir, const std::string& app, size_t index) {
  return os::JoinPath(pod_dir, fmt::format("subpaths/{}/{}", app, index));
}

Result<std::vector<std::string>> StageSubPaths(const std::string& pod_dir,
                                               const pod::PodManifest& manifest,
                                               const pod::App& app) {
  std::vector<std::string> staged(app.mounts.size());
  for (size_t i = 0; i < app.mounts.size(); ++i) {
    const pod::MountPoint& point = app.mounts[i];
    if (point.sub_path.empty()) {
      continue;
    }
    auto volume = std::find_if(manifest.volumes.begin(), manifest.volumes.end(),
                               [&](const pod::Volume& v) { return v.name == point.volume; });
    if (volume == manifest.volumes.end()) {
      return Err(Error::Invalid(
          fmt::format("mount {}: no volume named {:?}", point.target, point.volume)));
    }
    const std::string root = volume->kind == pod::VolumeKind::kHost
                                 ? volume->source
                                 : pod::VolumeDir(pod_dir, volume->name);
    auto source = OpenSubPath(root, point.sub_path, volume->kind == pod::VolumeKind::kHost);
    if (!source) {
      return Err(std::move(source).error().AddContext(fmt::format(
          "mount {} (volume {}, subPath {})", point.target, volume->name, point.sub_path)));
    }
    const std::string staging = SubPathStagingPoint(pod_dir, app.name, i);
    RETURN_IF_ERROR(os::MkdirAll(staging.substr(0, staging.rfind('/')), 0700));
    RETURN_IF_ERROR(MakeStagingPoint(staging, source->get()));
    const runtime::FdPath from(source->get());
    if (::mount(from.Path(), staging.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      return Err(Error::FromErrno(
          "bind-mount",
          fmt::format("subPath {} of volume {} on {}", point.sub_path, volume->name, staging)));
    }
    staged[i] = staging;
  }
  return staged;
}

}  // namespace comet::supervisor
