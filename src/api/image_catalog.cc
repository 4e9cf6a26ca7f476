// ImageCatalog over an image store (see image_catalog.h), read without the store lock
// (image/store_reader.h). The list of images is kept with the stamps of index.json and images/
// (every change to names or metadata renames a file there) and rebuilt when they change; what
// comes from the content-addressed, immutable blobs (the manifest's bytes and annotations, the
// config's labels) is cached by manifest digest and dropped when the image leaves the store.
#include "api/image_catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>
#include <string_view>

#include <fmt/format.h>

#include "api/appc_manifest.h"
#include "api/file_stamp.h"
#include "api/image_filter.h"
#include "api/image_name.h"
#include "base/log.h"
#include "base/strings.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store_reader.h"
#include "os/file.h"

namespace comet::api {
namespace {

// What an image's blobs say, which never changes for a given manifest digest.
struct ImageBlobs {
  image::ImageConfig config;
  std::map<std::string, std::string> annotations;  // the manifest's
};

void AddKeyValues(google::protobuf::RepeatedPtrField<v1alpha::KeyValue>* out,
                  const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    v1alpha::KeyValue* kv = out->Add();
    kv->set_key(key);
    kv->set_value(value);
  }
}

// Every (image, name) of the store with detail, in index order (the names of an image one after
// the other), and what it was read from.
struct Snapshot {
  FileStamp index;
  FileStamp images_dir;
  std::vector<v1alpha::Image> images;
  bool trusted = false;  // not racy, and every image's blobs could be read
};

class StoreImageCatalog final : public ImageCatalog {
 public:
  explicit StoreImageCatalog(std::string root) : root_(std::move(root)) {}

  Result<std::vector<v1alpha::Image>> List(const ImageFilters& filters, bool detail) override {
    RETURN_IF_ERROR(ValidateImageFilters(filters));
    ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot, Current());
    std::vector<v1alpha::Image> out;
    // One Image per image, as rkt listed one per ACI: clients (the kubelet's image stats) sum
    // `size` over the list. It carries the first of its names a filter matched (the names of an
    // image are adjacent in the snapshot, in index order).
    std::string_view last_id;
    for (const v1alpha::Image& image : snapshot->images) {
      if (image.id() != last_id && ImageMatchesAny(image, filters)) {
        last_id = image.id();
        v1alpha::Image& copy = out.emplace_back(image);
        if (!detail) {
          copy.clear_manifest();
        }
      }
    }
    return out;
  }

  Result<v1alpha::Image> Inspect(std::string_view id) override;

 private:
  // The cached snapshot while index.json and images/ are unchanged, else a fresh one.
  Result<std::shared_ptr<const Snapshot>> Current();
  // Reads the images into `snapshot`; false when some image's blobs could not be read.
  Result<bool> Load(std::vector<v1alpha::Image>& out);
  // The cached blobs of `digest`, read when missing; nullptr when they cannot be read.
  std::shared_ptr<const ImageBlobs> Blobs(const image::Digest& digest);
  // Appends one Image per name of `record`; false when its blobs could not be read.
  bool AddImages(const image::ImageRecord& record, std::vector<v1alpha::Image>& out);

  const std::string root_;
  std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::map<image::Digest, std::shared_ptr<const ImageBlobs>> blobs_;
};

std::shared_ptr<const ImageBlobs> StoreImageCatalog::Blobs(const image::Digest& digest) {
  {
    std::lock_guard lock(mu_);
    if (auto it = blobs_.find(digest); it != blobs_.end()) {
      return it->second;
    }
  }
  auto blobs = std::make_shared<ImageBlobs>();
  auto read = [&]() -> Status {
    ASSIGN_OR_RETURN(const std::string manifest_json,
                     image::ReadBlobUnlocked(root_, digest, image::kMaxManifestBytes));
    ASSIGN_OR_RETURN(image::Manifest manifest, image::ParseManifest(manifest_json));
    blobs->annotations = manifest.annotations;
    ASSIGN_OR_RETURN(std::string config_json, image::ReadBlobUnlocked(root_, manifest.config.digest,
                                                                      image::kMaxConfigBytes));
    ASSIGN_OR_RETURN(blobs->config, image::ParseImageConfig(config_json));
    return Ok();
  };
  if (Status status = read(); !status) {
    // Removed meanwhile, or damaged: listed from its metadata alone, and read again next time.
    log::Debug("api: image {}: {}", digest.ToString(), status.error().ToString());
    return nullptr;
  }
  std::lock_guard lock(mu_);
  blobs_[digest] = blobs;
  return blobs;
}

bool StoreImageCatalog::AddImages(const image::ImageRecord& record,
                                  std::vector<v1alpha::Image>& out) {
  v1alpha::Image base;
  base.mutable_base_format()->set_type(v1alpha::IMAGE_TYPE_OCI);
  base.mutable_base_format()->set_version(kOciFormatVersion);
  base.set_id(record.manifest_digest.ToString());
  base.set_import_timestamp(
      std::chrono::duration_cast<std::chrono::seconds>(record.imported.time_since_epoch()).count());
  base.set_size(record.size);
  std::shared_ptr<const ImageBlobs> blobs = Blobs(record.manifest_digest);
  if (blobs) {
    AddKeyValues(base.mutable_annotations(), blobs->annotations);
    AddKeyValues(base.mutable_labels(), blobs->config.config.labels);
  }
  // As rkt, the manifest is an appc ImageManifest: rkt's clients (the kubelet) decode it.
  if (record.names.empty()) {
    if (blobs) {
      base.set_manifest(AppcImageManifest({}, base.id(), blobs->config, blobs->annotations));
    }
    out.push_back(std::move(base));
    return blobs != nullptr;
  }
  for (const std::string& name : record.names) {
    v1alpha::Image& image = out.emplace_back(base);
    ImageName split = SplitImageName(name);
    if (blobs) {
      image.set_manifest(AppcImageManifest(split, image.id(), blobs->config, blobs->annotations));
      // rkt's images carried their tag as the appc `version` label, and the kubelet finds an
      // image by it (Keywords: repository, Labels: version=tag); an image's own label wins.
      if (!split.version.empty() && !blobs->config.config.labels.contains("version")) {
        AddKeyValues(image.mutable_labels(), {{"version", split.version}});
      }
    }
    image.set_name(std::move(split.name));
    image.set_version(std::move(split.version));
  }
  return blobs != nullptr;
}

Result<std::shared_ptr<const Snapshot>> StoreImageCatalog::Current() {
  FileStamp index = StampOf(os::JoinPath(root_, "index.json"));
  FileStamp images_dir = StampOf(os::JoinPath(root_, "images"));
  {
    std::lock_guard lock(mu_);
    if (snapshot_ && snapshot_->trusted && snapshot_->index == index &&
        snapshot_->images_dir == images_dir) {
      return snapshot_;
    }
  }
  const int64_t started = NowNs();
  auto snapshot = std::make_shared<Snapshot>();
  ASSIGN_OR_RETURN(const bool complete, Load(snapshot->images));
  snapshot->trusted =
      complete && !IsRacy(std::max(index.NewestNs(), images_dir.NewestNs()), started);
  snapshot->index = index;
  snapshot->images_dir = images_dir;
  std::lock_guard lock(mu_);
  snapshot_ = snapshot;
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

Result<bool> StoreImageCatalog::Load(std::vector<v1alpha::Image>& out) {
  const std::string index = os::JoinPath(root_, "index.json");
  struct stat st {};
  if (::stat(index.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return true;  // no store yet (no `comet` command ran here): no images
    }
    // EACCES above all: a service outside the data directory's group must say so, not list
    // nothing.
    return Err(Error::FromErrno("stat", index));
  }
  ASSIGN_OR_RETURN(std::vector<image::ImageRecord> records, image::ListImagesUnlocked(root_));
  bool complete = true;
  for (const image::ImageRecord& record : records) {
    complete = AddImages(record, out) && complete;
  }
  std::lock_guard lock(mu_);
  std::erase_if(blobs_, [&](const auto& item) {
    return std::none_of(records.begin(), records.end(), [&](const image::ImageRecord& record) {
      return record.manifest_digest == item.first;
    });
  });
  return complete;
}

Result<v1alpha::Image> StoreImageCatalog::Inspect(std::string_view id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot, Current());
  const std::vector<v1alpha::Image>& all = snapshot->images;
  auto find = [&](auto pred) { return std::find_if(all.begin(), all.end(), pred); };
  if (auto it = find([&](const v1alpha::Image& image) { return image.id() == id; });
      it != all.end()) {
    return *it;
  }
  // A name as the user wrote it ("busybox") or in its canonical form.
  std::string canonical(id);
  if (auto reference = image::ParseReference(id); reference) {
    canonical = reference->ToString();
  }
  if (auto it = find([&](const v1alpha::Image& image) {
        const std::string full = FullName(image);
        return !image.name().empty() && (full == id || full == canonical);
      });
      it != all.end()) {
    return *it;
  }
  // A unique prefix of the digest, with or without "sha256:".
  std::string_view hex = id;
  if (StartsWith(hex, "sha256:")) {
    hex.remove_prefix(std::string_view("sha256:").size());
  }
  const bool hexish = hex.size() >= 3 && std::all_of(hex.begin(), hex.end(), [](char c) {
                        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                      });
  const v1alpha::Image* match = nullptr;
  for (const v1alpha::Image& image : all) {
    if (!hexish || !StartsWith(image.id(), "sha256:" + std::string(hex))) {
      continue;
    }
    if (match != nullptr && match->id() != image.id()) {
      return Err(Error::Invalid(fmt::format("image id prefix \"{}\" is ambiguous", id)));
    }
    if (match == nullptr) {
      match = &image;
    }
  }
  if (match == nullptr) {
    return Err(Error::NotFound(fmt::format("no image {}", Printable(id, 128))));
  }
  return *match;
}

}  // namespace

Result<std::unique_ptr<ImageCatalog>> ImageCatalog::Open(const std::string& store_root) {
  // Nothing is created: a store that was never initialized has no images until `comet` makes it.
  return std::unique_ptr<ImageCatalog>(std::make_unique<StoreImageCatalog>(store_root));
}

}  // namespace comet::api
