// Import of appc ACIs (rkt's image format: a tar with "manifest" and "rootfs/"), converted to
// an OCI image: the rootfs/ subtree becomes one uncompressed layer (so its digest is its diff
// ID) and the manifest's app section the image config. Thread-compatible.
#include <nlohmann/json.hpp>

#include "base/scope_exit.h"
#include "base/strings.h"
#include "image/transfer_internal.h"

namespace comet::image::transfer {

namespace {

constexpr std::string_view kRootfsPrefix = "rootfs/";
constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

using NameValues = std::vector<std::pair<std::string, std::string>>;

// appc's [{"name": .., "value": ..}] lists (labels, annotations, environment).
Result<NameValues> ParseNameValues(const nlohmann::json& json, std::string_view field) {
  NameValues out;
  if (json.is_null()) {
    return out;
  }
  if (!json.is_array()) {
    return Err(Error::Invalid("aci manifest: " + std::string(field) + ": not an array"));
  }
  for (const nlohmann::json& item : json) {
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
        !item.contains("value") || !item["value"].is_string()) {
      return Err(Error::Invalid("aci manifest: " + std::string(field) +
                                ": entries need string name and value"));
    }
    out.emplace_back(item["name"].get<std::string>(), item["value"].get<std::string>());
  }
  return out;
}

std::string Find(const NameValues& values, std::string_view name) {
  for (const auto& [key, value] : values) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

std::string StringField(const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// appc architecture labels (uname -m style) to OCI platforms.
void SetPlatform(const NameValues& labels, const Platform& fallback, ImageConfig& config) {
  std::string os = Find(labels, "os");
  std::string arch = Find(labels, "arch");
  config.os = os.empty() ? fallback.os : os;
  config.architecture = arch.empty() ? fallback.architecture : arch;
  config.variant = arch.empty() ? fallback.variant : "";
  if (arch == "i386") {
    config.architecture = "386";
  } else if (arch == "aarch64") {
    config.architecture = "arm64";
  } else if (arch == "armv6l" || arch == "armv7l") {
    config.architecture = "arm";
    config.variant = arch.substr(3, 2);
  }
}

struct AciImage {
  std::string name;
  NameValues labels;
  ImageConfig config;
};

Status ParseApp(const nlohmann::json& app, ImageConfig& config) {
  if (app.is_null()) {
    return Ok();
  }
  if (!app.is_object()) {
    return Err(Error::Invalid("aci manifest: app: not an object"));
  }
  if (app.contains("exec")) {
    const nlohmann::json& exec = app["exec"];
    if (!exec.is_array()) {
      return Err(Error::Invalid("aci manifest: app.exec: not an array"));
    }
    for (const nlohmann::json& arg : exec) {
      if (!arg.is_string()) {
        return Err(Error::Invalid("aci manifest: app.exec: not an array of strings"));
      }
      config.config.entrypoint.push_back(arg.get<std::string>());
    }
  }
  std::string user = StringField(app, "user");
  std::string group = StringField(app, "group");
  config.config.user = group.empty() ? user : user + ":" + group;
  config.config.working_dir = StringField(app, "workingDirectory");
  ASSIGN_OR_RETURN(NameValues env,
                   ParseNameValues(app.value("environment", nlohmann::json()), "app.environment"));
  bool has_path = false;
  for (const auto& [name, value] : env) {
    has_path = has_path || name == "PATH";
    config.config.env.push_back(name);
    config.config.env.back().append("=").append(value);
  }
  if (!has_path) {
    config.config.env.insert(config.config.env.begin(), std::string(kDefaultPath));
  }
  nlohmann::json ports = app.value("ports", nlohmann::json());
  if (!ports.is_null() && !ports.is_array()) {
    return Err(Error::Invalid("aci manifest: app.ports: not an array"));
  }
  for (const nlohmann::json& port : ports) {
    if (!port.is_object() || !port.contains("port") || !port["port"].is_number_unsigned() ||
        port["port"].get<uint64_t>() > 65535) {
      return Err(Error::Invalid("aci manifest: app.ports: port must be a number up to 65535"));
    }
    std::string protocol = StringField(port, "protocol");
    config.config.exposed_ports.push_back(std::to_string(port["port"].get<uint64_t>()) + "/" +
                                          (protocol.empty() ? "tcp" : protocol));
  }
  return Ok();
}

Result<AciImage> ParseAciManifest(std::string_view text, const Platform& platform) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Err(Error::Invalid("aci manifest: not a JSON object"));
  }
  if (StringField(json, "acKind") != "ImageManifest") {
    return Err(Error::Invalid("aci manifest: acKind " + JsonQuote(StringField(json, "acKind")) +
                              " is not ImageManifest"));
  }
  nlohmann::json deps = json.value("dependencies", nlohmann::json());
  if (!deps.is_null() && !(deps.is_array() && deps.empty())) {
    return Err(Error::Invalid("ACI dependencies are not supported"));
  }
  AciImage image;
  image.name = StringField(json, "name");
  if (image.name.empty()) {
    return Err(Error::Invalid("aci manifest: name missing"));
  }
  ASSIGN_OR_RETURN(image.labels, ParseNameValues(json.value("labels", nlohmann::json()), "labels"));
  ASSIGN_OR_RETURN(NameValues annotations,
                   ParseNameValues(json.value("annotations", nlohmann::json()), "annotations"));
  ImageConfig& config = image.config;
  SetPlatform(image.labels, platform, config);
  RETURN_IF_ERROR(ParseApp(json.value("app", nlohmann::json()), config));
  config.created = Find(annotations, "created");
  if (config.created.empty()) {
    config.created = FormatRfc3339Nano(Clock::now());
  }
  config.author = Find(annotations, "authors");
  for (const auto& [name, value] : image.labels) {
    config.config.labels[name] = value;
  }
  for (const auto& [name, value] : annotations) {
    config.config.labels.emplace(name, value);
  }
  return image;
}

// Rewrites the rootfs/ subtree of the ACI as a layer tar into `blob`; returns the manifest.
Result<std::string> ConvertRootfs(const std::string& path, BlobWriter& blob, int64_t& size) {
  ASSIGN_OR_RETURN(TarReader reader, TarReader::Open(path));
  ASSIGN_OR_RETURN(TarWriter writer, TarWriter::Open([&](std::string_view chunk) {
                     size += static_cast<int64_t>(chunk.size());
                     return blob.Write(chunk);
                   }));
  std::optional<std::string> manifest;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<TarEntry> entry, reader.Next());
    if (!entry) {
      break;
    }
    const std::string& p = entry->path;
    if (p.empty() || (p == "rootfs" && entry->type == EntryType::kDirectory)) {
      continue;
    }
    if (p == "manifest" && entry->type == EntryType::kFile) {
      auto data = reader.ReadSmall(kMaxManifestBytes);
      if (!data) {
        return Err(std::move(data).error().AddContext("manifest"));
      }
      manifest = std::move(*data);
      continue;
    }
    if (!StartsWith(p, kRootfsPrefix)) {
      return Err(Error::Invalid("entry " + JsonQuote(p) + " is outside rootfs/"));
    }
    std::string hardlink;
    if (entry->type == EntryType::kHardlink) {
      if (!StartsWith(entry->link, kRootfsPrefix)) {
        return Err(Error::Invalid("hardlink " + JsonQuote(p) + " points outside rootfs/"));
      }
      hardlink = entry->link.substr(kRootfsPrefix.size());
    }
    RETURN_IF_ERROR(writer.CopyEntry(reader, *entry, p.substr(kRootfsPrefix.size()), hardlink));
  }
  RETURN_IF_ERROR(writer.Close());
  if (!manifest) {
    return Err(Error::Invalid("no manifest in the ACI"));
  }
  return *manifest;
}

}  // namespace

Result<std::vector<ImageRecord>> ImportAci(ImportContext& ctx, const std::string& path) {
  ASSIGN_OR_RETURN(BlobWriter blob, ctx.store.BeginUnknownBlob());
  ScopeExit discard([&] { blob.Discard(); });
  int64_t size = 0;
  ASSIGN_OR_RETURN(std::string manifest_json, ConvertRootfs(path, blob, size));
  ASSIGN_OR_RETURN(AciImage aci, ParseAciManifest(manifest_json, ctx.options.platform));
  std::vector<Reference> names;
  if (ctx.options.names.empty()) {
    std::string version = Find(aci.labels, "version");
    std::string text = aci.name + ":" + (version.empty() ? "latest" : version);
    auto name = ParseReference(text, ctx.store.reference_options());
    if (!name) {
      return Err(std::move(name).error().AddContext("ACI name " + JsonQuote(text)));
    }
    names.push_back(std::move(*name));
  }
  ASSIGN_OR_RETURN(Digest digest, blob.Commit(&ctx.lease));
  discard.Dismiss();

  aci.config.diff_ids = {digest};
  ASSIGN_OR_RETURN(Descriptor config_desc,
                   PutDocument(ctx, media_type::kOciConfig, SerializeImageConfig(aci.config)));
  Manifest manifest{.schema_version = 2,
                    .media_type = std::string(media_type::kOciManifest),
                    .config = config_desc,
                    .layers = {MakeDescriptor(media_type::kOciLayer, digest, size)},
                    .annotations = {}};
  ASSIGN_OR_RETURN(Descriptor manifest_desc,
                   PutDocument(ctx, media_type::kOciManifest, SerializeManifest(manifest)));
  std::vector<PendingImage> images;
  images.push_back(PendingImage{.manifest_digest = manifest_desc.digest,
                                .manifest = std::move(manifest),
                                .config = std::move(aci.config),
                                .names = std::move(names),
                                .index_digest = std::nullopt,
                                .diff_ids_verified = true});
  return FinishImport(ctx, std::move(images));
}

}  // namespace comet::image::transfer
