// Lock-free reads of an image store (see store_reader.h).
#include "image/store_reader.h"

#include <fcntl.h>

#include <fmt/format.h>

#include "image/store_internal.h"
#include "os/file.h"

namespace comet::image {

Result<std::vector<ImageRecord>> ListImagesUnlocked(const std::string& root) {
  return store_internal::LoadImages(root);
}

Result<std::string> ReadBlobUnlocked(const std::string& root, const Digest& digest, size_t limit) {
  const std::string path = os::JoinPath(root, "blobs/" + digest.algorithm() + "/" + digest.hex());
  auto fd = os::Open(path, O_RDONLY);
  if (!fd) {
    if (fd.error().code() == ENOENT) {
      return Err(Error::NotFound(fmt::format("blob {} not found in the store", digest.ToString())));
    }
    return Err(std::move(fd).error());
  }
  auto data = os::ReadFd(fd->get(), limit);
  if (!data) {
    return Err(std::move(data).error().AddContext("reading blob " + digest.ToString()));
  }
  Hasher hasher(digest.algorithm());
  hasher.Update(*data);
  if (const Digest actual = hasher.Current(); actual != digest) {
    return Err(Error(EIO, fmt::format("blob {} is corrupt: its content has digest {}",
                                      digest.ToString(), actual.ToString())));
  }
  return data;
}

}  // namespace comet::image
