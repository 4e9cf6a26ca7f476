// Root-only transfer tests: ownership and device nodes survive an import into layer trees and
// an extraction, which needs CAP_CHOWN and CAP_MKNOD in the initial user namespace.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include "image/layer_trees.h"
#include "image/transfer.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "testing/in_child.h"
#include "testing/tar_builder.h"

namespace comet::image {
namespace {

using comet::testing::TarBuilder;

TEST(TransferPrivilegedTest, OwnershipAndDevicesSurviveImportAndExtract) {
  if (!comet::testing::IsRoot()) {
    GTEST_SKIP() << "needs root in the initial user namespace";
  }
  auto tmp = os::TempDir::Create("comet-transfer-priv-");
  ASSERT_TRUE(tmp);
  auto store = Store::Open(StoreOptions{.root = tmp->path() + "/store", .reference = {}});
  ASSERT_TRUE(store) << store.error().ToString();

  comet::testing::TarEntry owned = comet::testing::MakeEntry("home/user/file", '0', "mine");
  owned.uid = 1000;
  owned.gid = 1001;
  comet::testing::TarEntry null = comet::testing::MakeEntry("dev/null", '3');
  null.mode = 0666;
  null.dev_major = 1;
  null.dev_minor = 3;
  std::string tar =
      TarBuilder().Dir("home").Dir("home/user").Add(owned).Dir("dev").Add(null).Finish();
  ASSERT_TRUE(os::WriteFile(tmp->path() + "/rootfs.tar", tar));

  ImportOptions options;
  options.unpack = DefaultUnpackOptions();
  options.names = {*ParseReference("localhost/owned:1")};
  auto imported = Import(*store, tmp->path() + "/rootfs.tar", options);
  ASSERT_TRUE(imported) << imported.error().ToString();
  auto layers = store->LayerPaths((*imported)[0]);
  ASSERT_TRUE(layers) << layers.error().ToString();
  ASSERT_EQ(layers->size(), 1U);

  for (const std::string& root : {(*layers)[0], tmp->path() + "/out"}) {
    if (root != (*layers)[0]) {
      ASSERT_TRUE(ExtractRootfs(*store, (*imported)[0], root, DefaultUnpackOptions()));
    }
    struct stat st {};
    ASSERT_EQ(::lstat((root + "/home/user/file").c_str(), &st), 0) << root;
    EXPECT_EQ(st.st_uid, 1000U) << root;
    EXPECT_EQ(st.st_gid, 1001U) << root;
    ASSERT_EQ(::lstat((root + "/dev/null").c_str(), &st), 0) << root;
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << root;
    EXPECT_EQ(st.st_rdev, ::makedev(1, 3)) << root;
  }
}

}  // namespace
}  // namespace comet::image
