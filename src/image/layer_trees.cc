// Unpacking layer blobs into the store's shared layer trees, once per diff ID (the store's
// EnsureLayer does the locking and the atomic rename). Thread- and process-safe.
#include "image/layer_trees.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <string>
#include <vector>

#include "base/strings.h"
#include "os/file.h"

namespace comet::image {

namespace {

constexpr int kCapSysAdmin = 21;  // linux/capability.h

// The unpack step run by Store::EnsureLayer inside its private directory.
Result<Digest> FillLayer(const Store& store, const Descriptor& layer, const UnpackOptions& options,
                         const std::string& dir) {
  ASSIGN_OR_RETURN(Compression compression, LayerCompression(layer.media_type));
  ASSIGN_OR_RETURN(os::UniqueFd fd, store.OpenBlob(layer.digest));
  ASSIGN_OR_RETURN(UnpackStats stats, UnpackLayer(fd.get(), compression, dir, options));
  if (stats.digests.compressed != layer.digest) {
    return Err(Error::Invalid("layer blob " + layer.digest.ToString() + " read back as " +
                              stats.digests.compressed.ToString()));
  }
  if (stats.digests.compressed_size != static_cast<uint64_t>(layer.size)) {
    return Err(Error::Invalid("layer blob " + layer.digest.ToString() + " has " +
                              std::to_string(stats.digests.compressed_size) +
                              " bytes, its descriptor says " + std::to_string(layer.size)));
  }
  return stats.digests.diff_id;
}

// True when /proc/self/uid_map maps every id to itself: the initial user namespace.
bool InInitialUserNamespace() {
  auto map = os::ReadFileLimited("/proc/self/uid_map", 4096);
  if (!map) {
    return true;  // no user namespaces in this kernel
  }
  std::vector<std::string> fields;
  for (std::string& field : Split(TrimSpace(*map), ' ')) {
    if (!field.empty()) {
      fields.push_back(std::move(field));
    }
  }
  return fields == std::vector<std::string>{"0", "0", "4294967295"};
}

bool HasEffectiveCapability(int cap) {
  auto status = os::ReadFileLimited("/proc/self/status", 64U << 10U);
  if (!status) {
    return false;
  }
  for (const std::string& line : Split(*status, '\n')) {
    if (!StartsWith(line, "CapEff:")) {
      continue;
    }
    std::string hex(TrimSpace(std::string_view(line).substr(7)));
    unsigned long long mask = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), mask, 16);
    if (ec != std::errc() || end != hex.data() + hex.size()) {
      return false;
    }
    return ((mask >> static_cast<unsigned>(cap)) & 1ULL) != 0;
  }
  return false;
}

}  // namespace

Result<bool> EnsureLayerTreeChecked(Store& store, const Descriptor& layer, const Digest& diff_id,
                                    const UnpackOptions& options) {
  bool unpacked = false;
  UnpackOptions overlay = options;
  overlay.whiteouts = UnpackOptions::Whiteouts::kOverlay;
  // store.EnsureLayer names the layer ("unpacking layer <diff_id>") in its errors.
  RETURN_IF_ERROR(store.EnsureLayer(diff_id, [&](const std::string& dir) -> Result<Digest> {
    unpacked = true;
    return FillLayer(store, layer, overlay, dir);
  }));
  return unpacked;
}

Status EnsureLayerTree(Store& store, const Descriptor& layer, const Digest& diff_id,
                       const UnpackOptions& options) {
  RETURN_IF_ERROR(EnsureLayerTreeChecked(store, layer, diff_id, options));
  return Ok();
}

Status EnsureImageLayers(Store& store, const Manifest& manifest, const ImageConfig& config,
                         const UnpackOptions& options) {
  if (manifest.layers.size() != config.diff_ids.size()) {
    return Err(Error::Invalid("the manifest has " + std::to_string(manifest.layers.size()) +
                              " layers but the config has " +
                              std::to_string(config.diff_ids.size()) + " diff_ids"));
  }
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    RETURN_IF_ERROR(EnsureLayerTree(store, manifest.layers[i], config.diff_ids[i], options));
  }
  return Ok();
}

UnpackOptions DefaultUnpackOptions() {
  UnpackOptions options;
  bool root = ::geteuid() == 0;
  if (root && InInitialUserNamespace() && HasEffectiveCapability(kCapSysAdmin)) {
    return options;
  }
  // Rootless: overlay is mounted with userxattr, device nodes cannot be created. As root of a
  // user namespace, chown works for the mapped ids, so ownership is kept when the namespace
  // maps more than our own ids (subordinate ranges): an unmapped id would be EINVAL.
  auto maps_more_than_one_id = [](const char* file) {
    auto map = os::ReadFileLimited(file, 4096);
    uint64_t ids = 0;
    for (const std::string& line : map ? Split(*map, '\n') : std::vector<std::string>{}) {
      std::vector<std::string> fields;
      for (std::string& field : Split(TrimSpace(line), ' ')) {
        if (!field.empty()) {
          fields.push_back(std::move(field));
        }
      }
      auto size = fields.size() == 3 ? ParseUint(fields[2]) : std::nullopt;
      ids += size.value_or(0);
    }
    return ids > 1;
  };
  options.keep_ownership = root && !InInitialUserNamespace() &&
                           maps_more_than_one_id("/proc/self/uid_map") &&
                           maps_more_than_one_id("/proc/self/gid_map");
  options.allow_devices = false;
  options.overlay_xattr_prefix = "user.";
  // Without a mapping, every file would belong to the user: a setuid bit would let any other
  // host user run it as that user. Inside a mapped namespace they belong to subordinate ids.
  options.keep_setid = options.keep_ownership;
  return options;
}

}  // namespace comet::image
