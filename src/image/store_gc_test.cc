// Tests of layer trees and garbage collection: EnsureLayer's single fill under concurrency and
// its diff ID check, gc keeping leased images and what they reference, dry runs, ingest and
// temporary-lease leftovers, and removing trees with hostile modes.
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "image/store.h"
#include "image/store_internal.h"
#include "image/store_test_util.h"
#include "os/file.h"
#include "testing/in_child.h"

namespace comet::image {
namespace {

using testing::EnsureTestLayer;
using testing::MakeTestStore;
using testing::PutTestImage;

constexpr GcOptions kNow{.grace_period = std::chrono::seconds(0), .dry_run = false};

bool IsEmptyDir(const std::string& path) {
  return std::filesystem::is_empty(path);
}

TEST(StoreLayers, ConcurrentEnsureFillsOnce) {
  auto t = MakeTestStore();
  const Digest diff_id = Digest::Sha256Of("layer");
  std::atomic<int> fills = 0;
  auto fill = [&](const std::string& dir) -> Result<Digest> {
    ++fills;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    RETURN_IF_ERROR(os::WriteFile(os::JoinPath(dir, "f"), "x"));
    return diff_id;
  };
  Status first = Ok();
  Status second = Ok();
  std::thread a([&] { first = t.store.EnsureLayer(diff_id, fill); });
  std::thread b([&] { second = t.store.EnsureLayer(diff_id, fill); });
  a.join();
  b.join();
  EXPECT_TRUE(first) << first.error().ToString();
  EXPECT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(fills, 1);
  EXPECT_TRUE(os::Exists(os::JoinPath(t.store.LayerPath(diff_id), "f")));
  EXPECT_TRUE(IsEmptyDir(os::JoinPath(t.store.root(), "layers/tmp")));
}

TEST(StoreLayers, WrongDiffIdLeavesNothing) {
  auto t = MakeTestStore();
  const Digest want = Digest::Sha256Of("want");
  const Digest got = Digest::Sha256Of("got");
  auto st = t.store.EnsureLayer(want, [&](const std::string& dir) -> Result<Digest> {
    RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(dir, "sub")));
    return got;
  });
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find(want.ToString()), std::string::npos);
  EXPECT_NE(st.error().ToString().find(got.ToString()), std::string::npos);
  EXPECT_FALSE(t.store.HasLayer(want));
  EXPECT_TRUE(IsEmptyDir(os::JoinPath(t.store.root(), "layers/tmp")));
  // A failing fill leaves nothing either.
  st = t.store.EnsureLayer(
      want, [](const std::string&) -> Result<Digest> { return Err(Error::Invalid("broken tar")); });
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("broken tar"), std::string::npos);
  EXPECT_TRUE(IsEmptyDir(os::JoinPath(t.store.root(), "layers/tmp")));
}

TEST(StoreGc, KeepsLeasedImagesAndWhatTheyReference) {
  auto t = MakeTestStore();
  const auto pod_image = PutTestImage(t.store, "pod", {"pod:1"});
  const auto pull_image = PutTestImage(t.store, "pull", {"pull:1"});
  const auto old_image = PutTestImage(t.store, "old", {"old:1"});
  for (const auto* img : {&pod_image, &pull_image, &old_image}) {
    EnsureTestLayer(t.store, *img);
  }
  const Digest loose = *t.store.PutBlob("unreferenced");
  const Digest leased_blob = *t.store.PutBlob("leased blob");

  auto pod = t.store.AcquireLease("pod-a");
  ASSERT_TRUE(pod->Add({pod_image.manifest}));
  auto pull = t.store.TemporaryLease();
  ASSERT_TRUE(pull);
  EXPECT_TRUE(pull->name().starts_with("tmp-"));
  ASSERT_TRUE(pull->Add({pull_image.manifest, leased_blob}));

  auto report = t.store.GarbageCollect(kNow);
  ASSERT_TRUE(report) << report.error().ToString();
  ASSERT_EQ(report->removed_images.size(), 1U);
  EXPECT_EQ(report->removed_images[0].manifest_digest, old_image.manifest);
  EXPECT_EQ(report->removed_blobs, 4U);  // old's manifest, config, layer + the loose blob
  EXPECT_EQ(report->removed_layers, 1U);
  EXPECT_GT(report->freed_bytes, 0U);
  for (const auto* img : {&pod_image, &pull_image}) {
    EXPECT_TRUE(t.store.HasBlob(img->manifest));
    EXPECT_TRUE(t.store.HasBlob(img->config));
    EXPECT_TRUE(t.store.HasBlob(img->layer));
    EXPECT_TRUE(t.store.HasLayer(img->layer));
  }
  EXPECT_TRUE(t.store.HasBlob(leased_blob));
  EXPECT_FALSE(t.store.HasBlob(loose));
  EXPECT_FALSE(t.store.HasBlob(old_image.layer));
  EXPECT_FALSE(t.store.HasLayer(old_image.layer));
  EXPECT_FALSE(t.store.FindImage("old:1"));

  // The temporary lease dies with its object; the pod's stays until released.
  { Lease gone = std::move(*pull); }
  report = t.store.GarbageCollect(kNow);
  EXPECT_EQ(report->removed_images.size(), 1U);
  EXPECT_FALSE(t.store.HasBlob(leased_blob));
  EXPECT_TRUE(t.store.FindImage("pod:1"));
  ASSERT_TRUE(t.store.ReleaseLease("pod-a"));
  report = t.store.GarbageCollect(kNow);
  EXPECT_EQ(report->removed_images.size(), 1U);
  EXPECT_TRUE(t.store.ListImages()->empty());
  EXPECT_TRUE(IsEmptyDir(os::JoinPath(t.store.root(), "blobs/sha256")));
  EXPECT_TRUE(IsEmptyDir(os::JoinPath(t.store.root(), "layers/tmp")));
}

TEST(StoreGc, GracePeriodKeepsRecentlyUsedImages) {
  auto t = MakeTestStore();
  PutTestImage(t.store, "a", {"a"});
  auto report = t.store.GarbageCollect(GcOptions{});
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->removed_images.empty());
  EXPECT_EQ(report->removed_blobs, 0U);
  EXPECT_TRUE(t.store.FindImage("a"));
}

TEST(StoreGc, DryRunDeletesNothing) {
  auto t = MakeTestStore();
  const auto a = PutTestImage(t.store, "a", {"a"});
  EnsureTestLayer(t.store, a);
  auto report =
      t.store.GarbageCollect(GcOptions{.grace_period = std::chrono::seconds(0), .dry_run = true});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->removed_images.size(), 1U);
  EXPECT_EQ(report->removed_blobs, 3U);
  EXPECT_EQ(report->removed_layers, 1U);
  EXPECT_TRUE(t.store.FindImage("a"));
  EXPECT_TRUE(t.store.HasBlob(a.layer));
  EXPECT_TRUE(t.store.HasLayer(a.layer));
}

TEST(StoreGc, DeadTemporaryLeaseOfAKilledProcessIsRemoved) {
  auto t = MakeTestStore();
  const auto a = PutTestImage(t.store, "a", {"a"});
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lease = t.store.TemporaryLease();
    if (!lease || !lease->Add({a.manifest})) {
      _exit(1);
    }
    (void)::raise(SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(IsEmptyDir(os::JoinPath(t.store.root(), "leases")));
  auto report = t.store.GarbageCollect(kNow);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->removed_images.size(), 1U);
  EXPECT_TRUE(IsEmptyDir(os::JoinPath(t.store.root(), "leases")));
}

TEST(StoreGc, IngestLeftoversGoOnlyWhenTheirLockIsFree) {
  auto t = MakeTestStore();
  const Digest live = Digest::Sha256Of("live");
  const Digest dead = Digest::Sha256Of("dead");
  auto writer = t.store.BeginBlob(live, -1);
  ASSERT_TRUE(writer->Write("li"));
  { ASSERT_TRUE(t.store.BeginBlob(dead, -1)->Write("de")); }
  auto unknown = t.store.BeginUnknownBlob();
  ASSERT_TRUE(unknown->Write("x"));
  const std::string ingest = os::JoinPath(t.store.root(), "ingest");
  // Default grace: a young resumable partial stays.
  ASSERT_TRUE(t.store.GarbageCollect(GcOptions{}));
  EXPECT_TRUE(os::Exists(os::JoinPath(ingest, dead.hex() + ".partial")));
  ASSERT_TRUE(t.store.GarbageCollect(kNow));
  EXPECT_FALSE(os::Exists(os::JoinPath(ingest, dead.hex() + ".partial")));
  EXPECT_FALSE(os::Exists(os::JoinPath(ingest, dead.hex() + ".lock")));
  EXPECT_TRUE(os::Exists(os::JoinPath(ingest, live.hex() + ".partial")));
  ASSERT_TRUE(writer->Write("ve"));
  EXPECT_TRUE(writer->Commit());
  ASSERT_TRUE(unknown->Write("y"));
  EXPECT_TRUE(unknown->Commit());
}

// A gc holding the store lock must never see an imported blob in blobs/ that is not leased yet.
TEST(StoreGc, UnknownBlobIsLeasedBeforeItIsPublished) {
  auto t = MakeTestStore();
  const Digest d = Digest::Sha256Of("converted layer");
  auto writer = t.store.BeginUnknownBlob();
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->Write("converted layer"));
  auto lease = t.store.TemporaryLease();
  ASSERT_TRUE(lease);
  auto gc_lock = store_internal::LockStore(t.store.root());
  ASSERT_TRUE(gc_lock);
  Result<Digest> committed = Err(Error::Invalid("not run"));
  std::thread committer([&] { committed = writer->Commit(&*lease); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(t.store.HasBlob(d)) << "published while a gc held the store lock, unleased";
  gc_lock->Reset();
  committer.join();
  ASSERT_TRUE(committed) << committed.error().ToString();
  EXPECT_EQ(*committed, d);
  ASSERT_TRUE(t.store.GarbageCollect(kNow));
  EXPECT_TRUE(t.store.HasBlob(d));
}

// Content already in the store (unreferenced): the lease must cover it when Commit returns.
TEST(StoreGc, AlreadyStoredUnknownBlobIsLeased) {
  auto t = MakeTestStore();
  auto stored = t.store.PutBlob("same bytes");
  ASSERT_TRUE(stored);
  {
    auto writer = t.store.BeginUnknownBlob();
    ASSERT_TRUE(writer->Write("same bytes"));
    auto lease = t.store.TemporaryLease();
    ASSERT_TRUE(lease);
    auto committed = writer->Commit(&*lease);
    ASSERT_TRUE(committed);
    EXPECT_EQ(*committed, *stored);
    ASSERT_TRUE(t.store.GarbageCollect(kNow));
    EXPECT_TRUE(t.store.HasBlob(*stored));
  }
  // BeginBlob finding the blob there (done()) leases it too.
  auto lease = t.store.TemporaryLease();
  ASSERT_TRUE(lease);
  {
    auto writer = t.store.BeginBlob(*stored, -1);
    ASSERT_TRUE(writer && writer->done());
    ASSERT_TRUE(writer->Commit(&*lease));
  }
  ASSERT_TRUE(t.store.GarbageCollect(kNow));
  EXPECT_TRUE(t.store.HasBlob(*stored));
}

// BeginUnknownBlob creates and flocks its file atomically with respect to gc (which holds the
// store lock while sweeping ingest/): no unlocked tmp- file is ever visible to it.
TEST(StoreGc, UnknownBlobFileIsNeverSeenUnlocked) {
  auto t = MakeTestStore();
  const std::string ingest = os::JoinPath(t.store.root(), "ingest");
  auto gc_lock = store_internal::LockStore(t.store.root());
  ASSERT_TRUE(gc_lock);
  std::optional<Result<BlobWriter>> writer;
  std::thread begin([&] { writer.emplace(t.store.BeginUnknownBlob()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  bool tmp_seen = false;
  for (const auto& entry : std::filesystem::directory_iterator(ingest)) {
    tmp_seen |= entry.path().filename().string().starts_with("tmp-");
  }
  EXPECT_FALSE(tmp_seen) << "tmp- file created while a gc held the store lock";
  gc_lock->Reset();
  begin.join();
  ASSERT_TRUE(*writer);
  ASSERT_TRUE(t.store.GarbageCollect(kNow));
  ASSERT_TRUE((*writer)->Write("z"));
  EXPECT_TRUE((*writer)->Commit());
}

TEST(StoreGc, RemovesDeadLayerFillsAndTempFiles) {
  auto t = MakeTestStore();
  const std::string root = t.store.root();
  const std::string fill = os::JoinPath(root, "layers/tmp/" + Digest::Sha256Of("x").hex() + "-abc");
  ASSERT_TRUE(os::MkdirAll(os::JoinPath(fill, "a/b")));
  ASSERT_TRUE(os::WriteFile(os::JoinPath(root, "index.json.tmp.99"), "{"));
  ASSERT_TRUE(t.store.GarbageCollect(kNow));
  EXPECT_FALSE(os::Exists(fill));
  EXPECT_FALSE(os::Exists(os::JoinPath(root, "index.json.tmp.99")));
}

// Layer trees may hold directories with mode 0000 and read-only content: removal must still
// work without root's DAC override (rootless stores), so the removal runs as an unprivileged
// user when the test runs as root.
TEST(StoreLayers, RemovesTreesWithHostileModes) {
  auto dir = os::TempDir::Create("comet-store-tree-");
  ASSERT_TRUE(dir);
  ASSERT_EQ(::chmod(dir->path().c_str(), 0777), 0);
  const std::string tree = os::JoinPath(dir->path(), "tree");
  ASSERT_TRUE(os::MkdirAll(os::JoinPath(tree, "locked/inner")));
  ASSERT_TRUE(os::WriteFile(os::JoinPath(tree, "locked/inner/file"), "data", 0444));
  ASSERT_TRUE(os::MkdirAll(os::JoinPath(tree, "readonly")));
  ASSERT_TRUE(os::WriteFile(os::JoinPath(tree, "readonly/file"), "data", 0000));
  ASSERT_EQ(::symlink("/etc/passwd", os::JoinPath(tree, "link").c_str()), 0);
  ASSERT_EQ(::chmod(os::JoinPath(tree, "locked/inner").c_str(), 0000), 0);
  ASSERT_EQ(::chmod(os::JoinPath(tree, "locked").c_str(), 0000), 0);
  ASSERT_EQ(::chmod(os::JoinPath(tree, "readonly").c_str(), 0555), 0);
  const bool root = ::geteuid() == 0;
  auto outcome = comet::testing::RunInChild([&] {
    if (root) {
      // Hand the tree to nobody, then become nobody.
      auto chown = [](const char* path, const struct stat*, int, struct FTW*) {
        return ::lchown(path, 65534, 65534);
      };
      if (::nftw(tree.c_str(), chown, 16, FTW_PHYS) != 0) {
        return 10;
      }
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
        return 11;
      }
    }
    auto removed = store_internal::RemoveTree(tree);
    if (!removed) {
      (void)fprintf(stderr, "%s\n", removed.error().ToString().c_str());
      return 1;
    }
    return os::Exists(tree) ? 2 : 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  EXPECT_TRUE(os::Exists("/etc/passwd"));
}

// Builds dir/d/d/.../d (`depth` levels, one fd open at a time) with a 3-byte file "f" every
// 100 levels.
void MakeDeepTree(const std::string& top, int depth) {
  ASSERT_EQ(::mkdir(top.c_str(), 0755), 0);
  int fd = ::open(top.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < depth; ++i) {
    if (i % 100 == 0) {
      const int f = ::openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      ASSERT_GE(f, 0);
      ASSERT_EQ(::write(f, "abc", 3), 3);
      ::close(f);
    }
    ASSERT_EQ(::mkdirat(fd, "d", 0755), 0) << i;
    const int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(fd);
    ASSERT_GE(next, 0) << i;
    fd = next;
  }
  ::close(fd);
}

// A hostile layer may nest directories ~2000 deep; removal must not hold an fd per level.
TEST(StoreLayers, RemovesDeepTreesWithFewFds) {
  auto dir = os::TempDir::Create("comet-store-deep-");
  ASSERT_TRUE(dir);
  const std::string tree = os::JoinPath(dir->path(), "tree");
  const std::string other = os::JoinPath(dir->path(), "other");
  MakeDeepTree(tree, 1500);
  MakeDeepTree(other, 1500);
  auto outcome = comet::testing::RunInChild([&] {
    const struct rlimit limit = {.rlim_cur = 256, .rlim_max = 256};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return 10;
    }
    auto sized = store_internal::RemoveTree(tree, /*remove=*/false);
    if (!sized || *sized != 45) {
      (void)fprintf(stderr, "dry run: %s\n",
                    sized ? std::to_string(*sized).c_str() : sized.error().ToString().c_str());
      return 1;
    }
    auto removed = store_internal::RemoveTree(tree);
    if (!removed || *removed != 45) {
      (void)fprintf(
          stderr, "remove: %s\n",
          removed ? std::to_string(*removed).c_str() : removed.error().ToString().c_str());
      return 2;
    }
    if (auto st = os::RemoveAll(other); !st) {
      (void)fprintf(stderr, "os::RemoveAll: %s\n", st.error().ToString().c_str());
      return 3;
    }
    return os::Exists(tree) || os::Exists(other) ? 4 : 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// Rootless image extraction leaves 0555 directories: os::RemoveAll makes them writable. Run as
// nobody when the test runs as root (root ignores modes).
TEST(StoreLayers, OsRemoveAllHandlesReadOnlyDirectories) {
  auto dir = os::TempDir::Create("comet-rm-ro-");
  ASSERT_TRUE(dir);
  ASSERT_EQ(::chmod(dir->path().c_str(), 0777), 0);
  const std::string tree = os::JoinPath(dir->path(), "tree");
  ASSERT_TRUE(os::MkdirAll(os::JoinPath(tree, "ro/sub")));
  ASSERT_TRUE(os::WriteFile(os::JoinPath(tree, "ro/file"), "data", 0444));
  ASSERT_TRUE(os::WriteFile(os::JoinPath(tree, "ro/sub/file"), "data", 0444));
  ASSERT_EQ(::chmod(os::JoinPath(tree, "ro/sub").c_str(), 0555), 0);
  ASSERT_EQ(::chmod(os::JoinPath(tree, "ro").c_str(), 0555), 0);
  ASSERT_EQ(::chmod(tree.c_str(), 0555), 0);
  const bool root = ::geteuid() == 0;
  auto outcome = comet::testing::RunInChild([&] {
    if (root) {
      auto chown = [](const char* path, const struct stat*, int, struct FTW*) {
        return ::lchown(path, 65534, 65534);
      };
      if (::nftw(tree.c_str(), chown, 16, FTW_PHYS) != 0) {
        return 10;
      }
      if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
        return 11;
      }
    }
    if (auto st = os::RemoveAll(tree); !st) {
      (void)fprintf(stderr, "%s\n", st.error().ToString().c_str());
      return 1;
    }
    return os::Exists(tree) ? 2 : 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace comet::image
