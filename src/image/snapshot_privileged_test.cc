// Snapshot tests that mount overlayfs (root). Every body that mounts runs in a forked child with
// a private mount namespace (testing::RunInChild), so no mount outlives a test.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "image/snapshot.h"
#include "image/snapshot_internal.h"
#include "image/snapshot_test_trees.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "testing/in_child.h"

namespace comet::image {
namespace {

using testtrees::DiffListings;
using testtrees::Listing;
using testtrees::ListTree;
using testtrees::MountedBelow;
using testtrees::StandardLayers;
using testtrees::Tree;

using testtrees::Missing;
using testtrees::Read;

// Runs `body` in a child with a private mount namespace; the test fails with its output.
void InMountNamespace(const std::function<int()>& body) {
  testing::ChildOutcome outcome = testing::RunInChild([&body] {
    CHILD_CHECK(::unshare(CLONE_NEWNS) == 0);
    CHILD_CHECK(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
    return body();
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root (mounts overlayfs)";
    }
    auto dir = os::TempDir::Create("comet-snapshot-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    base_.emplace(std::move(*dir));
    // Subordinate and unprivileged ids must reach the layers below.
    ASSERT_EQ(::chmod(base_->path().c_str(), 0755), 0);
  }

  std::string At(const std::string& rel) const { return base_->path() + "/" + rel; }

  std::optional<os::TempDir> base_;
};

TEST_F(SnapshotTest, OverlayMergesLayersAndKeepsThemUntouched) {
  std::vector<std::string> layers = StandardLayers(base_->path(), "trusted.");
  std::vector<Listing> before;
  before.reserve(layers.size());
  for (const std::string& layer : layers) {
    before.push_back(ListTree(layer));
  }
  const std::string dir = At("snap");
  InMountNamespace([&] {
    auto kind = CreateSnapshot(layers, dir, {});
    if (!kind) {
      (void)std::fprintf(stderr, "%s\n", kind.error().ToString().c_str());
    }
    CHILD_CHECK(kind && *kind == SnapshotKind::kOverlay);
    CHILD_CHECK(SnapshotKindOf(dir) == SnapshotKind::kOverlay);
    CHILD_CHECK(MountedBelow(dir + "/rootfs"));
    const std::string root = SnapshotRootfs(dir);
    CHILD_CHECK(testtrees::CheckStandardView(root) == 0);
    CHILD_CHECK(Missing(At("outside/pwned")));
    // Writes land in upper/; deletes become whiteouts there.
    CHILD_CHECK(os::WriteFile(root + "/a/new", "fresh"));
    CHILD_CHECK(os::WriteFile(root + "/a/keep", "changed"));
    CHILD_CHECK(::unlink((root + "/a/file1").c_str()) == 0);
    CHILD_CHECK(os::RemoveAll(root + "/dir"));
    CHILD_CHECK(Read(dir + "/upper/a/new") == "fresh");
    CHILD_CHECK(Read(dir + "/upper/a/keep") == "changed");
    CHILD_CHECK(Missing(root + "/a/file1") && Missing(root + "/dir"));
    for (size_t i = 0; i < layers.size(); ++i) {
      std::string diff = DiffListings(before[i], ListTree(layers[i]));
      if (!diff.empty()) {
        (void)std::fprintf(stderr, "layer %zu changed:\n%s", i, diff.c_str());
      }
      CHILD_CHECK(diff.empty());
    }
    CHILD_CHECK(RemoveSnapshot(dir));
    CHILD_CHECK(Missing(dir));
    CHILD_CHECK(!MountedBelow(dir));
    CHILD_CHECK(RemoveSnapshot(dir));
    return 0;
  });
  EXPECT_TRUE(Missing(dir));
}

TEST_F(SnapshotTest, CopyShowsTheSameTreeAsOverlay) {
  std::vector<std::string> layers = StandardLayers(base_->path(), "trusted.");
  InMountNamespace([&] {
    auto overlay = CreateSnapshot(layers, At("overlay"), {});
    SnapshotOptions copy_options;
    copy_options.force_copy = true;
    auto copy = CreateSnapshot(layers, At("copy"), copy_options);
    CHILD_CHECK(overlay && *overlay == SnapshotKind::kOverlay);
    CHILD_CHECK(copy && *copy == SnapshotKind::kCopy);
    CHILD_CHECK(SnapshotKindOf(At("copy")) == SnapshotKind::kCopy);
    CHILD_CHECK(!MountedBelow(At("copy")));
    CHILD_CHECK(testtrees::CheckStandardView(SnapshotRootfs(At("copy"))) == 0);
    CHILD_CHECK(Missing(At("outside/pwned")));
    Listing merged = ListTree(SnapshotRootfs(At("overlay")));
    Listing copied = ListTree(SnapshotRootfs(At("copy")));
    std::string diff = DiffListings(merged, copied);
    if (!diff.empty()) {
      (void)std::fprintf(stderr, "overlay vs copy:\n%s", diff.c_str());
    }
    CHILD_CHECK(diff.empty());
    CHILD_CHECK(merged.count("null") == 1 && merged.count("a/keep2") == 1);
    struct stat one = {};
    struct stat two = {};
    CHILD_CHECK(::stat((SnapshotRootfs(At("copy")) + "/hard1").c_str(), &one) == 0);
    CHILD_CHECK(::stat((SnapshotRootfs(At("copy")) + "/hard2").c_str(), &two) == 0);
    CHILD_CHECK(one.st_ino == two.st_ino);
    CHILD_CHECK(RemoveSnapshot(At("overlay")) && RemoveSnapshot(At("copy")));
    CHILD_CHECK(Missing(At("overlay")) && Missing(At("copy")));
    return 0;
  });
}

// 200 layers with paths long enough that a single mount(2) option string could not hold them.
TEST_F(SnapshotTest, TwoHundredLayers) {
  std::vector<std::string> layers;
  const std::string padding(120, 'p');
  for (int i = 0; i < 200; ++i) {
    Tree layer(At(fmt::format("layers/{}-{}", padding, i)));
    layer.File(fmt::format("f{}", i), std::to_string(i)).File("top", std::to_string(i));
    if (i == 100) {
      layer.Whiteout("f50");
    }
    layers.push_back(layer.root());
  }
  auto check = [](const std::string& root) {
    CHILD_CHECK(Read(root + "/top") == "199");
    CHILD_CHECK(Read(root + "/f0") == "0" && Read(root + "/f199") == "199");
    CHILD_CHECK(Missing(root + "/f50") && Read(root + "/f51") == "51");
    return 0;
  };
  InMountNamespace([&] {
    auto kind = CreateSnapshot(layers, At("snap"), {});
    if (!kind) {
      (void)std::fprintf(stderr, "%s\n", kind.error().ToString().c_str());
    }
    CHILD_CHECK(kind && *kind == SnapshotKind::kOverlay);
    CHILD_CHECK(check(SnapshotRootfs(At("snap"))) == 0);
    CHILD_CHECK(RemoveSnapshot(At("snap")));
    // Both mount strategies, whichever CreateSnapshot picked on this kernel.
    internal::OverlaySpec spec;
    spec.lowers.assign(layers.rbegin(), layers.rend());
    spec.read_only = true;
    spec.target = At("by-fds");
    CHILD_CHECK(os::MkdirAll(spec.target));
    auto by_fds = internal::MountOverlayByFds(spec);
    CHILD_CHECK(by_fds);
    if (*by_fds) {
      CHILD_CHECK(check(spec.target) == 0);
    }
    spec.target = At("by-links");
    CHILD_CHECK(os::MkdirAll(spec.target));
    auto by_links = internal::MountOverlayByLinks(spec, At("l"));
    if (!by_links) {
      (void)std::fprintf(stderr, "%s\n", by_links.error().ToString().c_str());
    }
    CHILD_CHECK(by_links);
    CHILD_CHECK(check(spec.target) == 0);
    CHILD_CHECK(Missing(At("l")));
    SnapshotOptions copy;
    copy.force_copy = true;
    CHILD_CHECK(CreateSnapshot(layers, At("copy"), copy) == SnapshotKind::kCopy);
    CHILD_CHECK(check(SnapshotRootfs(At("copy"))) == 0);
    return 0;
  });
}

// A base layer lies below the image's layers: it adds only names the image lacks (an image's
// file, whiteout or opaque directory wins), mounting over one of its files copies nothing up,
// and a copy goes without it.
TEST_F(SnapshotTest, BaseLayerIsLowestAndNeedsNoCopyUp) {
  Tree base(At("base"));
  base.File("etc/hosts", "").File("etc/hostname", "").File("etc/resolv.conf", "");
  base.File("opaque/stub", "");
  Tree lower(At("lower"));
  lower.Dir("etc", 0750).File("etc/hostname", "image's");
  lower.Whiteout("etc/resolv.conf").Opaque("opaque", "trusted.");
  const std::vector<std::string> layers = {lower.root()};
  InMountNamespace([&] {
    SnapshotOptions options;
    options.base_layer = base.root();
    CHILD_CHECK(CreateSnapshot(layers, At("snap"), options) == SnapshotKind::kOverlay);
    const std::string root = SnapshotRootfs(At("snap"));
    CHILD_CHECK(Read(root + "/etc/hosts").empty());
    CHILD_CHECK(Read(root + "/etc/hostname") == "image's");
    CHILD_CHECK(Missing(root + "/etc/resolv.conf") && Missing(root + "/opaque/stub"));
    struct stat etc {};
    CHILD_CHECK(::stat((root + "/etc").c_str(), &etc) == 0 && (etc.st_mode & 07777) == 0750);
    // A bind mount onto the stub (what the runtime does for /etc/hosts) leaves upper/ empty.
    CHILD_CHECK(::mount(At("lower/etc/hostname").c_str(), (root + "/etc/hosts").c_str(), nullptr,
                        MS_BIND, nullptr) == 0);
    CHILD_CHECK(Read(root + "/etc/hosts") == "image's");
    CHILD_CHECK(ListTree(At("snap/upper")).empty());
    CHILD_CHECK(::umount2((root + "/etc/hosts").c_str(), 0) == 0);
    CHILD_CHECK(RemoveSnapshot(At("snap")));
    CHILD_CHECK(Read(base.Path("etc/hosts")).empty());  // the base layer is untouched
    SnapshotOptions copy = options;
    copy.force_copy = true;
    CHILD_CHECK(CreateSnapshot(layers, At("copy"), copy) == SnapshotKind::kCopy);
    CHILD_CHECK(Missing(SnapshotRootfs(At("copy")) + "/etc/hosts"));
    // A base layer must be a directory, given by an absolute path.
    SnapshotOptions relative;
    relative.base_layer = "base";
    CHILD_CHECK(!CreateSnapshot(layers, At("bad"), relative) && Missing(At("bad")));
    return 0;
  });
}

// A writable overlay snapshot recycled as a spare: the next snapshot takes it (no directories
// made), sees none of the earlier writes and mounts again although the earlier mount was
// volatile; what is not a clean writable overlay is refused or, taken from the pool, dropped.
TEST_F(SnapshotTest, SpareSkeletonsAreReusedClean) {
  Tree layer(At("layers/one"));
  layer.File("etc/hello", "hi");
  const std::vector<std::string> layers = {layer.root()};
  const std::string spares = At("spares");
  InMountNamespace([&] {
    SnapshotOptions options;
    options.ephemeral = true;
    options.spare_dir = spares;
    CHILD_CHECK(CreateSnapshot(layers, At("one"), options) == SnapshotKind::kOverlay);
    const std::string root = SnapshotRootfs(At("one"));
    CHILD_CHECK(os::WriteFile(root + "/written", "secret"));
    CHILD_CHECK(os::MkdirAll(root + "/etc/deep/er"));
    CHILD_CHECK(::unlink((root + "/etc/hello").c_str()) == 0);  // a whiteout in upper/
    // Changes to "/" itself land on upper/: the next pod must not see them either.
    CHILD_CHECK(::chmod(root.c_str(), 0777) == 0 && ::chown(root.c_str(), 123, 456) == 0);
    CHILD_CHECK(::setxattr(root.c_str(), "user.mark", "x", 1, 0) == 0);
    struct stat st {};
    CHILD_CHECK(::stat(At("one/work").c_str(), &st) == 0);
    const ino_t work_inode = st.st_ino;
    CHILD_CHECK(RecycleSnapshot(At("one"), spares, "p1.web"));
    CHILD_CHECK(Missing(At("one")) && !MountedBelow(spares));
    CHILD_CHECK(Missing(spares + "/p1.web/upper"));  // the upper layer is never reused

    CHILD_CHECK(CreateSnapshot(layers, At("two"), options) == SnapshotKind::kOverlay);
    CHILD_CHECK(::stat(At("two/work").c_str(), &st) == 0 && st.st_ino == work_inode);
    CHILD_CHECK(Missing(spares + "/p1.web"));
    const std::string again = SnapshotRootfs(At("two"));
    CHILD_CHECK(Missing(again + "/written") && Missing(again + "/etc/deep"));
    CHILD_CHECK(::stat(again.c_str(), &st) == 0 && (st.st_mode & 07777) == 0755 &&
                st.st_uid == ::geteuid() && st.st_gid == ::getegid());
    char mark[8];
    CHILD_CHECK(::getxattr(again.c_str(), "user.mark", mark, sizeof(mark)) < 0 && errno == ENODATA);
    CHILD_CHECK(Read(again + "/etc/hello") == "hi");
    CHILD_CHECK(os::WriteFile(again + "/new", "x"));
    CHILD_CHECK(Read(At("two/upper/new")) == "x");
    CHILD_CHECK(RemoveSnapshot(At("two")));

    // Refused: a copy, a read-only overlay (no upper layer), a busy mount; each stays whole.
    SnapshotOptions copy;
    copy.force_copy = true;
    CHILD_CHECK(CreateSnapshot(layers, At("copy"), copy) == SnapshotKind::kCopy);
    CHILD_CHECK(!RecycleSnapshot(At("copy"), spares, "c"));
    CHILD_CHECK(Read(At("copy/rootfs/etc/hello")) == "hi");
    SnapshotOptions read_only;
    read_only.read_only = true;
    CHILD_CHECK(CreateSnapshot(layers, At("ro"), read_only) == SnapshotKind::kOverlay);
    CHILD_CHECK(!RecycleSnapshot(At("ro"), spares, "r"));
    CHILD_CHECK(Read(At("ro/rootfs/etc/hello")) == "hi");
    CHILD_CHECK(CreateSnapshot(layers, At("busy"), {}) == SnapshotKind::kOverlay);
    const int held = ::open(At("busy/rootfs/etc/hello").c_str(), O_RDONLY | O_CLOEXEC);
    CHILD_CHECK(held >= 0);
    CHILD_CHECK(!RecycleSnapshot(At("busy"), spares, "b"));
    CHILD_CHECK(Read(At("busy/rootfs/etc/hello")) == "hi");
    ::close(held);
    CHILD_CHECK(ListTree(spares).empty());

    // The pool holds kMaxSpareSnapshots at most (snapshots made anew, not from the pool).
    SnapshotOptions fresh;
    fresh.ephemeral = true;
    for (size_t i = 0; i <= kMaxSpareSnapshots; ++i) {
      const std::string dir = At(fmt::format("many{}", i));
      CHILD_CHECK(CreateSnapshot(layers, dir, fresh) == SnapshotKind::kOverlay);
      Status recycled = RecycleSnapshot(dir, spares, fmt::format("p{}", i));
      CHILD_CHECK(static_cast<bool>(recycled) == (i < kMaxSpareSnapshots));
      CHILD_CHECK(RemoveSnapshot(dir));
    }
    // A spare that is not clean (something in its mount point, an upper layer, a volatile
    // marker, a symlink for work/) is dropped, not used; so is a pool others may write to.
    CHILD_CHECK(os::RemoveAll(spares));
    const std::vector<std::function<bool(const std::string&)>> spoilers = {
        [](const std::string& spare) { return !!os::WriteFile(spare + "/rootfs/planted", "x"); },
        [](const std::string& spare) { return !!os::MkdirAll(spare + "/upper"); },
        [](const std::string& spare) {
          return !!os::MkdirAll(spare + "/work/work/incompat/volatile");
        },
        [&](const std::string& spare) {
          return !!os::RemoveAll(spare + "/work") &&
                 ::symlink(At("layers").c_str(), (spare + "/work").c_str()) == 0;
        }};
    for (const auto& spoil : spoilers) {
      CHILD_CHECK(CreateSnapshot(layers, At("three"), fresh) == SnapshotKind::kOverlay);
      CHILD_CHECK(RecycleSnapshot(At("three"), spares, "p3"));
      CHILD_CHECK(spoil(spares + "/p3"));
      CHILD_CHECK(CreateSnapshot(layers, At("four"), options) == SnapshotKind::kOverlay);
      CHILD_CHECK(Missing(SnapshotRootfs(At("four")) + "/planted") && Missing(spares + "/p3"));
      CHILD_CHECK(ListTree(At("four/upper")).empty());
      CHILD_CHECK(RemoveSnapshot(At("four")));
    }
    CHILD_CHECK(Read(At("layers/one/etc/hello")) == "hi");  // nothing removed through a link
    CHILD_CHECK(CreateSnapshot(layers, At("five"), fresh) == SnapshotKind::kOverlay);
    CHILD_CHECK(RecycleSnapshot(At("five"), spares, "p5"));
    CHILD_CHECK(::chmod(spares.c_str(), 0777) == 0);
    CHILD_CHECK(CreateSnapshot(layers, At("six"), options) == SnapshotKind::kOverlay);
    CHILD_CHECK(os::IsDirectory(spares + "/p5"));  // not taken from an open pool
    CHILD_CHECK(RemoveSnapshot(At("six")));
    return 0;
  });
}

// A snapshot that goes with its pod is mounted "volatile" by either strategy (no sync of the
// upper layer at unmount); writes still land in upper/.
TEST_F(SnapshotTest, EphemeralUpperIsVolatile) {
  Tree layer(At("layers/one"));
  layer.File("a", "1");
  auto mount_options = [](const std::string& target) {
    auto mountinfo = os::ReadFile("/proc/self/mountinfo");
    if (!mountinfo) {
      return std::string();
    }
    size_t at = mountinfo->find(" " + target + " ");
    return at == std::string::npos ? std::string()
                                   : mountinfo->substr(at, mountinfo->find('\n', at) - at);
  };
  InMountNamespace([&] {
    SnapshotOptions ephemeral;
    ephemeral.ephemeral = true;
    CHILD_CHECK(CreateSnapshot({layer.root()}, At("snap"), ephemeral) == SnapshotKind::kOverlay);
    const std::string root = SnapshotRootfs(At("snap"));
    CHILD_CHECK(mount_options(root).find("volatile") != std::string::npos);
    CHILD_CHECK(os::WriteFile(root + "/b", "2"));
    CHILD_CHECK(Read(At("snap/upper/b")) == "2");
    CHILD_CHECK(RemoveSnapshot(At("snap")));
    CHILD_CHECK(CreateSnapshot({layer.root()}, At("kept"), {}) == SnapshotKind::kOverlay);
    CHILD_CHECK(mount_options(SnapshotRootfs(At("kept"))).find("volatile") == std::string::npos);
    CHILD_CHECK(RemoveSnapshot(At("kept")));
    internal::OverlaySpec spec;
    spec.lowers = {layer.root()};
    spec.upper = At("upper");
    spec.work = At("work");
    spec.target = At("by-links");
    spec.volatile_upper = true;
    for (const std::string& dir : {spec.upper, spec.work, spec.target}) {
      CHILD_CHECK(os::MkdirAll(dir));
    }
    CHILD_CHECK(internal::MountOverlayByLinks(spec, At("l")));
    CHILD_CHECK(mount_options(spec.target).find("volatile") != std::string::npos);
    CHILD_CHECK(Read(spec.target + "/a") == "1");
    return 0;
  });
}

TEST_F(SnapshotTest, ZeroLayers) {
  InMountNamespace([&] {
    CHILD_CHECK(CreateSnapshot({}, At("snap"), {}) == SnapshotKind::kOverlay);
    const std::string root = SnapshotRootfs(At("snap"));
    CHILD_CHECK(ListTree(root).empty());
    CHILD_CHECK(os::WriteFile(root + "/x", "x"));
    CHILD_CHECK(Read(At("snap/upper/x")) == "x");
    CHILD_CHECK(RemoveSnapshot(At("snap")));
    SnapshotOptions read_only;
    read_only.read_only = true;
    auto kind = CreateSnapshot({}, At("ro"), read_only);
    if (!kind) {
      (void)std::fprintf(stderr, "%s\n", kind.error().ToString().c_str());
    }
    CHILD_CHECK(kind == SnapshotKind::kOverlay);
    CHILD_CHECK(ListTree(SnapshotRootfs(At("ro"))).empty());
    CHILD_CHECK(RemoveSnapshot(At("ro")));
    return 0;
  });
}

TEST_F(SnapshotTest, ReadOnly) {
  std::vector<std::string> layers = StandardLayers(base_->path(), "trusted.");
  SnapshotOptions options;
  options.read_only = true;
  InMountNamespace([&] {
    CHILD_CHECK(CreateSnapshot(layers, At("snap"), options) == SnapshotKind::kOverlay);
    const std::string root = SnapshotRootfs(At("snap"));
    CHILD_CHECK(testtrees::CheckStandardView(root) == 0);
    CHILD_CHECK(Missing(At("snap/upper")) && Missing(At("snap/work")));
    CHILD_CHECK(::open((root + "/new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 &&
                errno == EROFS);
    CHILD_CHECK(::unlink((root + "/a/keep").c_str()) != 0 && errno == EROFS);
    CHILD_CHECK(RemoveSnapshot(At("snap")));
    // One layer: overlay needs two lowers without an upper on older kernels.
    CHILD_CHECK(CreateSnapshot({layers[0]}, At("one"), options) == SnapshotKind::kOverlay);
    CHILD_CHECK(Read(SnapshotRootfs(At("one")) + "/gone") == "gone");
    CHILD_CHECK(RemoveSnapshot(At("one")));
    return 0;
  });
}

TEST_F(SnapshotTest, RemoveDetachesABusyMount) {
  std::vector<std::string> layers = StandardLayers(base_->path(), "trusted.");
  InMountNamespace([&] {
    CHILD_CHECK(CreateSnapshot(layers, At("snap"), {}) == SnapshotKind::kOverlay);
    int busy =
        ::open((SnapshotRootfs(At("snap")) + "/a").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHILD_CHECK(busy >= 0 && ::fchdir(busy) == 0);  // a cwd inside makes umount EBUSY
    CHILD_CHECK(RemoveSnapshot(At("snap")));
    CHILD_CHECK(Missing(At("snap")) && !MountedBelow(At("snap")));
    CHILD_CHECK(Read(layers[0] + "/a/keep") == "keep");
    ::close(busy);
    return 0;
  });
}

TEST_F(SnapshotTest, RejectsBadArguments) {
  std::vector<std::string> layers = StandardLayers(base_->path(), "trusted.");
  EXPECT_FALSE(CreateSnapshot({"relative/layer"}, At("snap"), {}));
  EXPECT_FALSE(CreateSnapshot({At("no-such-layer")}, At("snap"), {}));
  EXPECT_TRUE(Missing(At("snap")));
  ASSERT_TRUE(os::MkdirAll(At("full")));
  ASSERT_TRUE(os::WriteFile(At("full/file"), "x"));
  EXPECT_FALSE(CreateSnapshot(layers, At("full"), {}));
  EXPECT_EQ(Read(At("full/file")), "x");
  auto kind = SnapshotKindOf(At("nothing"));
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().code(), ENOENT);
  EXPECT_TRUE(RemoveSnapshot(At("nothing")));
}

// The kind marker is a symlink (no data block to free); a regular file holding the word, as
// older versions wrote it, is still read.
TEST_F(SnapshotTest, KindMarkerIsASymlinkAndOlderMarkersAreRead) {
  std::vector<std::string> layers = StandardLayers(base_->path(), "trusted.");
  SnapshotOptions copy;
  copy.force_copy = true;
  ASSERT_TRUE(CreateSnapshot(layers, At("made"), copy));
  struct stat st = {};
  ASSERT_EQ(::lstat(At("made/kind").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_TRUE(SnapshotKindOf(At("made")) == SnapshotKind::kCopy);

  for (const auto& [word, kind] :
       {std::pair{"overlay\n", SnapshotKind::kOverlay}, std::pair{"copy\n", SnapshotKind::kCopy}}) {
    ASSERT_TRUE(os::MkdirAll(At("old")));
    ASSERT_TRUE(os::WriteFile(At("old/kind"), word));
    EXPECT_TRUE(SnapshotKindOf(At("old")) == kind) << word;
    ASSERT_TRUE(os::RemoveAll(At("old")));
  }
  ASSERT_TRUE(os::MkdirAll(At("odd")));
  ASSERT_EQ(::symlink("zfs", At("odd/kind").c_str()), 0);
  auto odd = SnapshotKindOf(At("odd"));
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().code(), EINVAL);
}

constexpr off_t kGiB = off_t{1} << 30;

// What pread returns at `offset` (at most `size` bytes).
std::string ReadAt(const std::string& path, off_t offset, size_t size) {
  std::string out(size, '\0');
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : ::pread(fd, out.data(), size, offset);
  if (fd >= 0) {
    ::close(fd);
  }
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::string Pattern(size_t size, int seed) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[i] = static_cast<char>((i * 7 + static_cast<size_t>(seed)) % 251);
  }
  return out;
}

// Two layers whose top one declares files of gigabytes and a terabyte in a few KiB of data:
// a copy that wrote the holes out would fill the disk. The lower one has ordinary files.
std::vector<std::string> SparseLayers(const std::string& base) {
  Tree(base + "/layers/0").File("normal", Pattern(size_t{300} * 1024, 1)).File("small", "small");
  Tree(base + "/layers/1")
      .Sparse("big", 8 * kGiB, kGiB, Pattern(4096, 2))
      .Sparse("tail", 3 * kGiB + 100, 3 * kGiB, Pattern(100, 3))
      .Sparse("dir/void", 1024 * kGiB, 0, "")
      .Sparse("small", 2 * kGiB, 10, "replaced");
  return {base + "/layers/0", base + "/layers/1"};
}

// Checks a copy of SparseLayers at `root`; 0 when right (for forked children).
int CheckSparseCopy(const std::string& root) {
  auto allocated = [](const std::string& path, off_t size) {
    struct stat st = {};
    return ::stat(path.c_str(), &st) == 0 && st.st_size == size &&
           st.st_blocks * 512 < 1024L * 1024;
  };
  CHILD_CHECK(allocated(root + "/big", 8 * kGiB));
  CHILD_CHECK(ReadAt(root + "/big", kGiB, 4096) == Pattern(4096, 2));
  CHILD_CHECK(ReadAt(root + "/big", kGiB - 4096, 4096) == std::string(4096, '\0'));
  CHILD_CHECK(ReadAt(root + "/big", 8 * kGiB - 10, 100) == std::string(10, '\0'));
  CHILD_CHECK(allocated(root + "/tail", 3 * kGiB + 100));
  CHILD_CHECK(ReadAt(root + "/tail", 3 * kGiB, 200) == Pattern(100, 3));
  CHILD_CHECK(allocated(root + "/dir/void", 1024 * kGiB));
  CHILD_CHECK(ReadAt(root + "/dir/void", 512 * kGiB, 16) == std::string(16, '\0'));
  CHILD_CHECK(allocated(root + "/small", 2 * kGiB));
  CHILD_CHECK(ReadAt(root + "/small", 0, 18) == std::string(10, '\0') + "replaced");
  CHILD_CHECK(Read(root + "/normal") == Pattern(size_t{300} * 1024, 1));
  struct stat st = {};
  CHILD_CHECK(::stat((root + "/normal").c_str(), &st) == 0 && st.st_blocks * 512 >= 300L * 1024);
  return 0;
}

// Layers and copy on one small tmpfs: copy_file_range works there, and a copy that wrote the
// holes out would fail with ENOSPC instead of filling the host's disk.
TEST_F(SnapshotTest, CopyKeepsHolesOfSparseFiles) {
  ASSERT_TRUE(os::MkdirAll(At("small-fs")));
  InMountNamespace([&] {
    CHILD_CHECK(::mount("tmpfs", At("small-fs").c_str(), "tmpfs", 0, "size=64m") == 0);
    std::vector<std::string> layers = SparseLayers(At("small-fs"));
    CHILD_CHECK(!::testing::Test::HasFailure());
    SnapshotOptions options;
    options.force_copy = true;
    auto kind = CreateSnapshot(layers, At("small-fs/copy"), options);
    if (!kind) {
      (void)std::fprintf(stderr, "%s\n", kind.error().ToString().c_str());
    }
    CHILD_CHECK(kind == SnapshotKind::kCopy);
    CHILD_CHECK(CheckSparseCopy(SnapshotRootfs(At("small-fs/copy"))) == 0);
    CHILD_CHECK(RemoveSnapshot(At("small-fs/copy")));
    return 0;
  });
}

// From the host's filesystem onto a small tmpfs, where copy_file_range gives EXDEV and
// read/write copies.
TEST_F(SnapshotTest, CopyKeepsHolesOfSparseFilesAcrossFilesystems) {
  std::vector<std::string> layers = SparseLayers(base_->path());
  ASSERT_TRUE(os::MkdirAll(At("small-fs")));
  InMountNamespace([&] {
    CHILD_CHECK(::mount("tmpfs", At("small-fs").c_str(), "tmpfs", 0, "size=64m") == 0);
    SnapshotOptions options;
    options.force_copy = true;
    auto kind = CreateSnapshot(layers, At("small-fs/copy"), options);
    if (!kind) {
      (void)std::fprintf(stderr, "%s\n", kind.error().ToString().c_str());
    }
    CHILD_CHECK(kind == SnapshotKind::kCopy);
    CHILD_CHECK(CheckSparseCopy(SnapshotRootfs(At("small-fs/copy"))) == 0);
    return 0;
  });
}

// Without the right to mount (an unprivileged user outside any user namespace), the snapshot
// is a copy: ownership and devices are dropped, the rest is the same view.
TEST_F(SnapshotTest, FallsBackToCopyWhenMountIsNotPermitted) {
  // As a rootless unpack makes them: the user's own files, "user." xattrs (an unprivileged
  // process cannot read trusted.* ones).
  std::vector<std::string> layers = StandardLayers(base_->path(), "user.");
  Tree(At("layers")).ChownAll(65534, 65534);
  ASSERT_TRUE(os::MkdirAll(At("nobody")));
  ASSERT_EQ(::chown(At("nobody").c_str(), 65534, 65534), 0);
  InMountNamespace([&] {
    CHILD_CHECK(::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0);
    SnapshotOptions options;
    options.rootless = true;
    auto kind = CreateSnapshot(layers, At("nobody/snap"), options);
    if (!kind) {
      (void)std::fprintf(stderr, "%s\n", kind.error().ToString().c_str());
    }
    CHILD_CHECK(kind == SnapshotKind::kCopy);
    const std::string root = SnapshotRootfs(At("nobody/snap"));
    CHILD_CHECK(Read(root + "/a/file1") == "one-v2" && Missing(root + "/gone"));
    CHILD_CHECK(Missing(root + "/opq/old") && Read(root + "/opq/new") == "new");
    CHILD_CHECK(Missing(root + "/null"));  // no mknod for devices here
    CHILD_CHECK(RemoveSnapshot(At("nobody/snap")));
    CHILD_CHECK(Missing(At("nobody/snap")));
    return 0;
  });
}

}  // namespace
}  // namespace comet::image
