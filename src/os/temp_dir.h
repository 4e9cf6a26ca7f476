// TempDir: a fresh directory (mkdtemp) removed with its contents when destroyed. Not thread-safe.
#ifndef COMET_OS_TEMP_DIR_H_
#define COMET_OS_TEMP_DIR_H_

#include <string>

#include "base/result.h"

namespace comet::os {

class TempDir {
 public:
  // Creates "<parent>/<prefix>XXXXXX"; parent defaults to $TMPDIR or /tmp.
  [[nodiscard]] static Result<TempDir> Create(const std::string& prefix = "comet-",
                                              const std::string& parent = "");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  [[nodiscard]] const std::string& path() const { return path_; }
  // Keeps the directory on disk; returns its path.
  std::string Release();

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace comet::os

#endif  // COMET_OS_TEMP_DIR_H_
