// Helpers for the unpacker's tests: see unpack_test_util.h.
#include "image/unpack_test_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "image/digest.h"
#include "os/file.h"

namespace comet::image::testing {

os::UniqueFd BlobFd(std::string_view data) {
  int fd = memfd_create("blob", MFD_CLOEXEC);
  if (fd < 0) {
    std::abort();
  }
  os::UniqueFd blob(fd);
  if (!os::WriteAll(fd, data) || lseek(fd, 0, SEEK_SET) != 0) {
    std::abort();
  }
  return blob;
}

Sandbox::Sandbox() : root_(os::TempDir::Create("comet-unpack-").value()) {
  if (mkdir(dest().c_str(), 0755) != 0) {
    std::abort();
  }
  if (!os::WriteFile(outside(), "outside\n")) {
    std::abort();
  }
}

UnpackOptions Sandbox::Rootless() {
  UnpackOptions options;
  options.keep_ownership = false;
  options.allow_devices = false;
  options.overlay_xattr_prefix = "user.";
  return options;
}

Result<UnpackStats> Sandbox::Unpack(std::string_view blob, const UnpackOptions& options) const {
  os::UniqueFd fd = BlobFd(blob);
  return UnpackLayer(fd.get(), std::nullopt, dest(), options);
}

std::string Listing(const std::string& dir, bool with_mtimes) {
  namespace fs = std::filesystem;
  std::vector<std::string> lines;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none);
       it != fs::recursive_directory_iterator(); ++it) {
    std::string path = it->path().lexically_relative(dir).string();
    struct stat st {};
    if (lstat(it->path().c_str(), &st) != 0) {
      std::abort();
    }
    // Directory sizes depend on the file system's history, not on what is in them.
    off_t size = S_ISDIR(st.st_mode) ? 0 : st.st_size;
    std::string line = path + " " + std::to_string(st.st_mode) + " " + std::to_string(size);
    if (S_ISLNK(st.st_mode)) {
      line += " -> " + fs::read_symlink(it->path()).string();
    } else if (S_ISREG(st.st_mode)) {
      line += " " + Digest::Sha256Of(os::ReadFile(it->path()).value()).Short();
      line += " links=" + std::to_string(st.st_nlink);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      line += " dev=" + std::to_string(st.st_rdev);
    }
    if (with_mtimes && !S_ISLNK(st.st_mode)) {
      line +=
          " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    }
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) {
    out += line + "\n";
  }
  return out;
}

std::string Sandbox::SnapshotOutside() const {
  std::string all = Listing(root());
  std::string out;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find('\n', pos);
    std::string line = all.substr(pos, end - pos + 1);
    pos = end + 1;
    if (!line.starts_with("dest ") && !line.starts_with("dest/")) {
      out += line;
    }
  }
  return out;
}

}  // namespace comet::image::testing
