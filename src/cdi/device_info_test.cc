// Tests of filling CDI device nodes from the host's nodes.
#include "cdi/device_info.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::cdi {
namespace {

DeviceNode Node(std::string path, std::string host_path = "", std::string type = "",
                std::optional<int64_t> major = std::nullopt,
                std::optional<int64_t> minor = std::nullopt) {
  DeviceNode node;
  node.path = std::move(path);
  node.host_path = std::move(host_path);
  node.type = std::move(type);
  node.major = major;
  node.minor = minor;
  return node;
}

TEST(CdiDeviceInfo, StatsHostNodes) {
  auto null = StatHostDevice("/dev/null");
  ASSERT_TRUE(null) << null.error().ToString();
  EXPECT_EQ(null->type, "c");
  EXPECT_EQ(null->major, 1);
  EXPECT_EQ(null->minor, 3);
  auto dir = os::TempDir::Create("cdi-device-test-");
  ASSERT_TRUE(dir);
  const std::string fifo = dir->path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto pipe = StatHostDevice(fifo);
  ASSERT_TRUE(pipe);
  EXPECT_EQ(pipe->type, "p");
  const std::string file = dir->path() + "/file";
  ASSERT_TRUE(os::WriteFile(file, "x"));
  auto regular = StatHostDevice(file);
  ASSERT_FALSE(regular);
  EXPECT_NE(regular.error().ToString().find("not a device node"), std::string::npos);
  EXPECT_FALSE(StatHostDevice(dir->path() + "/missing"));
}

TEST(CdiDeviceInfo, FillsWhatIsMissing) {
  DeviceNode bare = Node("/dev/null");
  ASSERT_TRUE(FillDeviceInfo(bare));
  EXPECT_EQ(bare.host_path, "/dev/null");
  EXPECT_EQ(bare.type, "c");
  EXPECT_EQ(bare.major, 1);
  EXPECT_EQ(bare.minor, 3);

  struct stat null_stat {};
  ASSERT_EQ(::stat("/dev/null", &null_stat), 0);
  EXPECT_EQ(bare.file_mode, null_stat.st_mode & 07777);  // the host's, not the runtime's 0666

  DeviceNode elsewhere = Node("/dev/fake0", "/dev/zero");
  ASSERT_TRUE(FillDeviceInfo(elsewhere));
  EXPECT_EQ(elsewhere.minor, 5);

  // Complete nodes are left alone: the host path need not even exist.
  DeviceNode complete = Node("/dev/x", "/nonexistent", "c", 10, 200);
  ASSERT_TRUE(FillDeviceInfo(complete));
  EXPECT_EQ(complete.major, 10);

  // A type without numbers: the numbers come from the host, "u" counts as "c".
  DeviceNode typed = Node("/dev/null", "", "u");
  ASSERT_TRUE(FillDeviceInfo(typed));
  EXPECT_EQ(typed.type, "u");
  EXPECT_EQ(typed.major, 1);

  DeviceNode mismatch = Node("/dev/null", "", "b");
  auto status = FillDeviceInfo(mismatch);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().ToString().find("type b given"), std::string::npos);

  DeviceNode missing = Node("/dev/comet-cdi-test-missing");
  EXPECT_FALSE(FillDeviceInfo(missing));
}

}  // namespace
}  // namespace comet::cdi
