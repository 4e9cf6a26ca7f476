// The hostile-archive corpus: every case must be rejected with a clear error (or, for the
// harmless-looking ones, land inside dest), and nothing outside dest may change.
#include <sys/stat.h>

#include <string>

#include <gtest/gtest.h>

#include "image/digest.h"
#include "image/unpack.h"
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
using testing::Sandbox;

// Unpacks `blob`, expects an error containing `message`, and that nothing outside dest changed.
void ExpectRejected(std::string_view blob, std::string_view message) {
  Sandbox sandbox;
  std::string before = sandbox.SnapshotOutside();
  Result<UnpackStats> result = sandbox.Unpack(blob);
  ASSERT_FALSE(result.has_value()) << "accepted; dest holds:\n" << testing::Listing(sandbox.dest());
  EXPECT_NE(result.error().ToString().find(message), std::string::npos)
      << result.error().ToString();
  EXPECT_EQ(sandbox.SnapshotOutside(), before);
}

TEST(HostileArchive, DotDot) {
  ExpectRejected(TarBuilder().File("../x", "evil").Finish(), "entry ../x: path has a \"..\"");
}

TEST(HostileArchive, NestedDotDot) {
  ExpectRejected(TarBuilder().Dir("a").File("a/../../x", "evil").Finish(), "\"..\"");
}

TEST(HostileArchive, AbsolutePathStaysInside) {
  Sandbox sandbox;
  std::string before = sandbox.SnapshotOutside();
  ASSERT_TRUE(sandbox.Unpack(TarBuilder().File("/etc/x", "in").File("./y", "y").Finish()));
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/etc/x").value(), "in");
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/y").value(), "y");
  EXPECT_EQ(sandbox.SnapshotOutside(), before);
}

TEST(HostileArchive, SymlinkToRootThenWriteThrough) {
  ExpectRejected(TarBuilder().Symlink("a", "/").File("a/etc/passwd", "evil").Finish(),
                 "entry a/etc/passwd: parent a is a symlink");
}

TEST(HostileArchive, SymlinkUpThenWriteThrough) {
  ExpectRejected(TarBuilder().Symlink("a", "../../..").File("a/x", "evil").Finish(),
                 "parent a is a symlink");
}

TEST(HostileArchive, SymlinkToSiblingOutside) {
  ExpectRejected(TarBuilder().Symlink("a", "..").File("a/outside.txt", "evil").Finish(),
                 "parent a is a symlink");
}

TEST(HostileArchive, SymlinkChain) {
  ExpectRejected(TarBuilder()
                     .Symlink("b", "../..")
                     .Symlink("a", "b")
                     .Dir("d")
                     .Symlink("d/e", "../a")
                     .File("d/e/x", "evil")
                     .Finish(),
                 "entry d/e/x: parent d/e is a symlink");
}

TEST(HostileArchive, SymlinkThenDirectoryEntryThrough) {
  ExpectRejected(TarBuilder().Symlink("a", "..").Dir("a/newdir").Finish(), "parent a is a symlink");
}

TEST(HostileArchive, HardlinkUp) {
  ExpectRejected(TarBuilder().Hardlink("x", "../outside.txt").Finish(), "\"..\"");
}

TEST(HostileArchive, HardlinkAbsoluteIsResolvedInside) {
  ExpectRejected(TarBuilder().Hardlink("x", "/etc/passwd").Finish(), "hardlink target etc/passwd");
}

TEST(HostileArchive, HardlinkThroughSymlinkParent) {
  ExpectRejected(TarBuilder().Symlink("up", "..").Hardlink("x", "up/outside.txt").Finish(),
                 "parent up is a symlink");
}

TEST(HostileArchive, HardlinkToDirectory) {
  ExpectRejected(TarBuilder().Dir("d").Hardlink("x", "d").Finish(),
                 "not a regular file or symlink");
}

TEST(HostileArchive, HardlinkToEscapingSymlinkThenWrite) {
  Sandbox sandbox;
  std::string before = sandbox.SnapshotOutside();
  // Writing the file replaces the linked symlink; it never writes through it.
  ASSERT_TRUE(sandbox.Unpack(TarBuilder()
                                 .Symlink("s", sandbox.outside())
                                 .Hardlink("h", "s")
                                 .File("h", "replaced")
                                 .Finish()));
  EXPECT_EQ(os::ReadFile(sandbox.dest() + "/h").value(), "replaced");
  EXPECT_EQ(os::ReadFile(sandbox.outside()).value(), "outside\n");
  EXPECT_EQ(sandbox.SnapshotOutside(), before);
  ExpectRejected(
      TarBuilder().Symlink("s", "..").Hardlink("h", "s").File("h/outside.txt", "evil").Finish(),
      "parent h is a symlink");
}

TEST(HostileArchive, DirectoryReplacedBySymlinkThenWrittenThrough) {
  ExpectRejected(TarBuilder()
                     .Dir("a")
                     .File("a/ok", "fine")
                     .Symlink("a", "..")
                     .File("a/outside.txt", "evil")
                     .Finish(),
                 "parent a is a symlink");
}

TEST(HostileArchive, HugePaxHeader) {
  TarEntry pax = MakeEntry("PaxHeaders/x", 'x', "20 path=short_name\n");
  pax.declared_size = uint64_t{100} << 20;
  ExpectRejected(TarBuilder().Add(pax).File("x", "data").Finish(), "");
}

TEST(HostileArchive, NameLongerThanPathMax) {
  ExpectRejected(TarBuilder().File(std::string(5000, 'a'), "x").Finish(), "longer than 4096");
  std::string deep;
  for (int i = 0; i < 1200; ++i) {
    deep += "abc/";
  }
  ExpectRejected(TarBuilder().File(deep + "x", "x").Finish(), "longer than 4096");
  ExpectRejected(TarBuilder().File(std::string(300, 'b') + "/x", "x").Finish(),
                 "component is longer than 255");
}

TEST(HostileArchive, GnuLongNameDotDot) {
  TarEntry entry = MakeEntry(std::string(120, 'a') + "/../../../x", '0', "evil");
  entry.gnu_long_names = true;
  ExpectRejected(TarBuilder().Add(entry).Finish(), "\"..\"");
}

TEST(HostileArchive, TruncatedGzip) {
  std::string tar = TarBuilder().File("big", std::string(200000, 'x')).Finish();
  std::string gz = Gzip(tar);
  ExpectRejected(gz.substr(0, gz.size() / 2), "truncated gzip stream");
  ExpectRejected(gz.substr(0, gz.size() - 4), "truncated gzip stream");
}

TEST(HostileArchive, CorruptZstd) {
  std::string tar = TarBuilder().File("big", std::string(200000, 'x') + "tail").Finish();
  std::string zst = Zstd(tar);
  for (size_t i = 8; i < zst.size() - 4; i += 3) {
    zst[i] = static_cast<char>(zst[i] ^ 0x5a);
  }
  ExpectRejected(zst, "corrupt zstd stream: ");
  ExpectRejected(Zstd(tar).substr(0, 20), "truncated zstd stream");
}

TEST(HostileArchive, GarbageIsNotTar) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) {
    garbage.push_back(static_cast<char>((i * 7919) % 251 + 1));
  }
  ExpectRejected(garbage, "reading tar");
}

TEST(HostileArchive, TruncatedMidFile) {
  std::string tar = TarBuilder().File("big", std::string(20000, 'x')).Finish();
  ExpectRejected(tar.substr(0, 4096), "");
  ExpectRejected(Gzip(tar.substr(0, 4096)), "");
}

TEST(HostileArchive, WrongSizeField) {
  TarEntry lying = MakeEntry("x", '0', "short");
  lying.declared_size = 1 << 20;
  ExpectRejected(TarBuilder().Add(lying).Finish(), "");
}

TEST(HostileArchive, BadChecksum) {
  TarEntry entry = MakeEntry("x", '0', "data");
  entry.bad_checksum = true;
  ExpectRejected(TarBuilder().File("ok", "ok").Add(entry).Finish(), "reading tar header");
}

TEST(HostileArchive, DigestMismatchIsDetectableByCaller) {
  Sandbox sandbox;
  std::string tar = TarBuilder().File("x", "data").Finish();
  std::string blob = Gzip(tar);
  Result<UnpackStats> stats = sandbox.Unpack(blob);
  ASSERT_TRUE(stats) << stats.error().ToString();
  // The digests are of the bytes actually read, so a caller comparing them with the
  // manifest's catches a substituted blob.
  EXPECT_EQ(stats->digests.compressed, Digest::Sha256Of(blob));
  EXPECT_EQ(stats->digests.diff_id, Digest::Sha256Of(tar));
  EXPECT_EQ(stats->digests.compressed_size, blob.size());
  EXPECT_EQ(stats->digests.uncompressed_size, tar.size());
  EXPECT_NE(stats->digests.compressed, Digest::Sha256Of(Gzip(tar + "x")));
}

TEST(HostileArchive, WhiteoutCannotEscape) {
  ExpectRejected(TarBuilder().File("../.wh.outside.txt", "").Finish(), "\"..\"");
  ExpectRejected(TarBuilder().Symlink("a", "..").File("a/.wh.outside.txt", "").Finish(),
                 "parent a is a symlink");
  UnpackOptions apply = Sandbox::Rootless();
  apply.whiteouts = UnpackOptions::Whiteouts::kApply;
  Sandbox sandbox;
  std::string before = sandbox.SnapshotOutside();
  Result<UnpackStats> result =
      sandbox.Unpack(TarBuilder().Symlink("a", "..").File("a/.wh..wh..opq", "").Finish(), apply);
  EXPECT_FALSE(result);
  EXPECT_EQ(sandbox.SnapshotOutside(), before);
}

TEST(HostileArchive, TooLargeUncompressed) {
  Sandbox sandbox;
  UnpackOptions options = Sandbox::Rootless();
  options.max_uncompressed_bytes = 100000;
  Result<UnpackStats> result =
      sandbox.Unpack(Gzip(TarBuilder().File("x", std::string(1 << 20, '\0')).Finish()), options);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().ToString().find("larger than the limit"), std::string::npos);
}

}  // namespace
}  // namespace comet::image
