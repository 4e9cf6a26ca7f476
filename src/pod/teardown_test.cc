// Unit tests for TeardownPod: what needs no privilege (bad uuid, a missing or half-made pod,
// copied snapshots, the image lease, running twice).
#include "pod/teardown.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/snapshot.h"
#include "image/store.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/manifest.h"
#include "pod/pod_dir.h"

namespace comet::pod {
namespace {

TEST(TeardownTest, RejectsABadUuid) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  for (const char* bad : {"", "..", "../../x", "0D9B5B3C-7A2E-4C1F-9E4B-2F6A8C1D3E5F"}) {
    auto st = TeardownPod(dir->path(), bad, {});
    ASSERT_FALSE(st) << bad;
    EXPECT_EQ(st.error().code(), EINVAL);
  }
}

TEST(TeardownTest, MissingOrEmptyPodIsFine) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  std::string uuid = NewUuid();
  EXPECT_TRUE(TeardownPod(dir->path() + "/nope", uuid, {}));
  EXPECT_TRUE(TeardownPod(dir->path(), uuid, {}));
  // A store directory that does not exist is not created.
  TeardownOptions options;
  options.image_store_dir = dir->path() + "/store";
  EXPECT_TRUE(TeardownPod(dir->path(), uuid, options));
  EXPECT_FALSE(os::Exists(options.image_store_dir));
}

TEST(TeardownTest, RemovesCopiedSnapshotsAndReleasesTheLease) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  std::string uuid = NewUuid();
  std::string pod = dir->path() + "/pod";
  std::string layer = dir->path() + "/layer";
  ASSERT_TRUE(os::MkdirAll(layer + "/etc"));
  ASSERT_TRUE(os::WriteFile(layer + "/etc/hello", "hi\n"));
  image::SnapshotOptions copy;
  copy.force_copy = true;
  for (const char* app : {"web", "db"}) {
    ASSERT_TRUE(MakeAppDirs(pod, app));
    auto kind = image::CreateSnapshot({layer}, AppSnapshotDir(pod, app), copy);
    ASSERT_TRUE(kind) << kind.error().ToString();
    ASSERT_TRUE(os::Exists(AppSnapshotDir(pod, app) + "/rootfs/etc/hello"));
  }
  ASSERT_TRUE(os::WriteFile(AppStatusPath(pod, "web"), "{}"));
  ASSERT_TRUE(os::MkdirAll(os::JoinPath(pod, "logs")));
  ASSERT_TRUE(os::WriteFile(AppLogPath(pod, "web"), "log\n"));

  image::StoreOptions store_options;
  store_options.root = dir->path() + "/store";
  auto store = image::Store::Open(store_options);
  ASSERT_TRUE(store) << store.error().ToString();
  std::string lease_file = store_options.root + "/leases/" + PodLeaseName(uuid);
  {
    auto lease = store->AcquireLease(PodLeaseName(uuid));
    ASSERT_TRUE(lease) << lease.error().ToString();
  }
  ASSERT_TRUE(os::Exists(lease_file));

  TeardownOptions options;
  options.image_store_dir = store_options.root;
  for (int i = 0; i < 2; ++i) {  // idempotent
    auto st = TeardownPod(pod, uuid, options);
    ASSERT_TRUE(st) << st.error().ToString();
    EXPECT_FALSE(os::Exists(AppSnapshotDir(pod, "web")));
    EXPECT_FALSE(os::Exists(AppSnapshotDir(pod, "db")));
    EXPECT_FALSE(os::Exists(lease_file));
    // What `status` and `logs` read after the pod ended stays.
    EXPECT_TRUE(os::Exists(AppStatusPath(pod, "web")));
    EXPECT_TRUE(os::Exists(AppLogPath(pod, "web")));
  }
}

}  // namespace
}  // namespace comet::pod
