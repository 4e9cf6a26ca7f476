// The api-service reads as an unprivileged user that only has group read access to the data
// directory (issue 5: "runs as an unprivileged user given read access"): pods made by root,
// read in a child that dropped to nobody with the data directory's group.
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "api/pod_catalog.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/manifest.h"
#include "pod/pod_dir.h"
#include "pod/pod_store.h"
#include "pod/volatile_dir.h"
#include "testing/in_child.h"

namespace comet::api {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kReaders = 65534;  // stands for the `comet` group

// chgrp -R `gid` and chmod -R g+rX, as an administrator grants a group read access.
void GrantGroup(const std::string& path, gid_t gid) {
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
  if (S_ISLNK(st.st_mode)) {
    return;
  }
  ASSERT_EQ(::chown(path.c_str(), static_cast<uid_t>(-1), gid), 0) << path;
  const mode_t mode = (st.st_mode & 07777) | S_IRGRP | (S_ISDIR(st.st_mode) ? S_IXGRP : 0);
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

void GrantGroupTree(const std::string& root, gid_t gid) {
  GrantGroup(root, gid);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    GrantGroup(entry.path().string(), gid);
  }
}

TEST(PodCatalogPrivilegedTest, UnprivilegedGroupMemberReads) {
  if (!testing::IsRoot()) {
    GTEST_SKIP() << "needs root to make pods for another user";
  }
  auto dir = os::TempDir::Create("comet-api-priv-").value();
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  auto store = pod::PodStore::Open(os::JoinPath(dir.path(), "pods")).value();
  pod::Pod running = store.CreatePreparing().value();
  pod::PodManifest manifest;
  manifest.uuid = running.uuid();
  pod::App app;
  app.name = "web";
  app.image = "busybox";
  app.image_id = "sha256:" + std::string(64, 'b');
  app.exec = {"/bin/sh"};
  manifest.apps = {app};
  ASSERT_TRUE(pod::WriteManifest(running.path(), manifest, false));
  ASSERT_TRUE(running.StartRunning());
  const std::string volatile_root = os::JoinPath(dir.path(), "volatile");
  ASSERT_TRUE(pod::EnsureVolatileDir(running.path(), volatile_root));
  ASSERT_TRUE(pod::WritePodPid(running.path(), 77));
  pod::AppStatus status;
  status.name = "web";
  status.state = pod::AppState::kRunning;
  ASSERT_TRUE(pod::WriteAppStatus(running.path(), status));
  GrantGroupTree(os::JoinPath(dir.path(), "pods"), kReaders);
  GrantGroupTree(volatile_root, kReaders);

  const std::string uuid = running.uuid();
  const std::string& data_dir = dir.path();
  testing::ChildOutcome outcome = testing::RunInChild([&]() -> int {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kReaders, kReaders, kReaders) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0) {
      return 10;
    }
    auto catalog = PodCatalog::Open(data_dir);
    if (!catalog) {
      (void)std::fprintf(stderr, "open: %s\n", catalog.error().ToString().c_str());
      return 11;
    }
    auto pods = (*catalog)->List({}, true);
    if (!pods || pods->size() != 1) {
      (void)std::fprintf(stderr, "list: %s\n",
                         pods ? "not one pod" : pods.error().ToString().c_str());
      return 12;
    }
    const v1alpha::Pod& pod = pods->front();
    if (pod.id() != uuid || pod.state() != v1alpha::POD_STATE_RUNNING || pod.pid() != 77 ||
        pod.apps_size() != 1 || pod.apps(0).state() != v1alpha::APP_STATE_RUNNING) {
      (void)std::fprintf(stderr, "unexpected pod: %s\n", pod.ShortDebugString().c_str());
      return 13;
    }
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace comet::api
