// Image commands: argument handling and output around the image store's library calls.
#include "cli/image_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "cli/data_dir.h"
#include "cli/event_record.h"
#include "cli/image_format.h"
#include "cli/image_pull.h"
#include "cli/progress_bar.h"
#include "cli/rootless_userns.h"
#include "image/layer_trees.h"
#include "image/registry/pull.h"
#include "image/snapshot.h"
#include "image/store.h"
#include "image/transfer.h"
#include "os/file.h"

#ifndef COMET_VERSION
#define COMET_VERSION "unknown"
#endif

namespace comet::cli {
namespace {

using image::ImageRecord;
using image::Store;

Status Print(std::string_view text) {
  RETURN_IF_ERROR_CTX(os::WriteAll(STDOUT_FILENO, text), "writing to stdout");
  return Ok();
}

void Warn(std::string_view text) {
  (void)os::WriteAll(STDERR_FILENO, fmt::format("comet: {}\n", text));
}

Result<Store> OpenStore(const CometInvocation& in) {
  ASSIGN_OR_RETURN(std::string data_dir, DataDir(in.global.dir));
  return OpenImageStore(data_dir, in.global);
}

// image-removed in the event log, named by the image's first name.
void RecordImageRemoved(const Store& store, const ImageRecord& image) {
  std::vector<std::pair<std::string, std::string>> data;
  if (!image.names.empty()) {
    data.emplace_back("name", image.names.front());
  }
  RecordEvent(DataDirOf(store.root()), pod::EventType::kImageRemoved,
              image.manifest_digest.ToString(), std::move(data));
}

Result<image::Platform> PlatformFlag(const std::string& flag) {
  if (flag.empty()) {
    return image::HostPlatform();
  }
  return image::ParsePlatform(flag);
}

std::vector<image::Reference> ParseNames(const Store& store,
                                         const std::vector<std::string>& names) {
  std::vector<image::Reference> out;
  for (const std::string& name : names) {
    auto ref = image::ParseReference(name, store.reference_options());
    if (ref) {
      out.push_back(*ref);
    }
  }
  return out;
}

Status CheckNames(const Store& store, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    RETURN_IF_ERROR_CTX(image::ParseReference(name, store.reference_options()),
                        fmt::format("--name {}", name));
  }
  return Ok();
}

// Which source an argument of `fetch` names: a transport prefix, an existing file that looks
// like one, or else a registry reference.
struct FetchSource {
  bool from_registry = true;
  std::string location;
  image::ArchiveFormat format = image::ArchiveFormat::kDetect;
  std::string select;  // oci:PATH:TAG, oci-archive:PATH:TAG (skopeo's syntax)
};

FetchSource ClassifyFetchArgument(const std::string& argument) {
  static const std::map<std::string, image::ArchiveFormat, std::less<>> kTransports = {
      {"oci:", image::ArchiveFormat::kOciLayout},
      {"oci-archive:", image::ArchiveFormat::kOciLayout},
      {"docker-archive:", image::ArchiveFormat::kDockerArchive},
      {"aci:", image::ArchiveFormat::kAci},
      {"rootfs:", image::ArchiveFormat::kRootfsTarball},
  };
  if (StartsWith(argument, "docker://")) {
    return {true, argument.substr(9), {}, {}};
  }
  for (const auto& [prefix, format] : kTransports) {
    if (!StartsWith(argument, prefix)) {
      continue;
    }
    FetchSource source{false, argument.substr(prefix.size()), format, {}};
    // As skopeo parses it: the path ends at the first ':' (the name may hold more of them).
    const size_t colon = source.location.find(':');
    if (format == image::ArchiveFormat::kOciLayout && colon != std::string::npos) {
      source.select = source.location.substr(colon + 1);
      source.location.resize(colon);
    }
    return source;
  }
  const bool path_like =
      StartsWith(argument, "/") || StartsWith(argument, "./") || StartsWith(argument, "../");
  for (const char* suffix : {".tar", ".tar.gz", ".tgz", ".tar.zst", ".aci"}) {
    const std::string_view s(suffix);
    if (argument.size() > s.size() &&
        argument.compare(argument.size() - s.size(), s.size(), s) == 0 && os::Exists(argument)) {
      return {false, argument, image::ArchiveFormat::kDetect, {}};
    }
  }
  if (path_like && os::Exists(argument)) {
    return {false, argument, image::ArchiveFormat::kDetect, {}};
  }
  return {true, argument, {}, {}};
}

Result<std::vector<ImageRecord>> FetchOne(Store& store, const CometInvocation& in,
                                          const std::string& argument) {
  const FetchSource source = ClassifyFetchArgument(argument);
  ASSIGN_OR_RETURN(image::Platform platform, PlatformFlag(in.image.registry.platform));
  if (!source.from_registry) {
    image::ImportOptions options;
    options.format = source.format;
    options.select = source.select;
    options.names = ParseNames(store, in.image.names);
    options.platform = platform;
    options.unpack_layers = !in.image.registry.no_unpack;
    options.unpack = image::DefaultUnpackOptions();
    auto imported = image::Import(store, source.location, options);
    for (const ImageRecord& image : imported ? *imported : std::vector<ImageRecord>{}) {
      RecordImageImported(store, image);
    }
    return imported;
  }
  ASSIGN_OR_RETURN(image::Reference ref,
                   image::ParseReference(source.location, store.reference_options()));
  ASSIGN_OR_RETURN(ImageRecord pulled, PullImage(store, ref, in.image.registry, in.image.quiet));
  return std::vector<ImageRecord>{std::move(pulled)};
}

Result<int> DoFetch(const CometInvocation& in) {
  ASSIGN_OR_RETURN(Store store, OpenStore(in));
  RETURN_IF_ERROR(CheckNames(store, in.image.names));
  for (const std::string& argument : in.image.images) {
    auto images = FetchOne(store, in, argument);
    if (!images) {
      return Err(std::move(images).error().AddContext(argument));
    }
    for (const ImageRecord& image : *images) {
      RETURN_IF_ERROR(Print(image.config_digest.ToString() + "\n"));
    }
  }
  return 0;
}

Result<int> DoList(const CometInvocation& in) {
  ASSIGN_OR_RETURN(Store store, OpenStore(in));
  ASSIGN_OR_RETURN(std::vector<ImageRecord> images, store.ListImages());
  if (in.image.quiet) {
    RETURN_IF_ERROR(Print(FormatImageIds(images, in.image.no_trunc)));
  } else if (in.image.format == "json") {
    RETURN_IF_ERROR(Print(FormatImageListJson(images)));
  } else {
    RETURN_IF_ERROR(Print(FormatImageTable(images, {.no_trunc = in.image.no_trunc})));
  }
  return 0;
}

Result<int> DoInspect(const CometInvocation& in) {
  ASSIGN_OR_RETURN(Store store, OpenStore(in));
  std::string out = "[\n";
  for (size_t i = 0; i < in.image.images.size(); ++i) {
    ASSIGN_OR_RETURN(ImageRecord image, store.FindImage(in.image.images[i]));
    ASSIGN_OR_RETURN(std::string manifest,
                     store.ReadBlob(image.manifest_digest, image::kMaxManifestBytes));
    ASSIGN_OR_RETURN(std::string config,
                     store.ReadBlob(image.config_digest, image::kMaxConfigBytes));
    std::string one = FormatImageInspectJson(image, manifest, config);
    one.pop_back();  // the newline; the array adds its own separators
    out += one + (i + 1 < in.image.images.size() ? ",\n" : "\n");
  }
  out += "]\n";
  RETURN_IF_ERROR(Print(out));
  return 0;
}

Result<int> DoCatManifest(const CometInvocation& in) {
  ASSIGN_OR_RETURN(Store store, OpenStore(in));
  ASSIGN_OR_RETURN(ImageRecord image, store.FindImage(in.image.images.front()));
  ASSIGN_OR_RETURN(std::string manifest,
                   store.ReadBlob(image.manifest_digest, image::kMaxManifestBytes));
  if (in.image.pretty) {
    const nlohmann::json parsed = nlohmann::json::parse(manifest, nullptr, false);
    if (!parsed.is_discarded()) {
      manifest = parsed.dump(2) + "\n";
    }
  }
  RETURN_IF_ERROR(Print(manifest));
  return 0;
}

Result<int> DoRemove(const CometInvocation& in) {
  ASSIGN_OR_RETURN(Store store, OpenStore(in));
  int exit_code = 0;
  for (const std::string& what : in.image.images) {
    auto image = store.FindImage(what);
    // As docker and podman do: removing one of several names of an image only untags it.
    std::optional<image::Reference> name;
    if (auto ref = image::ParseReference(what, store.reference_options());
        image && ref && !ref->digest && image->names.size() > 1 &&
        std::find(image->names.begin(), image->names.end(), ref->ToString()) !=
            image->names.end()) {
      name = *ref;
    }
    Status removed = !image ? Status(Err(image.error()))
                     : name ? store.Untag(*name)
                            : store.RemoveImage(what);
    if (!removed) {
      Warn(fmt::format("image rm: {}: {}", what, removed.error().ToString()));
      exit_code = 254;
      continue;
    }
    if (!name) {
      RecordImageRemoved(store, *image);
    }
    RETURN_IF_ERROR(Print(name ? "untagged: " + name->ToString() + "\n"
                               : image->config_digest.ToString() + "\n"));
  }
  return exit_code;
}

Result<int> DoGc(const CometInvocation& in) {
  ASSIGN_OR_RETURN(Store store, OpenStore(in));
  image::GcOptions options;
  options.grace_period = std::chrono::duration_cast<std::chrono::seconds>(in.image.grace_period);
  options.dry_run = in.image.dry_run;
  ASSIGN_OR_RETURN(image::GcReport report, store.GarbageCollect(options));
  const char* verb = in.image.dry_run ? "would remove" : "removed";
  std::string out;
  for (const ImageRecord& image : report.removed_images) {
    if (!in.image.dry_run) {
      RecordImageRemoved(store, image);
    }
    out += fmt::format("{} image {} {}\n", verb, image.config_digest.Short(),
                       image.names.empty() ? "<none>" : Join(image.names, ","));
  }
  out += fmt::format("{} {} image(s), {} blob(s), {} layer tree(s), {}\n", verb,
                     report.removed_images.size(), report.removed_blobs, report.removed_layers,
                     HumanSize(report.freed_bytes));
  RETURN_IF_ERROR(Print(out));
  return 0;
}

Result<int> DoTag(const CometInvocation& in) {
  ASSIGN_OR_RETURN(Store store, OpenStore(in));
  ASSIGN_OR_RETURN(image::Reference name,
                   image::ParseReference(in.image.target, store.reference_options()));
  RETURN_IF_ERROR(store.Tag(in.image.images.front(), name));
  return 0;
}

Result<int> DoImport(const CometInvocation& in) {
  ASSIGN_OR_RETURN(Store store, OpenStore(in));
  RETURN_IF_ERROR(CheckNames(store, in.image.names));
  static const std::map<std::string, image::ArchiveFormat, std::less<>> kFormats = {
      {"table", image::ArchiveFormat::kDetect},  // the flag's default (shared with list)
      {"auto", image::ArchiveFormat::kDetect},
      {"oci", image::ArchiveFormat::kOciLayout},
      {"docker-archive", image::ArchiveFormat::kDockerArchive},
      {"aci", image::ArchiveFormat::kAci},
      {"rootfs", image::ArchiveFormat::kRootfsTarball}};
  image::ImportOptions options;
  options.format = kFormats.at(in.image.format);
  options.names = ParseNames(store, in.image.names);
  options.select = in.image.select;
  ASSIGN_OR_RETURN(options.platform, PlatformFlag(in.image.registry.platform));
  options.unpack = image::DefaultUnpackOptions();
  ASSIGN_OR_RETURN(std::vector<ImageRecord> images,
                   image::Import(store, in.image.images.front(), options));
  for (const ImageRecord& image : images) {
    RecordImageImported(store, image);
    RETURN_IF_ERROR(Print(image.config_digest.ToString() + "\n"));
  }
  return 0;
}

// Moves a finished temp output over `target`, replacing it only when asked to.
Status PlaceOutput(const std::string& temp, const std::string& target, bool overwrite) {
  if (os::Exists(target)) {
    if (!overwrite) {
      return Err(Error::FromCode(EEXIST, "writing", target));
    }
    RETURN_IF_ERROR(os::RemoveAll(target));
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    return Err(Error::FromErrno("rename", target));
  }
  return Ok();
}

// A fresh private (0700) directory beside `target` in which an output is built before it is
// renamed into place. Its name is unpredictable and nobody else may write into it, so no other
// user can plant a symlink where we write (a predictable temp name beside the target could be
// pre-created in a world-writable directory such as /tmp).
Result<std::string> PrivateWorkDir(const std::string& target) {
  std::string trimmed = target;
  while (trimmed.size() > 1 && trimmed.back() == '/') {
    trimmed.pop_back();
  }
  const size_t slash = trimmed.rfind('/');
  const std::string parent =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : trimmed.substr(0, slash));
  const std::string base = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  std::string pattern = os::JoinPath(parent, "." + base + ".comet-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Err(Error::FromErrno("mkdtemp", pattern));
  }
  return pattern;
}

Result<int> DoExport(const CometInvocation& in) {
  ASSIGN_OR_RETURN(Store store, OpenStore(in));
  ASSIGN_OR_RETURN(ImageRecord image, store.FindImage(in.image.images.front()));
  if (os::Exists(in.image.target) && !in.image.overwrite) {
    return Err(Error::FromCode(EEXIST, "export", in.image.target).AddContext("use --overwrite"));
  }
  image::ExportOptions options;
  if (in.image.format == "oci-dir") {
    options.format = image::ExportFormat::kOciLayoutDir;
  } else if (in.image.format == "docker-archive") {
    options.format = image::ExportFormat::kDockerArchive;
  }
  ASSIGN_OR_RETURN(const std::string work, PrivateWorkDir(in.image.target));
  const std::string out = os::JoinPath(work, "out");
  Status exported = image::Export(store, image, out, options);
  if (exported) {
    exported = PlaceOutput(out, in.image.target, in.image.overwrite);
  }
  (void)os::RemoveAll(work);
  RETURN_IF_ERROR(exported);
  return 0;
}

// Writes the tree of `image` (extract: from blobs; render: from layer trees) into `dir`.
Status WriteTree(Store& store, const ImageRecord& image, const std::string& rootfs, bool render) {
  const image::UnpackOptions unpack = image::DefaultUnpackOptions();
  if (!render) {
    return image::ExtractRootfs(store, image, rootfs, unpack);
  }
  ASSIGN_OR_RETURN(image::Manifest manifest, store.ReadManifest(image));
  ASSIGN_OR_RETURN(image::ImageConfig config, store.ReadConfig(image));
  RETURN_IF_ERROR(image::EnsureImageLayers(store, manifest, config, unpack));
  ASSIGN_OR_RETURN(std::vector<std::string> layers, store.LayerPaths(image));
  const std::string work = rootfs + ".snapshot";
  image::SnapshotOptions options;
  options.force_copy = true;
  options.rootless = ::geteuid() != 0 || InRootlessUserNamespace();
  auto made = image::CreateSnapshot(layers, work, options);
  if (!made) {
    (void)image::RemoveSnapshot(work);
    return Err(std::move(made).error());
  }
  Status moved = ::rename(os::JoinPath(work, "rootfs").c_str(), rootfs.c_str()) == 0
                     ? Ok()
                     : Status(Err(Error::FromErrno("rename", rootfs)));
  (void)image::RemoveSnapshot(work);
  return moved;
}

Result<int> DoExtractOrRender(const CometInvocation& in, bool render) {
  ASSIGN_OR_RETURN(Store store, OpenStore(in));
  ASSIGN_OR_RETURN(ImageRecord image, store.FindImage(in.image.images.front()));
  const std::string& target = in.image.target;
  if (os::Exists(target) && !in.image.overwrite) {
    return Err(Error::FromCode(EEXIST, render ? "render" : "extract", target)
                   .AddContext("use --overwrite"));
  }
  ASSIGN_OR_RETURN(const std::string work, PrivateWorkDir(target));
  const std::string temp = os::JoinPath(work, "out");
  auto write = [&]() -> Status {
    if (in.image.rootfs_only) {
      return WriteTree(store, image, temp, render);
    }
    RETURN_IF_ERROR(os::MkdirAll(temp, 0755));
    ASSIGN_OR_RETURN(std::string manifest,
                     store.ReadBlob(image.manifest_digest, image::kMaxManifestBytes));
    ASSIGN_OR_RETURN(std::string config,
                     store.ReadBlob(image.config_digest, image::kMaxConfigBytes));
    RETURN_IF_ERROR(os::WriteFile(os::JoinPath(temp, "manifest"), manifest, 0644));
    RETURN_IF_ERROR(os::WriteFile(os::JoinPath(temp, "config"), config, 0644));
    return WriteTree(store, image, os::JoinPath(temp, "rootfs"), render);
  };
  Status written = write();
  if (written) {
    written = PlaceOutput(temp, target, in.image.overwrite);
  }
  (void)os::RemoveAll(work);
  RETURN_IF_ERROR(written);
  return 0;
}

}  // namespace

bool IsImageCommand(const std::string& command) {
  return command == "fetch" || StartsWith(command, "image ");
}

Result<int> RunImageCommand(const CometInvocation& in) {
  const std::string& c = in.command;
  if (c == "fetch") {
    return DoFetch(in);
  }
  if (c == "image list") {
    return DoList(in);
  }
  if (c == "image inspect") {
    return DoInspect(in);
  }
  if (c == "image cat-manifest") {
    return DoCatManifest(in);
  }
  if (c == "image rm") {
    return DoRemove(in);
  }
  if (c == "image gc") {
    return DoGc(in);
  }
  if (c == "image tag") {
    return DoTag(in);
  }
  if (c == "image import") {
    return DoImport(in);
  }
  if (c == "image export") {
    return DoExport(in);
  }
  if (c == "image extract") {
    return DoExtractOrRender(in, false);
  }
  if (c == "image render") {
    return DoExtractOrRender(in, true);
  }
  return Err(Error::Invalid(fmt::format("unknown command {:?}", c)));
}

}  // namespace comet::cli
