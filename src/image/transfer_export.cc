// Export of a stored image to an OCI image layout (directory or tar) or a docker archive
// (manifest.json, <config>.json, <diff id>/layer.tar uncompressed). Written beside the target
// under a temporary name and renamed into place at the end, so a failure leaves nothing.
// Thread-compatible; reads the store only.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <set>

#include <nlohmann/json.hpp>

#include "base/scope_exit.h"
#include "image/transfer.h"
#include "image/transfer_internal.h"
#include "os/file.h"

namespace comet::image {

namespace {

using transfer::TarWriter;

constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";
constexpr std::string_view kLayoutMarker = R"({"imageLayoutVersion":"1.0.0"})";

struct ExportedImage {
  std::string manifest_json;
  Manifest manifest;
  ImageConfig config;
  std::vector<std::string> names;
};

std::string BlobName(const Digest& digest) {
  return "blobs/" + digest.algorithm() + "/" + digest.hex();
}

Status StreamBlob(const Store& store, const Digest& digest,
                  const std::function<Status(std::string_view)>& write) {
  ASSIGN_OR_RETURN(os::UniqueFd fd, store.OpenBlob(digest));
  return transfer::CopyFd(fd.get(), write);
}

std::string LayoutIndex(const ExportedImage& image, const ImageRecord& record) {
  Index index;
  index.media_type = std::string(media_type::kOciIndex);
  Descriptor desc = transfer::MakeDescriptor(record.manifest_media_type, record.manifest_digest,
                                             static_cast<int64_t>(image.manifest_json.size()));
  if (!record.platform.os.empty()) {
    desc.platform = record.platform;
  }
  if (image.names.empty()) {
    index.manifests.push_back(desc);
  }
  for (const std::string& name : image.names) {
    Descriptor named = desc;
    named.annotations[std::string(kRefNameAnnotation)] = name;
    named.annotations[std::string(kContainerdNameAnnotation)] = name;
    index.manifests.push_back(std::move(named));
  }
  return SerializeIndex(index);
}

// The blobs of the image, each once: layers, config, manifest.
std::vector<Descriptor> ImageBlobs(const ExportedImage& image, const ImageRecord& record) {
  std::vector<Descriptor> blobs;
  std::set<Digest> seen;
  for (const Descriptor& layer : image.manifest.layers) {
    if (seen.insert(layer.digest).second) {
      blobs.push_back(layer);
    }
  }
  if (seen.insert(image.manifest.config.digest).second) {
    blobs.push_back(image.manifest.config);
  }
  blobs.push_back(transfer::MakeDescriptor(record.manifest_media_type, record.manifest_digest,
                                           static_cast<int64_t>(image.manifest_json.size())));
  return blobs;
}

Status WriteOciTar(const Store& store, const ExportedImage& image, const ImageRecord& record,
                   TarWriter& tar) {
  RETURN_IF_ERROR(tar.AddBytes("oci-layout", kLayoutMarker));
  RETURN_IF_ERROR(tar.AddDirectory("blobs"));
  RETURN_IF_ERROR(tar.AddDirectory("blobs/sha256"));
  for (const Descriptor& blob : ImageBlobs(image, record)) {
    RETURN_IF_ERROR(tar.AddFile(BlobName(blob.digest), blob.size, [&](const auto& write) {
      return StreamBlob(store, blob.digest, write);
    }));
  }
  return tar.AddBytes("index.json", LayoutIndex(image, record));
}

Status WriteOciDir(const Store& store, const ExportedImage& image, const ImageRecord& record,
                   const std::string& dir) {
  RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(dir, "blobs/sha256")));
  RETURN_IF_ERROR(os::WriteFile(os::JoinPath(dir, "oci-layout"), kLayoutMarker));
  for (const Descriptor& blob : ImageBlobs(image, record)) {
    std::string target = os::JoinPath(dir, BlobName(blob.digest));
    ASSIGN_OR_RETURN(os::UniqueFd out,
                     os::Open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    RETURN_IF_ERROR(StreamBlob(store, blob.digest, [&](std::string_view chunk) {
      return os::WriteAll(out.get(), chunk);
    }));
  }
  return os::WriteFile(os::JoinPath(dir, "index.json"), LayoutIndex(image, record));
}

// One layer as docker's uncompressed layer.tar, checked against its diff ID.
Status WriteDockerLayer(const Store& store, const Descriptor& layer, const Digest& diff_id,
                        TarWriter& tar) {
  std::string name = diff_id.hex() + "/layer.tar";
  ASSIGN_OR_RETURN(Compression compression, LayerCompression(layer.media_type));
  auto produce = [&](const std::function<Status(std::string_view)>& write) -> Status {
    ASSIGN_OR_RETURN(os::UniqueFd fd, store.OpenBlob(layer.digest));
    ASSIGN_OR_RETURN(LayerDigests digests, Decompress(fd.get(), compression, write));
    if (digests.diff_id != diff_id) {
      return Err(Error::Invalid("layer " + layer.digest.ToString() + " uncompresses to " +
                                digests.diff_id.ToString() + ", but the config's diff_id is " +
                                diff_id.ToString()));
    }
    return Ok();
  };
  // The tar header needs the size first: a compressed layer is decompressed twice.
  int64_t size = layer.size;
  if (compression != Compression::kNone) {
    size = 0;
    RETURN_IF_ERROR(produce([&](std::string_view chunk) {
      size += static_cast<int64_t>(chunk.size());
      return Ok();
    }));
  }
  RETURN_IF_ERROR(tar.AddDirectory(diff_id.hex()));
  return tar.AddFile(name, size, produce);
}

Status WriteDockerArchive(const Store& store, const ExportedImage& image, TarWriter& tar) {
  const Manifest& manifest = image.manifest;
  if (manifest.layers.size() != image.config.diff_ids.size()) {
    return Err(Error::Invalid("the manifest and the config disagree on the number of layers"));
  }
  nlohmann::json layers = nlohmann::json::array();
  std::set<Digest> written;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const Digest& diff_id = image.config.diff_ids[i];
    if (written.insert(diff_id).second) {
      RETURN_IF_ERROR(WriteDockerLayer(store, manifest.layers[i], diff_id, tar));
    }
    layers.push_back(diff_id.hex() + "/layer.tar");
  }
  std::string config_name = manifest.config.digest.hex() + ".json";
  RETURN_IF_ERROR(tar.AddFile(config_name, manifest.config.size, [&](const auto& write) {
    return StreamBlob(store, manifest.config.digest, write);
  }));
  nlohmann::json tags = nlohmann::json::array();
  nlohmann::json repositories = nlohmann::json::object();
  for (const std::string& name : image.names) {
    auto reference = ParseReference(name, store.reference_options());
    if (!reference) {
      return Err(std::move(reference).error().AddContext("name " + name));
    }
    if (reference->tag.empty()) {
      continue;  // a digest is no RepoTag
    }
    tags.push_back(reference->Name() + ":" + reference->tag);
    if (!image.config.diff_ids.empty()) {
      repositories[reference->Name()][reference->tag] = image.config.diff_ids.back().hex();
    }
  }
  nlohmann::json entry = {{"Config", config_name}, {"RepoTags", tags}, {"Layers", layers}};
  RETURN_IF_ERROR(tar.AddBytes("manifest.json", nlohmann::json::array({entry}).dump()));
  return tar.AddBytes("repositories", repositories.dump());
}

// Runs `write` on a temporary file or directory beside `path`, then renames it to `path`.
Status WriteAtomically(const std::string& path, bool directory,
                       const std::function<Status(const std::string&, int)>& write) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string temp = os::JoinPath(dir, "." + base + ".tmp-XXXXXX");
  os::UniqueFd fd;
  if (directory) {
    if (::mkdtemp(temp.data()) == nullptr) {
      return Err(Error::FromErrno("mkdtemp", temp));
    }
  } else {
    fd.Reset(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd) {
      return Err(Error::FromErrno("mkostemp", temp));
    }
  }
  ScopeExit cleanup([&] { (void)os::RemoveAll(temp); });
  RETURN_IF_ERROR(write(temp, fd.get()));
  if (directory) {
    if (::chmod(temp.c_str(), 0755) != 0) {
      return Err(Error::FromErrno("chmod", temp));
    }
  } else if (::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0) {
    return Err(Error::FromErrno("fsync", temp));
  }
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    return Err(Error::FromErrno("rename", path));
  }
  cleanup.Dismiss();
  return Ok();
}

}  // namespace

Status Export(const Store& store, const ImageRecord& image, const std::string& path,
              const ExportOptions& options) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    return Err(Error(EEXIST, path + " already exists"));
  }
  ASSIGN_OR_RETURN(std::string manifest_json,
                   store.ReadBlob(image.manifest_digest, kMaxManifestBytes));
  ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(manifest_json));
  ASSIGN_OR_RETURN(ImageConfig config, store.ReadConfig(image));
  ExportedImage exported{.manifest_json = std::move(manifest_json),
                         .manifest = std::move(manifest),
                         .config = std::move(config),
                         .names = options.names.empty() ? image.names : options.names};

  Status status;
  if (options.format == ExportFormat::kOciLayoutDir) {
    status = WriteAtomically(path, true, [&](const std::string& temp, int) {
      return WriteOciDir(store, exported, image, temp);
    });
  } else {
    status = WriteAtomically(path, false, [&](const std::string&, int fd) -> Status {
      ASSIGN_OR_RETURN(TarWriter tar, TarWriter::Open([fd](std::string_view chunk) {
                         return os::WriteAll(fd, chunk);
                       }));
      if (options.format == ExportFormat::kOciArchive) {
        RETURN_IF_ERROR(WriteOciTar(store, exported, image, tar));
      } else {
        RETURN_IF_ERROR(WriteDockerArchive(store, exported, tar));
      }
      return tar.Close();
    });
  }
  if (!status) {
    return Err(std::move(status).error().AddContext(
        "exporting " + image.manifest_digest.ToString() + " to " + path));
  }
  return Ok();
}

}  // namespace comet::image
