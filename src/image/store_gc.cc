// Mark and sweep: images unused past the grace period and unleased are removed, then blobs and
// layer trees nothing references, dead ingest files, dead temporary leases and orphan metadata.
// Decisions and renames happen under the store lock; deleting layer trees happens after it.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "base/log.h"
#include "image/store.h"
#include "image/store_internal.h"
#include "os/file.h"

namespace comet::image {
namespace si = store_internal;

namespace store_internal {
namespace {

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return names;
  }
  while (struct dirent* entry = ::readdir(d)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  ::closedir(d);
  return names;
}

bool IsDigestHex(std::string_view s) {
  return (s.size() == 64 || s.size() == 128) && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

struct Live {
  std::set<std::string> blobs;   // "alg:hex"
  std::set<std::string> layers;  // diff IDs
};

// A manifest or config blob, verified (gc must not trust a damaged one to say what is live).
template <class T>
Result<T> ReadDocument(const std::string& root, const Digest& digest, size_t limit,
                       Result<T> (*parse)(std::string_view)) {
  const std::string path = os::JoinPath(root, "blobs/" + digest.algorithm() + "/" + digest.hex());
  ASSIGN_OR_RETURN(std::string text, os::ReadFileLimited(path, limit));
  Hasher hasher(digest.algorithm());
  hasher.Update(text);
  if (hasher.Current() != digest) {
    return Err(Error(EIO, "blob " + digest.ToString() + " is corrupt"));
  }
  return parse(text);
}

// What the remaining images and the leases reference. nullopt when an image's manifest or
// config cannot be read: then we cannot know what it needs, and nothing is swept.
std::optional<Live> Mark(const std::string& root, const std::vector<ImageRecord>& images,
                         const std::vector<LeaseInfo>& leases) {
  Live live;
  for (const LeaseInfo& lease : leases) {
    for (const Digest& d : lease.digests) {
      live.blobs.insert(d.ToString());
      live.layers.insert(d.ToString());
    }
  }
  for (const ImageRecord& image : images) {
    live.blobs.insert(image.manifest_digest.ToString());
    live.blobs.insert(image.config_digest.ToString());
    for (const Digest& d : image.repo_digests) {
      live.blobs.insert(d.ToString());
    }
    auto manifest = ReadDocument(root, image.manifest_digest, kMaxManifestBytes, &ParseManifest);
    auto config = ReadDocument(root, image.config_digest, kMaxConfigBytes, &ParseImageConfig);
    if (!manifest || !config) {
      log::Warning("image store gc: not sweeping: image {}: {}", image.manifest_digest.ToString(),
                   (!manifest ? manifest.error() : config.error()).ToString());
      return std::nullopt;
    }
    for (const Descriptor& layer : manifest->layers) {
      live.blobs.insert(layer.digest.ToString());
    }
    for (const Digest& d : config->diff_ids) {
      live.layers.insert(d.ToString());
    }
  }
  return live;
}

void SweepBlobs(const std::string& root, const Live& live, bool dry_run, SweepResult& out) {
  const std::string blobs = os::JoinPath(root, "blobs");
  for (const std::string& algorithm : Entries(blobs)) {
    const std::string dir = os::JoinPath(blobs, algorithm);
    for (const std::string& hex : Entries(dir)) {
      if (!IsDigestHex(hex) || live.blobs.contains(fmt::format("{}:{}", algorithm, hex))) {
        continue;
      }
      // A writer holding the ingest lock is about to use this blob (BeginBlob saw done()).
      const std::string lock_path = os::JoinPath(IngestDir(root), hex + ".lock");
      auto lock = LockFile(lock_path, /*wait=*/false);
      if (!lock) {
        continue;
      }
      const std::string path = os::JoinPath(dir, hex);
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && (dry_run || ::unlink(path.c_str()) == 0)) {
        ++out.blobs;
        out.freed_bytes += static_cast<uint64_t>(st.st_size);
      }
      ::unlink(lock_path.c_str());
    }
  }
}

void SweepLayers(const std::string& root, const Live& live, bool dry_run, SweepResult& out) {
  const std::string layers = os::JoinPath(root, "layers");
  for (const std::string& algorithm : Entries(layers)) {
    if (algorithm == "tmp") {
      continue;
    }
    const std::string dir = os::JoinPath(layers, algorithm);
    for (const std::string& hex : Entries(dir)) {
      if (!IsDigestHex(hex) || live.layers.contains(fmt::format("{}:{}", algorithm, hex))) {
        continue;
      }
      const std::string lock_path = os::JoinPath(dir, hex + ".lock");
      auto lock = LockFile(lock_path, /*wait=*/false);
      if (!lock) {
        continue;  // being filled right now
      }
      const std::string path = os::JoinPath(dir, hex);
      if (dry_run) {
        out.doomed_trees.push_back(path);
      } else {
        // Renamed under the lock (fast); the slow removal happens after it is released.
        const std::string doomed = os::JoinPath(LayersTmpDir(root), "gc-" + RandomHex(8));
        if (::rename(path.c_str(), doomed.c_str()) == 0) {
          out.doomed_trees.push_back(doomed);
        }
      }
      ++out.layers;
      if (!dry_run) {
        ::unlink((path + ".unsynced").c_str());
      }
      ::unlink(lock_path.c_str());
    }
  }
}

}  // namespace

Result<SweepResult> SweepUnreferenced(const std::string& root,
                                      const std::vector<ImageRecord>& images,
                                      const std::vector<LeaseInfo>& leases, bool dry_run) {
  SweepResult out;
  const std::optional<Live> live = Mark(root, images, leases);
  if (!live) {
    return out;
  }
  SweepBlobs(root, *live, dry_run, out);
  SweepLayers(root, *live, dry_run, out);
  if (!dry_run) {
    (void)FsyncDir(os::JoinPath(root, "blobs/sha256"));
    (void)FsyncDir(os::JoinPath(root, "layers/sha256"));
  }
  return out;
}

void RemoveDoomedTrees(SweepResult& sweep, bool dry_run) {
  for (const std::string& tree : sweep.doomed_trees) {
    auto bytes = RemoveTree(tree, !dry_run);
    if (!bytes) {
      log::Warning("image store gc: {}", bytes.error().ToString());
      continue;
    }
    sweep.freed_bytes += *bytes;
  }
}

}  // namespace store_internal

namespace {

// Leftovers of crashed writers: ingest files whose lock is free (never one a live writer
// holds) and older than the grace period, dead layer fills, interrupted gc removals.
void SweepIngest(const std::string& root, int64_t grace, bool dry_run) {
  const std::string ingest = si::IngestDir(root);
  for (const std::string& name : si::Entries(ingest)) {
    const std::string path = os::JoinPath(ingest, name);
    if (name.starts_with("tmp-")) {  // unknown-digest writer: flocks the file itself
      auto fd = os::Open(path, O_RDONLY);
      if (fd && ::flock(fd->get(), LOCK_EX | LOCK_NB) == 0 && si::AgeSeconds(path) >= grace &&
          !dry_run) {
        ::unlink(path.c_str());
      }
      continue;
    }
    const size_t dot = name.find('.');
    const std::string hex = name.substr(0, dot);
    const std::string lock_path = os::JoinPath(ingest, hex + ".lock");
    auto lock = si::LockFile(lock_path, /*wait=*/false);
    if (!lock) {
      continue;  // a live writer
    }
    const std::string partial = os::JoinPath(ingest, hex + ".partial");
    if (si::AgeSeconds(partial) >= grace && !dry_run) {
      ::unlink(partial.c_str());
    }
    if (!os::Exists(partial)) {
      ::unlink(lock_path.c_str());
    }
  }
}

void SweepLayerFills(const std::string& root, bool dry_run, si::SweepResult& sweep) {
  // Lock files of fills that died before removing theirs: free, and no tree beside them.
  for (const char* algorithm : {"sha256", "sha512"}) {
    const std::string dir = os::JoinPath(root, fmt::format("layers/{}", algorithm));
    for (const std::string& name : si::Entries(dir)) {
      if (!name.ends_with(".lock") || dry_run) {
        continue;
      }
      const std::string lock_path = os::JoinPath(dir, name);
      auto lock = si::LockFile(lock_path, /*wait=*/false);
      if (lock && !os::Exists(lock_path.substr(0, lock_path.size() - 5))) {
        ::unlink(lock_path.c_str());
      }
    }
  }
  const std::string tmp = si::LayersTmpDir(root);
  for (const std::string& name : si::Entries(tmp)) {
    const std::string path = os::JoinPath(tmp, name);
    if (!name.starts_with("gc-")) {
      const std::string hex = name.substr(0, name.find('-'));
      const char* algorithm = hex.size() == 128 ? "sha512" : "sha256";
      // EnsureLayer fills only while holding the layer's lock; with it free, the fill is dead.
      const std::string lock_path =
          os::JoinPath(root, fmt::format("layers/{}/{}.lock", algorithm, hex));
      auto lock = si::LockFile(lock_path, /*wait=*/false);
      if (!lock) {
        continue;
      }
      ::unlink(lock_path.c_str());
    }
    if (!dry_run) {
      sweep.doomed_trees.push_back(path);
    }
  }
}

// WriteFileAtomic temp files (writers hold the store lock, as we do) and metadata of images
// index.json does not name (a crash between images/<hex>.json and index.json).
void SweepMetadata(const std::string& root, const std::vector<ImageRecord>& images, bool dry_run) {
  for (const std::string& name : si::Entries(root)) {
    if (name.find(".tmp.") != std::string::npos && !dry_run) {
      ::unlink(os::JoinPath(root, name).c_str());
    }
  }
  std::set<std::string> named;
  for (const ImageRecord& image : images) {
    named.insert(image.manifest_digest.hex() + ".json");
  }
  const std::string dir = si::ImagesDir(root);
  for (const std::string& name : si::Entries(dir)) {
    if (!named.contains(name) && !dry_run) {
      ::unlink(os::JoinPath(dir, name).c_str());
    }
  }
}

}  // namespace

Result<GcReport> Store::GarbageCollect(const GcOptions& options) const {
  GcReport report;
  si::SweepResult sweep;
  {
    ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(root()));
    std::vector<Digest> orphans;
    ASSIGN_OR_RETURN(std::vector<ImageRecord> images, si::LoadImages(root(), &orphans));
    ASSIGN_OR_RETURN(std::vector<si::LeaseInfo> leases, si::ReadLeases(root(), !options.dry_run));
    const auto cutoff = Clock::now() - options.grace_period;
    std::vector<ImageRecord> kept;
    for (ImageRecord& image : images) {
      if (image.last_used < cutoff && si::LeaseHolding(leases, image) == nullptr) {
        report.removed_images.push_back(std::move(image));
      } else {
        kept.push_back(std::move(image));
      }
    }
    if (!options.dry_run && (!report.removed_images.empty() || !orphans.empty())) {
      RETURN_IF_ERROR(si::WriteIndex(root(), kept));
    }
    SweepMetadata(root(), kept, options.dry_run);
    ASSIGN_OR_RETURN(sweep, si::SweepUnreferenced(root(), kept, leases, options.dry_run));
    SweepIngest(root(), options.grace_period.count(), options.dry_run);
    SweepLayerFills(root(), options.dry_run, sweep);
  }
  si::RemoveDoomedTrees(sweep, options.dry_run);
  // Outside the store lock: syncfs may take a while.
  si::SettleLayerMarks(root(), options.dry_run);
  report.removed_blobs = sweep.blobs;
  report.removed_layers = sweep.layers;
  report.freed_bytes = sweep.freed_bytes;
  return report;
}

}  // namespace comet::image
