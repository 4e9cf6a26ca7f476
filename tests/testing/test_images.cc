// Test images in OCI layouts, pushed with skopeo: see test_images.h. Not thread-safe.
#include "testing/test_images.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "testing/tar_builder.h"

namespace comet::testing {
namespace {

using nlohmann::json;

constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";

Result<LayoutBlob> WriteBlob(const std::string& layout, std::string_view media_type,
                             std::string_view data) {
  image::Digest digest = image::Digest::Sha256Of(data);
  std::string dir = os::JoinPath(layout, "blobs/sha256");
  RETURN_IF_ERROR(os::MkdirAll(dir));
  RETURN_IF_ERROR(os::WriteFile(os::JoinPath(dir, digest.hex()), data));
  return LayoutBlob{std::string(media_type), digest, static_cast<int64_t>(data.size())};
}

Status EnsureLayout(const std::string& layout) {
  RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(layout, "blobs/sha256")));
  std::string marker = os::JoinPath(layout, "oci-layout");
  if (!os::Exists(marker)) {
    RETURN_IF_ERROR(os::WriteFile(marker, R"({"imageLayoutVersion":"1.0.0"})"));
  }
  std::string index = os::JoinPath(layout, "index.json");
  if (!os::Exists(index)) {
    RETURN_IF_ERROR(os::WriteFile(index, R"({"schemaVersion":2,"manifests":[]})"));
  }
  return Ok();
}

Result<std::string> LayerTar(const TestLayer& layer) {
  if (!layer.dir.empty()) {
    return RunChecked({"tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0",
                       "--numeric-owner", "-C", layer.dir, "-cf", "-", "."});
  }
  TarBuilder tar;
  for (const auto& file : layer.files) {
    TarEntry entry;
    switch (file.kind) {
      case LayerFile::Kind::kFile:
        entry = MakeEntry(file.path, '0', file.content);
        entry.mode = file.mode;
        break;
      case LayerFile::Kind::kDir:
        entry = MakeEntry(file.path, '5');
        entry.mode = file.mode;
        break;
      case LayerFile::Kind::kSymlink:
        entry = MakeEntry(file.path, '2');
        entry.link = file.target;
        break;
    }
    entry.uid = file.uid;
    entry.gid = file.gid;
    tar.Add(entry);
  }
  return tar.Finish();
}

json Descriptor(const LayoutBlob& blob) {
  return {{"mediaType", blob.media_type}, {"digest", blob.digest.ToString()}, {"size", blob.size}};
}

json PlatformJson(const ImageSpec& spec) {
  json platform = {{"os", spec.os}, {"architecture", spec.architecture}};
  if (!spec.variant.empty()) {
    platform["variant"] = spec.variant;
  }
  return platform;
}

std::string Creds(const RegistryServer& server) {
  return server.creds();
}

LayoutCompression LayoutFor(const PushOptions& options) {
  return options.compression == PushCompression::kZstd ? LayoutCompression::kZstd
                                                       : LayoutCompression::kNone;
}

}  // namespace

Result<LayoutBlob> WriteImage(const std::string& layout, const ImageSpec& spec,
                              LayoutCompression compression) {
  RETURN_IF_ERROR(EnsureLayout(layout));
  json layers = json::array();
  json diff_ids = json::array();
  for (const auto& layer : spec.layers) {
    ASSIGN_OR_RETURN(std::string tar, LayerTar(layer));
    diff_ids.push_back(image::Digest::Sha256Of(tar).ToString());
    std::string media_type(kOciLayerTar);
    if (compression == LayoutCompression::kGzip) {
      tar = Gzip(tar);
      media_type += "+gzip";
    } else if (compression == LayoutCompression::kZstd) {
      tar = Zstd(tar);
      media_type += "+zstd";
    }
    ASSIGN_OR_RETURN(LayoutBlob blob, WriteBlob(layout, media_type, tar));
    layers.push_back(Descriptor(blob));
  }
  json config = PlatformJson(spec);
  config["created"] = "2024-01-01T00:00:00Z";
  config["config"] = {{"Cmd", spec.cmd}, {"Env", spec.env}};
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  ASSIGN_OR_RETURN(LayoutBlob config_blob, WriteBlob(layout, kOciConfig, config.dump()));
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", kOciManifest},
                   {"config", Descriptor(config_blob)},
                   {"layers", layers}};
  return WriteBlob(layout, kOciManifest, manifest.dump());
}

Result<LayoutBlob> WriteIndex(const std::string& layout, const std::vector<LayoutBlob>& manifests,
                              const std::vector<ImageSpec>& specs) {
  RETURN_IF_ERROR(EnsureLayout(layout));
  json list = json::array();
  for (size_t i = 0; i < manifests.size(); ++i) {
    json d = Descriptor(manifests[i]);
    if (i < specs.size()) {
      d["platform"] = PlatformJson(specs[i]);
    }
    list.push_back(d);
  }
  json index = {{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", list}};
  return WriteBlob(layout, kOciIndex, index.dump());
}

Status TagInLayout(const std::string& layout, const LayoutBlob& blob, const std::string& tag) {
  RETURN_IF_ERROR(EnsureLayout(layout));
  std::string path = os::JoinPath(layout, "index.json");
  ASSIGN_OR_RETURN(std::string text, os::ReadFile(path));
  json index = json::parse(text, nullptr, false);
  if (index.is_discarded() || !index.contains("manifests")) {
    return Err(Error::Invalid(path + ": not an OCI index"));
  }
  json kept = json::array();
  for (const auto& d : index["manifests"]) {
    if (d.value("annotations", json::object()).value("org.opencontainers.image.ref.name", "") !=
        tag) {
      kept.push_back(d);
    }
  }
  json d = Descriptor(blob);
  d["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
  kept.push_back(d);
  index["manifests"] = kept;
  return os::WriteFile(path, index.dump());
}

Result<image::Digest> PushLayout(const RegistryServer& server, const std::string& layout,
                                 const std::string& tag, const std::string& repo,
                                 const PushOptions& options) {
  ASSIGN_OR_RETURN(os::TempDir tmp, os::TempDir::Create("comet-push-"));
  std::string digest_file = os::JoinPath(tmp.path(), "digest");
  std::vector<std::string> argv = {
      "skopeo", "--insecure-policy",       "copy",         "--quiet",
      "--all",  "--dest-tls-verify=false", "--digestfile", digest_file};
  if (std::string creds = Creds(server); !creds.empty()) {
    argv.insert(argv.end(), {"--dest-creds", creds});
  } else {
    argv.emplace_back("--dest-no-creds");
  }
  bool zstd = options.compression == PushCompression::kZstd;
  if (options.format == PushFormat::kDockerV2S2) {
    if (zstd) {
      return Err(Error::Invalid("Docker schema 2 images cannot have zstd layers"));
    }
    argv.insert(argv.end(), {"--format", "v2s2"});
  }
  if (zstd) {
    argv.emplace_back("--preserve-digests");
  } else {
    argv.insert(argv.end(), {"--dest-compress-format", "gzip"});
  }
  argv.push_back("oci:" + layout + ":" + tag);
  argv.push_back(fmt::format("docker://{}/{}:{}", server.host_port(), repo, tag));
  // A throwaway auth file: skopeo must not read or write the user's.
  RETURN_IF_ERROR(
      RunChecked(argv, {"REGISTRY_AUTH_FILE=" + os::JoinPath(tmp.path(), "auth.json")}));
  ASSIGN_OR_RETURN(std::string text, os::ReadFile(digest_file));
  ASSIGN_OR_RETURN(image::Digest digest, image::Digest::Parse(TrimSpace(text)));
  if (zstd) {
    ASSIGN_OR_RETURN(std::string raw, InspectRaw(server, repo, digest.ToString()));
    bool is_index = raw.find("\"manifests\"") != std::string::npos;
    if (!is_index && raw.find("tar+zstd") == std::string::npos) {
      return Err(Error::Invalid("skopeo pushed no zstd layer: " + raw));
    }
  }
  return digest;
}

Result<image::Digest> PushImage(const RegistryServer& server, const std::string& repo,
                                const std::string& tag, const ImageSpec& spec,
                                const PushOptions& options) {
  ASSIGN_OR_RETURN(os::TempDir tmp, os::TempDir::Create("comet-image-"));
  std::string layout = os::JoinPath(tmp.path(), "layout");
  ASSIGN_OR_RETURN(LayoutBlob manifest, WriteImage(layout, spec, LayoutFor(options)));
  RETURN_IF_ERROR(TagInLayout(layout, manifest, tag));
  return PushLayout(server, layout, tag, repo, options);
}

Result<image::Digest> PushMultiArchImage(const RegistryServer& server, const std::string& repo,
                                         const std::string& tag,
                                         const std::vector<ImageSpec>& specs,
                                         const PushOptions& options) {
  ASSIGN_OR_RETURN(os::TempDir tmp, os::TempDir::Create("comet-image-"));
  std::string layout = os::JoinPath(tmp.path(), "layout");
  std::vector<LayoutBlob> manifests;
  for (const auto& spec : specs) {
    ASSIGN_OR_RETURN(LayoutBlob manifest, WriteImage(layout, spec, LayoutFor(options)));
    manifests.push_back(manifest);
  }
  ASSIGN_OR_RETURN(LayoutBlob index, WriteIndex(layout, manifests, specs));
  RETURN_IF_ERROR(TagInLayout(layout, index, tag));
  return PushLayout(server, layout, tag, repo, options);
}

ImageSpec SmallImageSpec(const std::string& architecture) {
  ImageSpec spec;
  spec.architecture = architecture;
  spec.layers.push_back(TestLayer{
      {
          {"bin", "", 0755, LayerFile::Kind::kDir, ""},
          {"etc", "", 0755, LayerFile::Kind::kDir, ""},
          {"etc/hello", "hello from " + architecture + "\n", 0644, LayerFile::Kind::kFile, ""},
          {"etc/greeting", "", 0777, LayerFile::Kind::kSymlink, "hello"},
      },
      ""});
  return spec;
}

std::string PseudoRandomBytes(size_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (size_t i = 0; i < size; i += 8) {
    x ^= x << 13U;
    x ^= x >> 7U;
    x ^= x << 17U;
    for (size_t j = 0; j < 8 && i + j < size; ++j) {
      out[i + j] = static_cast<char>((x >> (8 * j)) & 0xFFU);
    }
  }
  return out;
}

ImageSpec BigImageSpec(int layers, int megabytes, uint64_t seed) {
  ImageSpec spec;
  for (int i = 0; i < layers; ++i) {
    size_t size = static_cast<size_t>(megabytes) << 20U;
    spec.layers.push_back(TestLayer{{{fmt::format("data/layer{}.bin", i),
                                      PseudoRandomBytes(size, seed + static_cast<uint64_t>(i)),
                                      0644, LayerFile::Kind::kFile, ""}},
                                    ""});
  }
  return spec;
}

Result<std::string> InspectRaw(const RegistryServer& server, const std::string& repo,
                               const std::string& tag_or_digest) {
  std::string sep = tag_or_digest.find(':') != std::string::npos ? "@" : ":";
  std::vector<std::string> argv = {"skopeo", "--insecure-policy", "inspect", "--raw",
                                   "--tls-verify=false"};
  if (std::string creds = Creds(server); !creds.empty()) {
    argv.insert(argv.end(), {"--creds", creds});
  } else {
    argv.emplace_back("--no-creds");
  }
  argv.push_back(fmt::format("docker://{}/{}{}{}", server.host_port(), repo, sep, tag_or_digest));
  ASSIGN_OR_RETURN(os::TempDir tmp, os::TempDir::Create("comet-inspect-"));
  return RunChecked(argv, {"REGISTRY_AUTH_FILE=" + os::JoinPath(tmp.path(), "auth.json")});
}

}  // namespace comet::testing
