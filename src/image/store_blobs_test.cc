// Tests of the store's blobs: verification, resumable writes, and concurrent writers (threads,
// processes, and a writer killed with SIGKILL mid-write).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "image/store.h"
#include "image/store_test_util.h"
#include "os/file.h"

namespace comet::image {
namespace {

using testing::MakeTestStore;

std::string Payload(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    data[i] = static_cast<char>('a' + (i * 7) % 26);
  }
  return data;
}

TEST(StoreOpen, CreatesAnOciLayout) {
  auto t = MakeTestStore();
  const std::string& root = t.store.root();
  EXPECT_EQ(*os::ReadFile(os::JoinPath(root, "oci-layout")), R"({"imageLayoutVersion":"1.0.0"})");
  EXPECT_TRUE(os::Exists(os::JoinPath(root, "index.json")));
  EXPECT_TRUE(os::IsDirectory(os::JoinPath(root, "blobs/sha256")));
  // Opening again keeps it.
  EXPECT_TRUE(Store::Open(StoreOptions{.root = root, .reference = {}}));
}

TEST(StoreOpen, RejectsOtherLayoutVersions) {
  auto t = MakeTestStore();
  const std::string layout = os::JoinPath(t.store.root(), "oci-layout");
  ASSERT_TRUE(os::WriteFile(layout, R"({"imageLayoutVersion":"2.0.0"})"));
  auto store = Store::Open(StoreOptions{.root = t.store.root(), .reference = {}});
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().ToString().find("unsupported image layout version \"2.0.0\""),
            std::string::npos)
      << store.error().ToString();
}

TEST(StoreBlobs, PutReadOpen) {
  auto t = MakeTestStore();
  const Digest d = Digest::Sha256Of("hello");
  EXPECT_FALSE(t.store.HasBlob(d));
  auto missing = t.store.ReadBlob(d, 100);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  EXPECT_NE(missing.error().ToString().find(d.ToString()), std::string::npos);
  EXPECT_FALSE(t.store.OpenBlob(d));

  auto put = t.store.PutBlob("hello");
  ASSERT_TRUE(put) << put.error().ToString();
  EXPECT_EQ(*put, d);
  EXPECT_TRUE(t.store.PutBlob("hello", d));  // idempotent
  EXPECT_EQ(*t.store.ReadBlob(d, 100), "hello");
  EXPECT_FALSE(t.store.ReadBlob(d, 2));  // over the limit
  struct stat st {};
  ASSERT_EQ(::stat(t.store.BlobPath(d).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444U);
  EXPECT_TRUE(t.store.OpenBlob(d));
}

TEST(StoreBlobs, PutRejectsWrongDigest) {
  auto t = MakeTestStore();
  const Digest other = Digest::Sha256Of("other");
  auto put = t.store.PutBlob("hello", other);
  ASSERT_FALSE(put);
  EXPECT_NE(put.error().ToString().find(other.ToString()), std::string::npos);
  EXPECT_FALSE(t.store.HasBlob(other));
  EXPECT_FALSE(t.store.HasBlob(Digest::Sha256Of("hello")));
}

TEST(StoreBlobs, ReadDetectsCorruption) {
  auto t = MakeTestStore();
  const Digest d = *t.store.PutBlob("hello");
  ::chmod(t.store.BlobPath(d).c_str(), 0644);
  ASSERT_TRUE(os::WriteFile(t.store.BlobPath(d), "jello"));
  auto read = t.store.ReadBlob(d, 100);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().ToString().find("corrupt"), std::string::npos);
}

TEST(StoreBlobs, CommitMismatchRemovesPartialAndNamesBothDigests) {
  auto t = MakeTestStore();
  const Digest want = Digest::Sha256Of("good");
  auto writer = t.store.BeginBlob(want, 4);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->Write("evil"));
  auto committed = writer->Commit();
  ASSERT_FALSE(committed);
  EXPECT_NE(committed.error().ToString().find(want.ToString()), std::string::npos);
  EXPECT_NE(committed.error().ToString().find(Digest::Sha256Of("evil").ToString()),
            std::string::npos);
  EXPECT_FALSE(os::Exists(os::JoinPath(t.store.root(), "ingest/" + want.hex() + ".partial")));
  EXPECT_FALSE(t.store.HasBlob(want));
}

TEST(StoreBlobs, WriteBeyondExpectedSizeFails) {
  auto t = MakeTestStore();
  auto writer = t.store.BeginBlob(Digest::Sha256Of("abc"), 3);
  ASSERT_TRUE(writer);
  EXPECT_FALSE(writer->Write("abcd"));
}

TEST(StoreBlobs, ResumesAPartialWrite) {
  auto t = MakeTestStore();
  const std::string data = Payload(100000);
  const Digest d = Digest::Sha256Of(data);
  {
    auto writer = t.store.BeginBlob(d, static_cast<int64_t>(data.size()));
    ASSERT_TRUE(writer);
    EXPECT_EQ(writer->offset(), 0U);
    ASSERT_TRUE(writer->Write(std::string_view(data).substr(0, 40000)));
    auto short_commit = writer->Commit();  // short: kept for a resume
    EXPECT_FALSE(short_commit);
  }
  auto writer = t.store.BeginBlob(d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(writer);
  ASSERT_EQ(writer->offset(), 40000U);
  ASSERT_TRUE(writer->Write(std::string_view(data).substr(40000)));
  auto committed = writer->Commit();
  ASSERT_TRUE(committed) << committed.error().ToString();
  EXPECT_EQ(*t.store.ReadBlob(d, data.size()), data);
}

TEST(StoreBlobs, RestartDropsThePartialContent) {
  auto t = MakeTestStore();
  const Digest d = Digest::Sha256Of("complete");
  {
    auto writer = t.store.BeginBlob(d, -1);
    ASSERT_TRUE(writer->Write("garbage"));
  }
  auto writer = t.store.BeginBlob(d, -1);
  EXPECT_EQ(writer->offset(), 7U);
  ASSERT_TRUE(writer->Restart());
  ASSERT_TRUE(writer->Write("complete"));
  EXPECT_TRUE(writer->Commit());
}

TEST(StoreBlobs, DiscardRemovesThePartial) {
  auto t = MakeTestStore();
  const Digest d = Digest::Sha256Of("x");
  {
    auto writer = t.store.BeginBlob(d, -1);
    ASSERT_TRUE(writer->Write("y"));
    writer->Discard();
  }
  EXPECT_EQ(t.store.BeginBlob(d, -1)->offset(), 0U);
}

TEST(StoreBlobs, UnknownDigest) {
  auto t = MakeTestStore();
  auto writer = t.store.BeginUnknownBlob();
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->Write("conv"));
  ASSERT_TRUE(writer->Write("erted"));
  auto d = writer->Commit();
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(*d, Digest::Sha256Of("converted"));
  // The same content again: already there, nothing left behind in ingest/.
  auto again = t.store.BeginUnknownBlob();
  ASSERT_TRUE(again->Write("converted"));
  EXPECT_EQ(*again->Commit(), *d);
  EXPECT_EQ(*t.store.ReadBlob(*d, 100), "converted");
  EXPECT_TRUE(std::filesystem::is_empty(os::JoinPath(t.store.root(), "ingest")));
}

TEST(StoreBlobsConcurrency, TwoThreadsOneWrites) {
  auto t = MakeTestStore();
  const std::string data = Payload(5000);
  const Digest d = Digest::Sha256Of(data);
  auto first = t.store.BeginBlob(d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->Write(std::string_view(data).substr(0, 100)));
  std::atomic<bool> second_began = false;
  bool second_done = false;
  std::thread second([&] {
    auto writer = t.store.BeginBlob(d, static_cast<int64_t>(data.size()));
    second_began = true;
    second_done = writer && writer->done() && writer->Commit().has_value();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(second_began);  // waits on the ingest lock
  ASSERT_TRUE(first->Write(std::string_view(data).substr(100)));
  ASSERT_TRUE(first->Commit());
  BlobWriter released = std::move(*first);
  { BlobWriter gone = std::move(released); }
  second.join();
  EXPECT_TRUE(second_done);
}

TEST(StoreBlobsConcurrency, TwoProcessesOneWrites) {
  auto t = MakeTestStore();
  const std::string data = Payload(5000);
  const Digest d = Digest::Sha256Of(data);
  // Fork before taking the lock: a child inheriting our lock fd would hold the lock too.
  int go[2];
  ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c = 0;
    if (::read(go[0], &c, 1) != 1) {
      _exit(3);
    }
    auto writer = t.store.BeginBlob(d, static_cast<int64_t>(data.size()));
    _exit(writer && writer->done() ? 0 : 1);
  }
  ::close(go[0]);
  auto first = t.store.BeginBlob(d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(first);
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  ::close(go[1]);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, WNOHANG), 0);  // blocked on our lock
  ASSERT_TRUE(first->Write(data));
  ASSERT_TRUE(first->Commit());
  { BlobWriter gone = std::move(*first); }
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(StoreBlobsConcurrency, WriterKilledMidWriteLeavesAResumablePartial) {
  auto t = MakeTestStore();
  const std::string data = Payload(300000);
  const Digest d = Digest::Sha256Of(data);
  const size_t half = data.size() / 2;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto writer = t.store.BeginBlob(d, static_cast<int64_t>(data.size()));
    if (!writer || !writer->Write(std::string_view(data).substr(0, half))) {
      _exit(1);
    }
    (void)::raise(SIGKILL);
    _exit(2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  auto writer = t.store.BeginBlob(d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(writer);
  ASSERT_EQ(writer->offset(), half);
  ASSERT_TRUE(writer->Write(std::string_view(data).substr(half)));
  auto committed = writer->Commit();
  ASSERT_TRUE(committed) << committed.error().ToString();
  EXPECT_EQ(*t.store.ReadBlob(d, data.size()), data);
}

}  // namespace
}  // namespace comet::image
