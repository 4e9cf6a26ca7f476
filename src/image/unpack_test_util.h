// Helpers shared by the unpacker's tests: blobs in memfds, a destination inside a sentinel
// directory, and snapshots of what is outside it. Not thread-safe.
#ifndef COMET_IMAGE_UNPACK_TEST_UTIL_H_
#define COMET_IMAGE_UNPACK_TEST_UTIL_H_

#include <string>
#include <string_view>

#include "base/result.h"
#include "image/unpack.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace comet::image::testing {

// An fd (offset 0) holding `data`.
os::UniqueFd BlobFd(std::string_view data);

// A sentinel directory holding dest/ and a file outside.txt beside it.
class Sandbox {
 public:
  Sandbox();
  [[nodiscard]] const std::string& root() const { return root_.path(); }
  [[nodiscard]] std::string dest() const { return root_.path() + "/dest"; }
  [[nodiscard]] std::string outside() const { return root_.path() + "/outside.txt"; }
  // Everything under root() except dest/, with types, modes, sizes, contents and link targets.
  [[nodiscard]] std::string SnapshotOutside() const;
  [[nodiscard]] Result<UnpackStats> Unpack(std::string_view blob,
                                           const UnpackOptions& options = Rootless()) const;
  static UnpackOptions Rootless();

 private:
  os::TempDir root_;
};

// "path type mode size [target|content-hash]" lines for every entry under `dir`, sorted.
std::string Listing(const std::string& dir, bool with_mtimes = false);

}  // namespace comet::image::testing

#endif  // COMET_IMAGE_UNPACK_TEST_UTIL_H_
