// libFuzzer target for layer blobs: decompression with each compression, and unpacking into a
// fresh directory. Nothing may crash, and nothing may appear outside the destination.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "image/unpack.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace {

using comet::image::Compression;

comet::os::UniqueFd Blob(const uint8_t* data, size_t size) {
  comet::os::UniqueFd fd(memfd_create("fuzz", MFD_CLOEXEC));
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (fd.get() < 0 || !comet::os::WriteAll(fd.get(), bytes) || lseek(fd.get(), 0, SEEK_SET) != 0) {
    std::abort();
  }
  return fd;
}

// Entries in `dir`, besides "." and "..".
int CountEntries(const std::string& dir) {
  DIR* stream = opendir(dir.c_str());
  if (stream == nullptr)
    std::abort();
  int count = 0;
  while (dirent* entry = readdir(stream)) {  // NOLINT(concurrency-mt-unsafe): single-threaded
    if (std::string_view(entry->d_name) != "." && std::string_view(entry->d_name) != "..") {
      ++count;
    }
  }
  closedir(stream);
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (auto compression : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    comet::os::UniqueFd fd = Blob(data, size);
    (void)comet::image::Decompress(fd.get(), compression,
                                   [](std::string_view) { return comet::Ok(); });
  }
  // A sentinel directory holding only dest/: after unpacking, it must still hold only dest/.
  static const std::string kBase = comet::os::TempDir::Create("comet-tar-fuzz-").value().Release();
  std::string sentinel = kBase + "/s";
  std::string dest = sentinel + "/dest";
  if (mkdir(sentinel.c_str(), 0700) != 0 || mkdir(dest.c_str(), 0755) != 0)
    std::abort();
  comet::image::UnpackOptions options;
  options.keep_ownership = false;
  options.allow_devices = false;
  options.overlay_xattr_prefix = "user.";
  options.max_uncompressed_bytes = 64 << 20;
  comet::os::UniqueFd fd = Blob(data, size);
  (void)comet::image::UnpackLayer(fd.get(), std::nullopt, dest, options);
  if (CountEntries(sentinel) != 1 || CountEntries(kBase) != 1)
    __builtin_trap();
  if (!comet::os::RemoveAll(sentinel))
    std::abort();
  return 0;
}
