// Layer trees and tree listings for snapshot tests.
#include "image/snapshot_test_trees.h"

#include <dirent.h>

#include <algorithm>

#include "base/strings.h"

namespace comet::image::testtrees {
namespace {

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    ADD_FAILURE() << "opendir " << dir;
    return names;
  }
  while (struct dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe): own DIR*
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Xattrs(const std::string& path) {
  char names[4096];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof(names));
  if (n <= 0) {
    return "";
  }
  std::vector<std::string> list = Split(std::string_view(names, static_cast<size_t>(n)), '\0');
  std::sort(list.begin(), list.end());
  std::string out;
  for (const std::string& name : list) {
    if (name.empty()) {
      continue;
    }
    char value[4096];
    ssize_t size = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof(value));
    out += fmt::format(" {}={}", name, std::string(value, size > 0 ? size : 0));
  }
  return out;
}

void ListInto(const std::string& root, const std::string& rel, Listing* out) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  for (const std::string& name : Names(dir)) {
    std::string child_rel = rel.empty() ? name : os::JoinPath(rel, name);
    std::string path = os::JoinPath(root, child_rel);
    struct stat st = {};
    if (::lstat(path.c_str(), &st) != 0) {
      ADD_FAILURE() << "lstat " << path;
      continue;
    }
    std::string what = fmt::format("{:o} {}:{} mtime={}.{:09}", st.st_mode, st.st_uid, st.st_gid,
                                   st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode)) {
      auto content = os::ReadFile(path);
      what += fmt::format(" nlink={} content={:?}", st.st_nlink, content ? *content : "?");
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlink(path.c_str(), target, sizeof(target));
      what += fmt::format(" target={:?}", std::string(target, n > 0 ? n : 0));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      what += fmt::format(" rdev={}:{}", ::major(st.st_rdev), ::minor(st.st_rdev));
    }
    if (!S_ISLNK(st.st_mode)) {
      what += Xattrs(path);
    }
    (*out)[child_rel] = what;
    if (S_ISDIR(st.st_mode)) {
      ListInto(root, child_rel, out);
    }
  }
}

}  // namespace

void Tree::ChownAt(const std::string& path, uid_t uid, gid_t gid) {
  struct stat st = {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
  EXPECT_EQ(::lchown(path.c_str(), uid, gid), 0) << path;
  if (!S_ISLNK(st.st_mode)) {  // chown cleared the set-id bits
    EXPECT_EQ(::chmod(path.c_str(), st.st_mode & 07777), 0) << path;
  }
  if (S_ISDIR(st.st_mode)) {
    for (const std::string& name : Names(path)) {
      ChownAt(os::JoinPath(path, name), uid, gid);
    }
  }
}

Listing ListTree(const std::string& root) {
  Listing out;
  ListInto(root, "", &out);
  return out;
}

std::string DiffListings(const Listing& a, const Listing& b) {
  std::string diff;
  for (const auto& [path, what] : a) {
    auto it = b.find(path);
    if (it == b.end()) {
      diff += fmt::format("only in first: {} {}\n", path, what);
    } else if (it->second != what) {
      diff += fmt::format("differs: {}\n  {}\n  {}\n", path, what, it->second);
    }
  }
  for (const auto& [path, what] : b) {
    if (a.find(path) == a.end()) {
      diff += fmt::format("only in second: {} {}\n", path, what);
    }
  }
  return diff;
}

std::vector<std::string> StandardLayers(const std::string& base, const std::string& prefix,
                                        bool devices) {
  Tree l0(base + "/layers/0");
  l0.File("a/file1", "one").File("a/keep", "keep").File("dir/sub/x", "x");
  l0.File("gone", "gone").File("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0600);
  l0.Symlink("link", "a/file1").File("hard1", "linked").Hardlink("hard2", "hard1");
  l0.File("opq/old", "old").File("suid", "s", 04755).Dir("private", 0700);
  l0.Symlink("escape", base + "/outside").Xattr("a/keep", "user.comment", "hello");
  l0.Node("fifo", S_IFIFO | 0640, 0);
  if (devices) {
    l0.Node("null", S_IFCHR | 0666, ::makedev(1, 3));
  }
  Tree l1(base + "/layers/1");
  l1.Whiteout("gone").Opaque("opq", prefix).File("opq/new", "new");
  l1.File("a/file1", "one-v2").File("dir/sub2/y", "y").File("escape/pwned", "in rootfs");
  Tree l2(base + "/layers/2");
  l2.Whiteout("dir/sub").File("a/added", "added").Symlink("a/keep2", "/a/keep");
  EXPECT_TRUE(os::MkdirAll(base + "/outside"));
  return {l0.root(), l1.root(), l2.root()};
}

int CheckStandardView(const std::string& root) {
  CHILD_CHECK(Read(root + "/a/file1") == "one-v2");
  CHILD_CHECK(Read(root + "/a/keep") == "keep");
  CHILD_CHECK(Read(root + "/a/added") == "added");
  CHILD_CHECK(Missing(root + "/gone"));
  CHILD_CHECK(Missing(root + "/dir/sub"));
  CHILD_CHECK(Read(root + "/dir/sub2/y") == "y");
  CHILD_CHECK(Read(root + "/opq/new") == "new");
  CHILD_CHECK(Missing(root + "/opq/old"));
  CHILD_CHECK(Read(root + "/escape/pwned") == "in rootfs");
  char target[64] = {};
  CHILD_CHECK(::readlink((root + "/link").c_str(), target, sizeof(target) - 1) > 0 &&
              std::string(target) == "a/file1");
  struct stat st = {};
  CHILD_CHECK(::stat((root + "/suid").c_str(), &st) == 0 && (st.st_mode & 07777) == 04755);
  CHILD_CHECK(::lstat((root + "/fifo").c_str(), &st) == 0 && S_ISFIFO(st.st_mode));
  CHILD_CHECK(Read(root + "/hard2") == "linked");
  return 0;
}

std::string Read(const std::string& path) {
  auto content = os::ReadFile(path);
  return content ? *content : "<missing>";
}

bool Missing(const std::string& path) {
  struct stat st = {};
  return ::lstat(path.c_str(), &st) != 0 && errno == ENOENT;
}

bool MountedBelow(const std::string& path) {
  auto mountinfo = os::ReadFile("/proc/self/mountinfo");
  if (!mountinfo) {
    return true;
  }
  for (const std::string& line : Split(*mountinfo, '\n')) {
    std::vector<std::string> fields = Split(line, ' ');
    if (fields.size() > 4 && StartsWith(fields[4], path)) {
      return true;
    }
  }
  return false;
}

}  // namespace comet::image::testtrees
