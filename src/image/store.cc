// The image store: opening a store, reading and storing blobs, and unpacked layer trees.
#include "image/store.h"

#include <fcntl.h>
#include <stdlib.h>  // NOLINT(modernize-deprecated-headers): mkdtemp is POSIX
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image/store_internal.h"
#include "image/store_reader.h"
#include "os/file.h"
#include "os/group_dir.h"

namespace comet::image {
namespace si = store_internal;

namespace {

// oci-layout must say 1.0.0: another version may lay blobs out differently.
Status CheckLayoutFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, os::ReadFileLimited(path, 4096));
  std::string version;
  try {
    const auto json = nlohmann::json::parse(text);
    version = json.at("imageLayoutVersion").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return Err(Error::Invalid(fmt::format("{}: not an OCI image layout file: {}", path, e.what())));
  }
  if (version != si::kLayoutVersion) {
    return Err(Error::Invalid(fmt::format("{}: unsupported image layout version {:?} (want {})",
                                          path, version, si::kLayoutVersion)));
  }
  return Ok();
}

Status InitLayout(const std::string& root) {
  const std::string layout = os::JoinPath(root, "oci-layout");
  const bool existed = os::Exists(layout) && os::Exists(si::IndexPath(root));
  // What the api-service reads is group-readable in a shared store; the rest stays private and
  // unshared (store_internal.h), so that no image's layer tree carries the group.
  const mode_t readable = si::ReadableDirMode(root);
  for (const char* dir : {"blobs/sha256", "images"}) {
    RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(root, dir), readable));
  }
  const bool shared = os::SharedGroup(root).has_value();
  for (const char* dir : {"ingest", "layers", "leases"}) {
    const std::string path = os::JoinPath(root, dir);
    RETURN_IF_ERROR(shared ? os::MakeUnsharedDir(path, 0700) : os::MkdirAll(path, 0700));
  }
  for (const char* dir : {"layers/sha256", "layers/tmp"}) {
    RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(root, dir), 0700));
  }
  if (os::Exists(layout)) {
    RETURN_IF_ERROR(CheckLayoutFile(layout));
  } else {
    RETURN_IF_ERROR(os::WriteFileAtomic(
        layout, fmt::format(R"({{"imageLayoutVersion":"{}"}})", si::kLayoutVersion)));
  }
  if (!os::Exists(si::IndexPath(root))) {
    RETURN_IF_ERROR(si::WriteIndex(root, {}));
  }
  // Every open of a store (each `comet run`) passes here: only a store just made has new
  // entries whose names must reach the disk.
  return existed ? Ok() : si::FsyncDir(root);
}

}  // namespace

Result<Store> Store::Open(StoreOptions options) {
  if (options.root.empty()) {
    return Err(Error::Invalid("image store: empty root"));
  }
  // Inside a data directory shared with the api-service's group, the store is shared too.
  const std::string parent = options.root.substr(0, options.root.find_last_of('/'));
  const mode_t mode = os::SharedGroup(parent) || os::SharedGroup(options.root) ? 0750 : 0700;
  RETURN_IF_ERROR_CTX(os::MkdirAll(options.root, mode), "opening image store");
  {
    ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(options.root));
    RETURN_IF_ERROR_CTX(InitLayout(options.root), "opening image store " + options.root);
  }
  return Store(std::move(options));
}

// ---- blobs

std::string Store::BlobPath(const Digest& digest) const {
  return os::JoinPath(root(), "blobs/" + digest.algorithm() + "/" + digest.hex());
}

bool Store::HasBlob(const Digest& digest) const {
  struct stat st {};
  return ::stat(BlobPath(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<os::UniqueFd> Store::OpenBlob(const Digest& digest) const {
  auto fd = os::Open(BlobPath(digest), O_RDONLY);
  if (!fd && fd.error().code() == ENOENT) {
    return Err(Error::NotFound(fmt::format("blob {} not found in the store", digest.ToString())));
  }
  return fd;
}

Result<std::string> Store::ReadBlob(const Digest& digest, size_t limit) const {
  // Reading a blob needs no lock (blobs are immutable): the lock-free reader is the one reader.
  return ReadBlobUnlocked(root(), digest, limit);
}

Result<Digest> Store::PutBlob(std::string_view data, const std::optional<Digest>& expected) const {
  Hasher hasher(expected ? std::string_view(expected->algorithm()) : "sha256");
  hasher.Update(data);
  const Digest actual = hasher.Current();
  if (expected && actual != *expected) {
    return Err(Error::Invalid(fmt::format("blob digest mismatch: expected {}, got {}",
                                          expected->ToString(), actual.ToString())));
  }
  if (HasBlob(actual)) {
    return actual;
  }
  ASSIGN_OR_RETURN(BlobWriter writer, BeginBlob(actual, static_cast<int64_t>(data.size())));
  if (writer.done()) {
    return actual;
  }
  if (writer.offset() != 0) {
    RETURN_IF_ERROR(writer.Restart());
  }
  RETURN_IF_ERROR(writer.Write(data));
  return writer.Commit();
}

// ---- layer trees

std::string Store::LayerPath(const Digest& diff_id) const {
  return os::JoinPath(root(), "layers/" + diff_id.algorithm() + "/" + diff_id.hex());
}

bool Store::HasLayer(const Digest& diff_id) const {
  struct stat st {};
  const std::string path = LayerPath(diff_id);
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && !si::LayerTreeSuspect(path);
}

namespace {

Result<std::string> MakeFillDir(const std::string& root, const Digest& diff_id) {
  std::string pattern = os::JoinPath(si::LayersTmpDir(root), diff_id.hex() + "-XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return Err(Error::FromErrno("mkdtemp", pattern));
  }
  std::string dir(buf.data());
  // mkdtemp makes it 0700; a layer root is searchable by the container's users.
  if (::chmod(dir.c_str(), 0755) != 0) {
    return Err(Error::FromErrno("chmod", dir));
  }
  return dir;
}

}  // namespace

Status Store::EnsureLayer(const Digest& diff_id,
                          const std::function<Result<Digest>(const std::string&)>& fill) const {
  if (HasLayer(diff_id)) {
    return Ok();
  }
  const std::string path = LayerPath(diff_id);
  const std::string parent = os::JoinPath(root(), "layers/" + diff_id.algorithm());
  RETURN_IF_ERROR(os::MkdirAll(parent, 0700));
  const std::string lock_path = path + ".lock";
  ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockFile(lock_path, /*wait=*/true));
  if (HasLayer(diff_id)) {  // filled by the holder we waited for
    ::unlink(lock_path.c_str());
    return Ok();
  }
  // A tree left unsynced by a boot that ended in a crash may have lost data: unpack it again.
  if (os::Exists(path)) {
    RETURN_IF_ERROR(si::DiscardLayerTree(root(), path));
  }
  ASSIGN_OR_RETURN(std::string tmp, MakeFillDir(root(), diff_id));
  // The lock file goes too (safe while held: LockFile re-checks the inode), so that a failed
  // fill leaves nothing behind.
  auto discard = [&tmp, &lock_path] {
    (void)si::RemoveTree(tmp);
    ::unlink(lock_path.c_str());
  };
  auto filled = fill(tmp);
  if (!filled) {
    discard();
    return Err(std::move(filled).error().AddContext("unpacking layer " + diff_id.ToString()));
  }
  if (*filled != diff_id) {
    discard();
    return Err(Error::Invalid(fmt::format("layer diff ID mismatch: expected {}, got {}",
                                          diff_id.ToString(), filled->ToString())));
  }
  // No fsync of the unpacked files (it would cost as much as the unpack): the tree is marked
  // unsynced with this boot's id before it is published, and a later boot that finds the mark
  // unpacks it again from the verified blob (si::LayerTreeSuspect). gc syncs and clears marks.
  Status published = si::MarkLayerUnsynced(path);
  if (published && ::rename(tmp.c_str(), path.c_str()) != 0) {
    published = Err(Error::FromErrno("rename", tmp));
  }
  if (!published) {
    discard();
    return published;
  }
  ::unlink(lock_path.c_str());  // safe while held: LockFile re-checks the inode
  return si::FsyncDir(parent);
}

// ---- image contents

Result<Manifest> Store::ReadManifest(const ImageRecord& image) const {
  ASSIGN_OR_RETURN(std::string json, ReadBlob(image.manifest_digest, kMaxManifestBytes));
  auto manifest = ParseManifest(json);
  if (!manifest) {
    return Err(
        std::move(manifest).error().AddContext("manifest " + image.manifest_digest.ToString()));
  }
  return manifest;
}

Result<ImageConfig> Store::ReadConfig(const ImageRecord& image) const {
  ASSIGN_OR_RETURN(std::string json, ReadBlob(image.config_digest, kMaxConfigBytes));
  auto config = ParseImageConfig(json);
  if (!config) {
    return Err(
        std::move(config).error().AddContext("image config " + image.config_digest.ToString()));
  }
  return config;
}

Result<std::vector<std::string>> Store::LayerPaths(const ImageRecord& image) const {
  ASSIGN_OR_RETURN(ImageConfig config, ReadConfig(image));
  std::vector<std::string> paths;
  for (const Digest& diff_id : config.diff_ids) {
    if (!HasLayer(diff_id)) {
      return Err(Error::NotFound(fmt::format("layer {} of image {} is not unpacked",
                                             diff_id.ToString(), image.config_digest.Short())));
    }
    paths.push_back(LayerPath(diff_id));
  }
  return paths;
}

}  // namespace comet::image
