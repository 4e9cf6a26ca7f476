// Rootless snapshots: overlay with userxattr inside a user namespace made by RunInUserNamespace,
// as root mapping subordinate ids and as the unprivileged user comet-test through newuidmap.
// Runs as root (it sets the scene and drops privileges in forked children).
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "image/layer_trees.h"
#include "image/snapshot.h"
#include "image/snapshot_test_trees.h"
#include "image/userns.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "testing/in_child.h"

namespace comet::image {
namespace {

using testtrees::DiffListings;
using testtrees::Listing;
using testtrees::ListTree;
using testtrees::Missing;
using testtrees::Read;
using testtrees::StandardLayers;
using testtrees::Tree;

constexpr uint32_t kSubId = 100000;

class UserNamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root (maps subordinate ids, changes users)";
    }
    auto dir = os::TempDir::Create("comet-userns-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    base_.emplace(std::move(*dir));
    ASSERT_EQ(::chmod(base_->path().c_str(), 0755), 0);
  }
  std::string At(const std::string& rel) const { return base_->path() + "/" + rel; }

  // Rootless layers (user.overlay.opaque) owned by `owner` (root of the namespace), and a
  // directory for snapshots that `owner` may write.
  std::vector<std::string> RootlessLayers(uid_t owner, gid_t group) {
    std::vector<std::string> layers = StandardLayers(base_->path(), "user.", false);
    Tree(At("layers")).ChownAll(owner, group);
    EXPECT_TRUE(os::MkdirAll(At("snaps")));
    EXPECT_EQ(::chown(At("snaps").c_str(), owner, group), 0);
    return layers;
  }

  std::optional<os::TempDir> base_;
};

// Inside the namespace: an overlay with userxattr, the merged view, writes, the copy's view.
int RootlessSnapshots(const std::vector<std::string>& layers, const std::string& snaps) {
  SnapshotOptions options;
  options.rootless = true;
  auto kind = CreateSnapshot(layers, snaps + "/overlay", options);
  if (!kind) {
    (void)std::fprintf(stderr, "%s\n", kind.error().ToString().c_str());
  }
  CHILD_CHECK(kind == SnapshotKind::kOverlay);
  const std::string root = SnapshotRootfs(snaps + "/overlay");
  CHILD_CHECK(testtrees::CheckStandardView(root) == 0);
  options.force_copy = true;
  CHILD_CHECK(CreateSnapshot(layers, snaps + "/copy", options) == SnapshotKind::kCopy);
  std::string diff = DiffListings(ListTree(root), ListTree(SnapshotRootfs(snaps + "/copy")));
  if (!diff.empty()) {
    (void)std::fprintf(stderr, "overlay vs copy:\n%s", diff.c_str());
  }
  CHILD_CHECK(diff.empty());
  CHILD_CHECK(os::WriteFile(root + "/a/new", "fresh"));
  CHILD_CHECK(::unlink((root + "/a/keep").c_str()) == 0);
  CHILD_CHECK(Read(snaps + "/overlay/upper/a/new") == "fresh");
  CHILD_CHECK(Read(layers[0] + "/a/keep") == "keep");
  CHILD_CHECK(RemoveSnapshot(snaps + "/overlay") && RemoveSnapshot(snaps + "/copy"));
  CHILD_CHECK(Missing(snaps + "/overlay") && Missing(snaps + "/copy"));
  return 0;
}

TEST_F(UserNamespaceTest, BodyRunsAsRootOfTheNamespace) {
  auto status = RunInUserNamespace({{0, kSubId, 65536}}, {{0, kSubId, 65536}}, [] {
    CHILD_CHECK(::getuid() == 0 && ::geteuid() == 0 && ::getgid() == 0);
    CHILD_CHECK(Read("/proc/self/uid_map").find(std::to_string(kSubId)) != std::string::npos);
    return 7;
  });
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(*status, 7);
  auto thrown = RunInUserNamespace({{0, kSubId, 1}}, {{0, kSubId, 1}},
                                   []() -> int { throw std::runtime_error("boom"); });
  ASSERT_TRUE(thrown) << thrown.error().ToString();
  EXPECT_EQ(*thrown, 125);
  EXPECT_FALSE(RunInUserNamespace({}, {{0, kSubId, 1}}, [] { return 0; }));
}

TEST_F(UserNamespaceTest, BadMapIsAnError) {
  // Two ranges mapping the same host ids: the kernel refuses the map.
  auto status =
      RunInUserNamespace({{0, kSubId, 10}, {5, kSubId, 10}}, {{0, kSubId, 1}}, [] { return 0; });
  EXPECT_FALSE(status);
}

TEST_F(UserNamespaceTest, ExitCodeReportsASignalAsAShellDoes) {
  auto killed = RunInUserNamespaceExitCode({{0, kSubId, 1}}, {{0, kSubId, 1}}, [] {
    (void)::raise(SIGTERM);
    return 0;
  });
  ASSERT_TRUE(killed) << killed.error().ToString();
  EXPECT_EQ(*killed, 128 + SIGTERM);
  EXPECT_EQ(RunInUserNamespaceExitCode({{0, kSubId, 1}}, {{0, kSubId, 1}}, [] { return 3; }), 3);
  EXPECT_FALSE(RunInUserNamespace({{0, kSubId, 1}}, {{0, kSubId, 1}}, [] {
    (void)::raise(SIGTERM);
    return 0;
  }));
}

// Ownership is kept only when chown can reach more ids than our own (else EINVAL).
TEST_F(UserNamespaceTest, DefaultUnpackOptionsKeepOwnershipOnlyWithSubordinateIds) {
  auto keeps = [](const std::vector<IdRange>& uids, const std::vector<IdRange>& gids) {
    return RunInUserNamespace(uids, gids, [] {
      UnpackOptions options = DefaultUnpackOptions();
      CHILD_CHECK(!options.allow_devices && options.overlay_xattr_prefix == "user.");
      return options.keep_ownership ? 1 : 0;
    });
  };
  EXPECT_EQ(keeps({{0, kSubId, 65536}}, {{0, kSubId, 65536}}), 1);
  EXPECT_EQ(keeps(RootlessIdMap(kSubId, {{1, kSubId + 1, 1000}}),
                  RootlessIdMap(kSubId, {{1, kSubId + 1, 1000}})),
            1);
  EXPECT_EQ(keeps({{0, kSubId, 1}}, {{0, kSubId, 1}}), 0);
  EXPECT_EQ(keeps({{0, kSubId, 65536}}, {{0, kSubId, 1}}), 0);
}

TEST_F(UserNamespaceTest, RootlessOverlayWithSubordinateIds) {
  std::vector<std::string> layers = RootlessLayers(kSubId, kSubId);
  const std::string snaps = At("snaps");
  auto status = RunInUserNamespace({{0, kSubId, 65536}}, {{0, kSubId, 65536}},
                                   [&] { return RootlessSnapshots(layers, snaps); });
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(*status, 0);
  EXPECT_FALSE(testtrees::MountedBelow(snaps));
}

// The whole rootless path as the unprivileged user comet-test (scripts/ensure-test-user.sh):
// its /etc/subuid ranges, newuidmap/newgidmap, overlay with userxattr.
TEST_F(UserNamespaceTest, RootlessOverlayAsUnprivilegedUser) {
  struct passwd* pw = ::getpwnam("comet-test");  // NOLINT(concurrency-mt-unsafe): test setup
  if (pw == nullptr) {
    GTEST_SKIP() << "no user comet-test (create it with scripts/ensure-test-user.sh)";
  }
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  std::vector<std::string> layers = RootlessLayers(uid, gid);
  const std::string snaps = At("snaps");
  testing::ChildOutcome outcome = testing::RunInChild([&] {
    CHILD_CHECK(::setgroups(0, nullptr) == 0);
    CHILD_CHECK(::setresgid(gid, gid, gid) == 0 && ::setresuid(uid, uid, uid) == 0);
    // Changing uid cleared "dumpable", which makes /proc/<pid> root's: newuidmap would refuse.
    CHILD_CHECK(::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
    auto subuids = SubordinateIds("/etc/subuid", uid, "comet-test");
    auto subgids = SubordinateIds("/etc/subgid", gid, "comet-test");
    CHILD_CHECK(subuids && !subuids->empty() && subgids && !subgids->empty());
    auto status = RunInUserNamespace(RootlessIdMap(uid, *subuids), RootlessIdMap(gid, *subgids),
                                     [&] { return RootlessSnapshots(layers, snaps); });
    if (!status) {
      (void)std::fprintf(stderr, "%s\n", status.error().ToString().c_str());
    }
    CHILD_CHECK(status == 0);
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  EXPECT_TRUE(Missing(snaps + "/overlay"));
}

}  // namespace
}  // namespace comet::image
