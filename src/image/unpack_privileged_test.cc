// Root-only unpacker tests: ownership through id maps, device nodes, trusted.* overlay
// whiteouts, setuid kept across chown and file capabilities.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <string>

#include <gtest/gtest.h>

#include "image/unpack.h"
#include "image/unpack_test_util.h"
#include "testing/in_child.h"
#include "testing/tar_builder.h"

namespace comet::image {
namespace {

using comet::testing::MakeEntry;
using comet::testing::TarBuilder;
using comet::testing::TarEntry;
using testing::Sandbox;

UnpackOptions RootOptions() {
  UnpackOptions options;  // keep ownership, devices, "trusted." prefix
  return options;
}

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}

class UnpackPrivileged : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!comet::testing::IsRoot()) {
      GTEST_SKIP() << "needs root";
    }
  }
};

TEST_F(UnpackPrivileged, OwnershipThroughIdMaps) {
  Sandbox sandbox;
  UnpackOptions options = RootOptions();
  options.uid_map = {{0, 100000, 65536}};
  options.gid_map = {{0, 200000, 65536}};
  TarEntry file = MakeEntry("home/user/file", '0', "x");
  file.uid = 1000;
  file.gid = 1001;
  TarEntry link = MakeEntry("home/user/link", '2');
  link.link = "file";
  link.uid = 7;
  link.gid = 8;
  TarEntry dir = MakeEntry("home/user", '5');
  dir.uid = 1000;
  dir.gid = 1000;
  ASSERT_TRUE(sandbox.Unpack(TarBuilder().Add(dir).Add(file).Add(link).Finish(), options));
  struct stat st = Lstat(sandbox.dest() + "/home/user/file");
  EXPECT_EQ(st.st_uid, 101000U);
  EXPECT_EQ(st.st_gid, 201001U);
  st = Lstat(sandbox.dest() + "/home/user/link");
  EXPECT_EQ(st.st_uid, 100007U);
  EXPECT_EQ(st.st_gid, 200008U);
  EXPECT_EQ(Lstat(sandbox.dest() + "/home/user").st_uid, 101000U);
  // Implied parents belong to the container's root.
  EXPECT_EQ(Lstat(sandbox.dest() + "/home").st_uid, 100000U);
  TarEntry unmapped = MakeEntry("x", '0', "x");
  unmapped.uid = 70000;
  Sandbox other;
  Result<UnpackStats> result = other.Unpack(TarBuilder().Add(unmapped).Finish(), options);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().ToString().find("entry x: uid 70000 is not mapped"), std::string::npos)
      << result.error().ToString();
}

TEST_F(UnpackPrivileged, SetuidSurvivesChown) {
  Sandbox sandbox;
  TarEntry suid = MakeEntry("bin/su", '0', "x");
  suid.mode = 06755;
  suid.uid = 0;
  suid.gid = 42;
  ASSERT_TRUE(sandbox.Unpack(TarBuilder().Add(suid).Finish(), RootOptions()));
  struct stat st = Lstat(sandbox.dest() + "/bin/su");
  EXPECT_EQ(st.st_mode & 07777, 06755U);
  EXPECT_EQ(st.st_gid, 42U);
}

TEST_F(UnpackPrivileged, DevicesCreated) {
  Sandbox sandbox;
  TarEntry null = MakeEntry("dev/null", '3');
  null.dev_major = 1;
  null.dev_minor = 3;
  null.mode = 0666;
  TarEntry loop = MakeEntry("dev/loop0", '4');
  loop.dev_major = 7;
  loop.mode = 0660;
  Result<UnpackStats> stats = sandbox.Unpack(
      TarBuilder().Add(null).Add(loop).Add(MakeEntry("run/fifo", '6')).Finish(), RootOptions());
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->skipped_devices, 0U);
  struct stat st = Lstat(sandbox.dest() + "/dev/null");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666U);
  EXPECT_TRUE(S_ISBLK(Lstat(sandbox.dest() + "/dev/loop0").st_mode));
  EXPECT_TRUE(S_ISFIFO(Lstat(sandbox.dest() + "/run/fifo").st_mode));
}

TEST_F(UnpackPrivileged, TrustedOverlayWhiteoutsAndCapabilities) {
  Sandbox sandbox;
  // A v2 file capability granting cap_net_bind_service (bit 10) permitted.
  std::string cap(
      "\x00\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  TarEntry ping = MakeEntry("bin/ping", '0', "x");
  ping.mode = 0755;
  ping.xattrs = {{"security.capability", cap}, {"trusted.overlay.opaque", "y"}};
  ASSERT_TRUE(sandbox.Unpack(TarBuilder()
                                 .Add(ping)
                                 .Dir("var")
                                 .File("var/.wh..wh..opq", "")
                                 .File("var/.wh.old", "")
                                 .Finish(),
                             RootOptions()));
  char value[64] = {};
  std::string var = sandbox.dest() + "/var";
  EXPECT_EQ(lgetxattr(var.c_str(), "trusted.overlay.opaque", value, sizeof(value)), 1);
  EXPECT_TRUE(S_ISCHR(Lstat(var + "/old").st_mode));
  std::string bin = sandbox.dest() + "/bin/ping";
  EXPECT_EQ(lgetxattr(bin.c_str(), "security.capability", value, sizeof(value)), 20);
  // trusted.* never comes from an archive.
  EXPECT_LT(lgetxattr(bin.c_str(), "trusted.overlay.opaque", value, sizeof(value)), 0);
}

}  // namespace
}  // namespace comet::image
