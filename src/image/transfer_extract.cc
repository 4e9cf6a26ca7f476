// ExtractRootfs: an image's layers applied in order onto one directory (whiteouts applied), for
// `image extract` and `image render`. Thread-compatible; reads the store only.
#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>

#include "image/transfer.h"
#include "os/file.h"

namespace comet::image {

namespace {

// dest must be missing (it is created) or an empty directory.
Result<bool> PrepareDestination(const std::string& dest) {
  struct stat st {};
  if (::lstat(dest.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return Err(Error::FromErrno("stat", dest));
    }
    if (::mkdir(dest.c_str(), 0755) != 0) {
      return Err(Error::FromErrno("mkdir", dest));
    }
    return true;
  }
  if (!S_ISDIR(st.st_mode)) {
    return Err(Error(ENOTDIR, dest + " is not a directory"));
  }
  DIR* dir = ::opendir(dest.c_str());
  if (dir == nullptr) {
    return Err(Error::FromErrno("opendir", dest));
  }
  bool empty = true;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  if (!empty) {
    return Err(Error(ENOTEMPTY, dest + " is not empty"));
  }
  return false;
}

Status ApplyLayers(const Store& store, const Manifest& manifest, const ImageConfig& config,
                   const std::string& dest, const UnpackOptions& options) {
  if (manifest.layers.size() != config.diff_ids.size()) {
    return Err(Error::Invalid("the manifest and the config disagree on the number of layers"));
  }
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const Descriptor& layer = manifest.layers[i];
    ASSIGN_OR_RETURN(Compression compression, LayerCompression(layer.media_type));
    ASSIGN_OR_RETURN(os::UniqueFd fd, store.OpenBlob(layer.digest));
    auto stats = UnpackLayer(fd.get(), compression, dest, options);
    if (!stats) {
      return Err(std::move(stats).error().AddContext("layer " + layer.digest.ToString()));
    }
    if (stats->digests.diff_id != config.diff_ids[i]) {
      return Err(Error::Invalid("layer " + layer.digest.ToString() + " uncompresses to " +
                                stats->digests.diff_id.ToString() +
                                ", but the config's diff_id is " + config.diff_ids[i].ToString()));
    }
  }
  return Ok();
}

}  // namespace

Status ExtractRootfs(const Store& store, const ImageRecord& image, const std::string& dest,
                     const UnpackOptions& options) {
  ASSIGN_OR_RETURN(Manifest manifest, store.ReadManifest(image));
  ASSIGN_OR_RETURN(ImageConfig config, store.ReadConfig(image));
  ASSIGN_OR_RETURN(bool created, PrepareDestination(dest));
  UnpackOptions apply = options;
  apply.whiteouts = UnpackOptions::Whiteouts::kApply;
  Status status = ApplyLayers(store, manifest, config, dest, apply);
  if (!status) {
    // Leave dest as it was: missing, or empty.
    (void)os::RemoveAll(dest);
    if (!created) {
      (void)::mkdir(dest.c_str(), 0755);
    }
    return Err(
        std::move(status).error().AddContext("extracting " + image.manifest_digest.ToString()));
  }
  return Ok();
}

}  // namespace comet::image
