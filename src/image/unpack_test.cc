// Functional tests of the layer unpacker and of decompression (rootless options; the root-only
// cases are in unpack_privileged_test.cc).
#include "image/unpack.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "image/digest.h"
#include "image/unpack_test_util.h"
#include "os/file.h"
#include "testing/tar_builder.h"

namespace comet::image {
namespace {

using comet::testing::Gzip;
using comet::testing::MakeEntry;
using comet::testing::TarBuilder;
using comet::testing::TarEntry;
using comet::testing::Zstd;
using testing::BlobFd;
using testing::Sandbox;

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}

std::string SampleTar() {
  return TarBuilder()
      .Dir("etc")
      .File("etc/hostname", "box\n")
      .File("bin/tool", std::string(3 << 20, 'z'), 0755)
      .Symlink("bin/sh", "/bin/busybox")
      .Finish();
}

TEST(Decompress, AllCompressionsGiveTheSameTarAndDigests) {
  std::string tar = SampleTar();
  for (const std::string& blob : {tar, Gzip(tar), Zstd(tar)}) {
    for (std::optional<Compression> compression : {std::optional<Compression>()}) {
      os::UniqueFd fd = BlobFd(blob);
      std::string out;
      Result<LayerDigests> digests = Decompress(fd.get(), compression, [&](std::string_view b) {
        out.append(b);
        return Ok();
      });
      ASSERT_TRUE(digests) << digests.error().ToString();
      EXPECT_EQ(out, tar);
      EXPECT_EQ(digests->diff_id, Digest::Sha256Of(tar));
      EXPECT_EQ(digests->uncompressed_size, tar.size());
      EXPECT_EQ(digests->compressed, Digest::Sha256Of(blob));
      EXPECT_EQ(digests->compressed_size, blob.size());
      os::UniqueFd again = BlobFd(blob);
      Result<LayerDigests> only = DigestLayer(again.get(), std::nullopt);
      ASSERT_TRUE(only);
      EXPECT_EQ(only->diff_id, digests->diff_id);
    }
  }
}

TEST(Decompress, MultiMemberGzipAndConcatenatedZstd) {
  std::string a = std::string(100000, 'a');
  std::string b = "second member";
  for (const std::string& blob : {Gzip(a) + Gzip("") + Gzip(b), Zstd(a) + Zstd(b)}) {
    os::UniqueFd fd = BlobFd(blob);
    std::string out;
    ASSERT_TRUE(Decompress(fd.get(), std::nullopt, [&](std::string_view chunk) {
      out.append(chunk);
      return Ok();
    }));
    EXPECT_EQ(out, a + b);
  }
}

TEST(Decompress, Errors) {
  struct Case {
    std::string blob;
    std::optional<Compression> compression;
    std::string message;
  };
  std::string gz = Gzip(std::string(50000, 'q'));
  const Case cases[] = {
      {gz + "garbage", std::nullopt, "corrupt gzip stream: data after the last member"},
      {gz.substr(0, 30), std::nullopt, "truncated gzip stream"},
      {"", Compression::kGzip, "truncated gzip stream"},
      {"not gzip at all", Compression::kGzip, "corrupt gzip stream"},
      {"", Compression::kZstd, "truncated zstd stream"},
      {"not zstd at all", Compression::kZstd, "corrupt zstd stream"},
      {Zstd("abc") + "x", std::nullopt, "zstd stream"},
  };
  for (const Case& c : cases) {
    os::UniqueFd fd = BlobFd(c.blob);
    Result<LayerDigests> result =
        Decompress(fd.get(), c.compression, [](std::string_view) { return Ok(); });
    ASSERT_FALSE(result) << c.message;
    EXPECT_NE(result.error().ToString().find(c.message), std::string::npos)
        << result.error().ToString();
  }
}

TEST(Decompress, SinkErrorStops) {
  os::UniqueFd fd = BlobFd(Gzip("data"));
  Result<LayerDigests> result = Decompress(fd.get(), std::nullopt, [](std::string_view) {
    return Status(Err(Error::Invalid("sink says no")));
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "sink says no");
}

TEST(Unpack, SampleTreeAndDigestsCoverTrailingData) {
  Sandbox sandbox;
  std::string tar = SampleTar() + std::string(10240, '\0') + "trailing junk after the end";
  std::string blob = Zstd(tar);
  Result<UnpackStats> stats = sandbox.Unpack(blob);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->entries, 4U);
  EXPECT_EQ(stats->digests.diff_id, Digest::Sha256Of(tar));
  EXPECT_EQ(stats->digests.compressed, Digest::Sha256Of(blob));
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/etc/hostname").value(), "box\n");
  EXPECT_EQ(Lstat(sandbox.dest() + "/bin/tool").st_mode & 07777, 0755U);
  EXPECT_EQ(Lstat(sandbox.dest() + "/bin/tool").st_size, 3 << 20);
  EXPECT_EQ(Lstat(sandbox.dest() + "/bin").st_mode & 07777, 0755U);  // implied parent
  char target[64] = {};
  ASSERT_GT(readlink((sandbox.dest() + "/bin/sh").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_STREQ(target, "/bin/busybox");
  EXPECT_EQ(Lstat(sandbox.dest() + "/etc/hostname").st_mtime, 1700000000);
}

TEST(Unpack, UnpackTarStream) {
  Sandbox sandbox;
  std::string tar = SampleTar();
  size_t pos = 0;
  Result<UnpackStats> stats = UnpackTarStream(
      [&](char* buffer, size_t size) -> Result<size_t> {
        auto n = std::min<size_t>({size, tar.size() - pos, 777});
        std::copy_n(tar.data() + pos, n, buffer);
        pos += n;
        return n;
      },
      sandbox.dest(), Sandbox::Rootless());
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->digests.diff_id, Digest::Sha256Of(tar));
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/etc/hostname").value(), "box\n");
}

TEST(Unpack, LaterEntriesReplaceEarlierOnes) {
  Sandbox sandbox;
  ASSERT_TRUE(sandbox.Unpack(TarBuilder()
                                 .File("f", "one")
                                 .File("f", "two")
                                 .Dir("d")
                                 .File("d/keep", "k")
                                 .Dir("d", 0700)
                                 .File("x", "file")
                                 .Dir("x")
                                 .Dir("y")
                                 .File("y/child", "c")
                                 .Symlink("y", "elsewhere")
                                 .Finish()));
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/f").value(), "two");
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/d/keep").value(), "k");
  EXPECT_EQ(Lstat(sandbox.dest() + "/d").st_mode & 07777, 0700U);
  EXPECT_TRUE(S_ISDIR(Lstat(sandbox.dest() + "/x").st_mode));
  EXPECT_TRUE(S_ISLNK(Lstat(sandbox.dest() + "/y").st_mode));
}

TEST(Unpack, DirectoryMetadataAfterChildren) {
  Sandbox sandbox;
  TarEntry dir = MakeEntry("ro", '5');
  dir.mode = 0555;
  dir.mtime = 1234567890;
  ASSERT_TRUE(sandbox.Unpack(TarBuilder().Add(dir).File("ro/inside", "x").Finish()));
  struct stat st = Lstat(sandbox.dest() + "/ro");
  EXPECT_EQ(st.st_mode & 07777, 0555U);
  EXPECT_EQ(st.st_mtime, 1234567890);
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/ro/inside").value(), "x");
}

TEST(Unpack, RootEntryMetadata) {
  Sandbox sandbox;
  TarEntry root = MakeEntry("./", '5');
  root.mode = 0750;
  ASSERT_TRUE(sandbox.Unpack(TarBuilder().Add(root).File("./a", "a").Finish()));
  EXPECT_EQ(Lstat(sandbox.dest()).st_mode & 07777, 0750U);
  Result<UnpackStats> bad = sandbox.Unpack(TarBuilder().File(".", "x").Finish());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().ToString().find("empty name"), std::string::npos) << bad.error().ToString();
}

TEST(Unpack, HardlinksInside) {
  Sandbox sandbox;
  ASSERT_TRUE(sandbox.Unpack(TarBuilder()
                                 .File("a/file", "shared")
                                 .Hardlink("b/link", "a/file")
                                 .Hardlink("/c", "./a/file")
                                 .Symlink("s", "a/file")
                                 .Hardlink("s2", "s")
                                 .Hardlink("a/file", "a/file")
                                 .Finish()));
  struct stat a = Lstat(sandbox.dest() + "/a/file");
  EXPECT_EQ(a.st_nlink, 3U);
  EXPECT_EQ(Lstat(sandbox.dest() + "/b/link").st_ino, a.st_ino);
  EXPECT_EQ(Lstat(sandbox.dest() + "/c").st_ino, a.st_ino);
  EXPECT_TRUE(S_ISLNK(Lstat(sandbox.dest() + "/s2").st_mode));
  Result<UnpackStats> missing = sandbox.Unpack(TarBuilder().Hardlink("x", "nothing").Finish());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().ToString().find("entry x: hardlink target nothing does not exist"),
            std::string::npos)
      << missing.error().ToString();
}

TEST(Unpack, DevicesSkippedWhenNotAllowed) {
  Sandbox sandbox;
  TarEntry null = MakeEntry("dev/null", '3');
  null.dev_major = 1;
  null.dev_minor = 3;
  Result<UnpackStats> stats = sandbox.Unpack(
      TarBuilder().Add(null).Add(MakeEntry("fifo", '6')).File("after", "ok").Finish());
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->skipped_devices, 2U);
  EXPECT_NE(access((sandbox.dest() + "/dev/null").c_str(), F_OK), 0);
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/after").value(), "ok");
}

TEST(Unpack, SetidBits) {
  Sandbox sandbox;
  UnpackOptions options = Sandbox::Rootless();
  options.keep_setid = false;
  ASSERT_TRUE(
      sandbox.Unpack(TarBuilder().File("su", "x", 06755).Dir("tmp", 01777).Finish(), options));
  EXPECT_EQ(Lstat(sandbox.dest() + "/su").st_mode & 07777, 0755U);
  EXPECT_EQ(Lstat(sandbox.dest() + "/tmp").st_mode & 07777, 01777U);
  options.keep_setid = true;
  ASSERT_TRUE(sandbox.Unpack(TarBuilder().File("su2", "x", 04755).Finish(), options));
  EXPECT_EQ(Lstat(sandbox.dest() + "/su2").st_mode & 07777, 04755U);
}

TEST(Unpack, XattrsFiltered) {
  Sandbox sandbox;
  TarEntry file = MakeEntry("f", '0', "data");
  file.xattrs = {{"user.kept", "v1"},
                 {"trusted.overlay.opaque", "y"},
                 {"security.selinux", "system_u:object_r:shadow_t:s0"}};
  ASSERT_TRUE(sandbox.Unpack(TarBuilder().Add(file).Finish()));
  std::string path = sandbox.dest() + "/f";
  char value[64] = {};
  EXPECT_EQ(lgetxattr(path.c_str(), "user.kept", value, sizeof(value)), 2);
  EXPECT_STREQ(value, "v1");
  EXPECT_LT(lgetxattr(path.c_str(), "trusted.overlay.opaque", value, sizeof(value)), 0);
  UnpackOptions no_xattrs = Sandbox::Rootless();
  no_xattrs.keep_xattrs = false;
  Sandbox other;
  ASSERT_TRUE(other.Unpack(TarBuilder().Add(file).Finish(), no_xattrs));
  EXPECT_LT(lgetxattr((other.dest() + "/f").c_str(), "user.kept", value, sizeof(value)), 0);
}

TEST(Unpack, OverlayWhiteouts) {
  Sandbox sandbox;
  Result<UnpackStats> stats = sandbox.Unpack(TarBuilder()
                                                 .Dir("etc")
                                                 .File("etc/.wh.removed", "")
                                                 .Dir("opaque")
                                                 .File("opaque/.wh..wh..opq", "")
                                                 .File("opaque/new", "n")
                                                 .File(".wh..wh.plnk", "")
                                                 .Finish());
  ASSERT_TRUE(stats) << stats.error().ToString();
  struct stat st = Lstat(sandbox.dest() + "/etc/removed");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  char value[8] = {};
  EXPECT_EQ(
      lgetxattr((sandbox.dest() + "/opaque").c_str(), "user.overlay.opaque", value, sizeof(value)),
      1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_NE(access((sandbox.dest() + "/opaque/.wh..wh..opq").c_str(), F_OK), 0);
  EXPECT_NE(access((sandbox.dest() + "/.wh..wh.plnk").c_str(), F_OK), 0);
}

TEST(Unpack, AppliedWhiteouts) {
  Sandbox sandbox;
  ASSERT_TRUE(sandbox.Unpack(TarBuilder()
                                 .File("etc/gone", "g")
                                 .File("etc/stays", "s")
                                 .File("dir/tree/deep", "d")
                                 .File("op/lower", "l")
                                 .File("op/sub/lower", "l")
                                 .Finish()));
  UnpackOptions apply = Sandbox::Rootless();
  apply.whiteouts = UnpackOptions::Whiteouts::kApply;
  Result<UnpackStats> stats = sandbox.Unpack(TarBuilder()
                                                 .File("etc/.wh.gone", "")
                                                 .File(".wh.dir", "")
                                                 .File(".wh.never-existed", "")
                                                 .File("op/upper", "u")
                                                 .File("op/sub/upper", "u")
                                                 .File("op/.wh..wh..opq", "")
                                                 .File("nodir/.wh..wh..opq", "")
                                                 .Finish(),
                                             apply);
  ASSERT_TRUE(stats) << stats.error().ToString();
  std::string d = sandbox.dest();
  EXPECT_NE(access((d + "/etc/gone").c_str(), F_OK), 0);
  EXPECT_EQ(access((d + "/etc/stays").c_str(), F_OK), 0);
  EXPECT_NE(access((d + "/dir").c_str(), F_OK), 0);
  EXPECT_NE(access((d + "/op/lower").c_str(), F_OK), 0);
  EXPECT_NE(access((d + "/op/sub/lower").c_str(), F_OK), 0);
  EXPECT_EQ(os::ReadFile(d + "/op/upper").value(), "u");
  EXPECT_EQ(os::ReadFile(d + "/op/sub/upper").value(), "u");
}

TEST(Unpack, LongNamesPaxAndGnu) {
  Sandbox sandbox;
  std::string name = std::string(150, 'n') + "/" + std::string(200, 'm');
  TarEntry gnu = MakeEntry(name + "-gnu", '0', "g");
  gnu.gnu_long_names = true;
  TarEntry link = MakeEntry("l", '2');
  link.link = std::string(300, 't');
  ASSERT_TRUE(sandbox.Unpack(TarBuilder().File(name, "p").Add(gnu).Add(link).Finish()));
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/" + name).value(), "p");
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/" + name + "-gnu").value(), "g");
  EXPECT_EQ(Lstat(sandbox.dest() + "/l").st_size, 300);
}

TEST(Unpack, EmptyAndEndlessStreams) {
  Sandbox sandbox;
  Result<UnpackStats> end_only = sandbox.Unpack(TarBuilder().Finish());
  ASSERT_TRUE(end_only) << end_only.error().ToString();
  EXPECT_EQ(end_only->entries, 0U);
  Result<UnpackStats> no_marker = sandbox.Unpack(TarBuilder().File("x", "x").Finish(false));
  EXPECT_TRUE(no_marker) << no_marker.error().ToString();
}

}  // namespace
}  // namespace comet::image
