// Golden test: two real layers made by GNU tar from a busybox-static tree, unpacked by us and by
// `tar -xf`, must give the same files, types, modes, sizes, contents, links and mtimes.
#include <fcntl.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "image/unpack.h"
#include "image/unpack_test_util.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::image {
namespace {

int Shell(const std::string& script) {
  return std::system(("set -e; " + script).c_str());  // NOLINT(concurrency-mt-unsafe, cert-env33-c)
}

TEST(UnpackGolden, BusyboxLayersMatchGnuTar) {
  if (Shell("test -x /bin/busybox && command -v tar >/dev/null") != 0) {
    GTEST_SKIP() << "needs /bin/busybox and tar";
  }
  os::TempDir work = os::TempDir::Create("comet-golden-").value();
  const std::string& w = work.path();
  // Layer 1: a busybox rootfs (GNU format); layer 2 changes it (PAX format, long names, a
  // hardlink, a setuid file, a read-only directory, mtimes with fractions).
  ASSERT_EQ(Shell("cd " + w +
                  " && mkdir -p l1/bin l1/etc l1/usr/sbin l1/tmp l2/etc l2/deep && "
                  "cp /bin/busybox l1/bin/busybox && "
                  "for a in $(/bin/busybox --list | head -150); do "
                  "ln -s busybox l1/bin/$a 2>/dev/null || true; done && "
                  "ln l1/bin/busybox l1/usr/sbin/hard-busybox && chmod 1777 l1/tmp && "
                  "echo root:x:0:0 > l1/etc/passwd && chmod 0600 l1/etc/passwd && "
                  "ln -s ../nowhere l1/etc/dangling && "
                  "touch -d '2020-01-02 03:04:05.5' l1/etc/passwd && "
                  "echo changed > l2/etc/passwd && install -m 4755 /dev/null l2/etc/suid && "
                  "mkdir -p l2/deep/$(printf 'n%.0s' $(seq 1 120))/x && "
                  "echo long > l2/deep/$(printf 'n%.0s' $(seq 1 120))/x/file && "
                  "ln l2/etc/passwd l2/etc/passwd-link && mkdir -m 0500 l2/ro && "
                  "tar --format=gnu -C l1 -cf layer1.tar . && "
                  "tar --format=pax -C l2 -czf layer2.tar.gz . && "
                  "mkdir ours theirs && "
                  "tar --no-same-owner -p -C theirs -xf layer1.tar && "
                  "tar --no-same-owner -p -C theirs -xzf layer2.tar.gz"),
            0);
  UnpackOptions options = testing::Sandbox::Rootless();
  options.whiteouts = UnpackOptions::Whiteouts::kApply;
  for (const char* layer : {"layer1.tar", "layer2.tar.gz"}) {
    Result<os::UniqueFd> fd = os::Open(w + "/" + layer, O_RDONLY | O_CLOEXEC);
    ASSERT_TRUE(fd);
    Result<UnpackStats> stats = UnpackLayer(fd->get(), std::nullopt, w + "/ours", options);
    ASSERT_TRUE(stats) << stats.error().ToString();
    EXPECT_GT(stats->entries, 0U);
  }
  std::string ours = testing::Listing(w + "/ours", /*with_mtimes=*/true);
  std::string theirs = testing::Listing(w + "/theirs", /*with_mtimes=*/true);
  EXPECT_EQ(ours, theirs);
  EXPECT_NE(ours.find("usr/sbin/hard-busybox"), std::string::npos);
  EXPECT_NE(ours.find("etc/passwd-link"), std::string::npos);
}

}  // namespace
}  // namespace comet::image
