// Test helpers for snapshot tests: layer trees in overlay format built by hand, and a listing
// of a directory tree (type, mode, owner, mtime, content, xattrs) to compare merged views.
// Test-only; not thread-safe (gtest failures).
#ifndef COMET_IMAGE_SNAPSHOT_TEST_TREES_H_
#define COMET_IMAGE_SNAPSHOT_TEST_TREES_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "os/file.h"

namespace comet::image::testtrees {

// Fails a forked child's body (whose gtest assertions would be lost) with a message on stderr.
inline bool CheckFailed(const char* file, int line, const char* what) {
  (void)std::fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n", file, line, what, errno);
  return true;
}

#define CHILD_CHECK(cond)                                                               \
  do {                                                                                  \
    if (!(cond) && ::comet::image::testtrees::CheckFailed(__FILE__, __LINE__, #cond)) { \
      return 1;                                                                         \
    }                                                                                   \
  } while (false)

// Builds one layer tree; every failure is a gtest failure.
class Tree {
 public:
  explicit Tree(std::string root) : root_(std::move(root)) { Dir(""); }

  [[nodiscard]] const std::string& root() const { return root_; }
  [[nodiscard]] std::string Path(const std::string& rel) const {
    return rel.empty() ? root_ : root_ + "/" + rel;
  }

  Tree& Dir(const std::string& rel, mode_t mode = 0755) {
    EXPECT_TRUE(os::MkdirAll(Path(rel), mode)) << Path(rel);
    EXPECT_EQ(::chmod(Path(rel).c_str(), mode), 0) << Path(rel);
    return *this;
  }
  Tree& File(const std::string& rel, const std::string& content, mode_t mode = 0644) {
    Parent(rel);
    EXPECT_TRUE(os::WriteFile(Path(rel), content, mode)) << Path(rel);
    EXPECT_EQ(::chmod(Path(rel).c_str(), mode), 0) << Path(rel);
    return *this;
  }
  Tree& Symlink(const std::string& rel, const std::string& target) {
    Parent(rel);
    EXPECT_EQ(::symlink(target.c_str(), Path(rel).c_str()), 0) << Path(rel);
    return *this;
  }
  Tree& Hardlink(const std::string& rel, const std::string& existing) {
    Parent(rel);
    EXPECT_EQ(::link(Path(existing).c_str(), Path(rel).c_str()), 0) << Path(rel);
    return *this;
  }
  Tree& Node(const std::string& rel, mode_t mode, dev_t dev) {
    Parent(rel);
    EXPECT_EQ(::mknod(Path(rel).c_str(), mode, dev), 0) << Path(rel);
    return *this;
  }
  Tree& Whiteout(const std::string& rel) { return Node(rel, S_IFCHR | 0, ::makedev(0, 0)); }
  Tree& Opaque(const std::string& rel, const std::string& prefix) {
    Dir(rel);
    std::string name = prefix + "overlay.opaque";
    EXPECT_EQ(::setxattr(Path(rel).c_str(), name.c_str(), "y", 1, 0), 0) << Path(rel);
    return *this;
  }
  Tree& Xattr(const std::string& rel, const std::string& name, const std::string& value) {
    EXPECT_EQ(::lsetxattr(Path(rel).c_str(), name.c_str(), value.data(), value.size(), 0), 0)
        << Path(rel);
    return *this;
  }
  // A file of `size` bytes that holds only `data` at `offset`: the rest is holes.
  Tree& Sparse(const std::string& rel, off_t size, off_t offset, const std::string& data) {
    Parent(rel);
    int fd = ::open(Path(rel).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    EXPECT_GE(fd, 0) << Path(rel);
    EXPECT_EQ(::ftruncate(fd, size), 0) << Path(rel);
    EXPECT_EQ(::pwrite(fd, data.data(), data.size(), offset), static_cast<ssize_t>(data.size()))
        << Path(rel);
    ::close(fd);
    return *this;
  }
  // chown -R (for trees a rootless unpack would have made).
  void ChownAll(uid_t uid, gid_t gid) const { ChownAt(root_, uid, gid); }

 private:
  void Parent(const std::string& rel) const {
    size_t slash = rel.find_last_of('/');
    if (slash != std::string::npos) {
      EXPECT_TRUE(os::MkdirAll(Path(rel.substr(0, slash)), 0755));
    }
  }
  static void ChownAt(const std::string& path, uid_t uid, gid_t gid);
  std::string root_;
};

// path (relative) -> "type mode uid:gid mtime nlink content/target/rdev xattrs", root excluded.
using Listing = std::map<std::string, std::string>;
Listing ListTree(const std::string& root);
// The differences between two listings, one line each ("" when equal).
std::string DiffListings(const Listing& a, const Listing& b);
// Three layers under base/layers exercising whiteouts, opaque directories (with `prefix`:
// "trusted." or "user."), links, a fifo, a device (when `devices`), replacements, and a symlink
// to base/outside that a higher layer replaces by a directory. Lowest first.
std::vector<std::string> StandardLayers(const std::string& base, const std::string& prefix,
                                        bool devices = true);
// Checks the merged view of StandardLayers at `root`; 0 when right (for forked children).
int CheckStandardView(const std::string& root);

std::string Read(const std::string& path);  // "<missing>" when unreadable
bool Missing(const std::string& path);      // lstat says ENOENT

// True when /proc/self/mountinfo lists a mount at or below `path`.
bool MountedBelow(const std::string& path);

}  // namespace comet::image::testtrees

#endif  // COMET_IMAGE_SNAPSHOT_TEST_TREES_H_
