// LoadKubeFiles: files, directories of manifests and stdin read into one set of objects; see
// yaml_parse.h.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "kube/yaml_parse.h"
#include "kube/yaml_parse_internal.h"
#include "os/file.h"

namespace comet::kube {
namespace {

bool IsManifestName(std::string_view name) {
  return !name.starts_with('.') &&
         (name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json"));
}

// The manifest files of `dir`, in name order.
Result<std::vector<std::string>> ManifestFiles(const std::string& dir) {
  DIR* stream = ::opendir(dir.c_str());  // O_CLOEXEC in glibc
  if (stream == nullptr) {
    return Err(Error::FromErrno("opening directory", dir));
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(stream)) {  // NOLINT(concurrency-mt-unsafe): own stream
    std::string_view name = entry->d_name;
    if (!IsManifestName(name)) {
      continue;
    }
    if (names.size() == kMaxManifestDirFiles) {
      ::closedir(stream);
      return Err(Error::Invalid(
          fmt::format("{}: more than {} manifest files", dir, kMaxManifestDirFiles)));
    }
    names.emplace_back(name);
  }
  const int read_errno = errno;
  ::closedir(stream);
  if (read_errno != 0) {
    return Err(Error::FromCode(read_errno, "reading directory", dir));
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> files;
  for (const std::string& name : names) {
    std::string path = os::JoinPath(dir, name);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return Err(Error::FromErrno("stat", path));
    }
    if (S_ISREG(st.st_mode)) {  // a directory named x.yaml is not a manifest
      files.push_back(std::move(path));
    }
  }
  return files;
}

// Reads a manifest of at most kMaxManifestBytes, and at most `budget` bytes (what is left of
// kMaxManifestTotalBytes).
Result<std::string> ReadManifest(const std::string& path, size_t budget) {
  const size_t limit = std::min(kMaxManifestBytes, budget);
  Result<std::string> text =
      path == "-" ? os::ReadFd(STDIN_FILENO, limit) : os::ReadFileLimited(path, limit);
  if (!text && text.error().code() == EFBIG) {
    const std::string name = path == "-" ? "stdin" : path;
    if (limit < kMaxManifestBytes) {
      return Err(Error::Invalid(fmt::format("{}: the manifests together are more than {} bytes",
                                            name, kMaxManifestTotalBytes)));
    }
    return Err(Error::Invalid(fmt::format("{}: more than {} bytes", name, limit)));
  }
  return text;
}

}  // namespace

Result<Objects> LoadKubeFiles(const std::vector<std::string>& paths,
                              std::vector<std::string>* warnings) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    struct stat st {};
    if (path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      ASSIGN_OR_RETURN(std::vector<std::string> in_dir, ManifestFiles(path));
      if (in_dir.empty() && warnings != nullptr) {
        warnings->push_back(fmt::format("{}: no *.yaml, *.yml or *.json files", path));
      }
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(path);
    }
  }
  Objects objects;
  yaml::ObjectIndex index;
  size_t total = 0;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(std::string text, ReadManifest(file, kMaxManifestTotalBytes - total));
    total += text.size();
    RETURN_IF_ERROR(
        yaml::ParseStreamInto(text, file == "-" ? "stdin" : file, &index, &objects, warnings));
  }
  return objects;
}

}  // namespace comet::kube
