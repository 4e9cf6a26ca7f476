// Tests of seccomp::CompileCached: hits give back exactly what libseccomp compiles; corrupt,
// mismatching or foreign entries and unsafe directories are never used.
#include "seccomp/filter_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "oci/default_seccomp.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::seccomp {
namespace {

oci::Seccomp DefaultProfile() {
  return oci::DefaultSeccompProfile({"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
}

oci::SeccompSyscall Rule(std::vector<std::string> names, std::string action,
                         std::optional<uint32_t> errno_ret = std::nullopt,
                         std::vector<oci::SeccompArg> args = {}) {
  return {.names = std::move(names),
          .action = std::move(action),
          .errno_ret = errno_ret,
          .args = std::move(args)};
}

oci::SeccompArg Arg(uint32_t index, std::string op, uint64_t value) {
  return {.index = index, .value = value, .value_two = 0, .op = std::move(op)};
}

// Several actions, argument conditions, a listener, flags and an extra architecture.
oci::Seccomp CustomProfile() {
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ERRNO";
  profile.default_errno_ret = 38;
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
  profile.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  profile.syscalls = {
      Rule({"read", "write", "exit_group", "no_such_syscall"}, "SCMP_ACT_ALLOW"),
      Rule({"personality"}, "SCMP_ACT_ALLOW", std::nullopt,
           {Arg(0, "SCMP_CMP_EQ", 8), Arg(0, "SCMP_CMP_EQ", 0)}),
      Rule({"mkdir"}, "SCMP_ACT_NOTIFY"),
      Rule({"kill"}, "SCMP_ACT_ERRNO", 1),
  };
  return profile;
}

void ExpectSame(const CompiledFilter& a, const CompiledFilter& b) {
  ASSERT_EQ(a.program.size(), b.program.size());
  EXPECT_EQ(std::memcmp(a.program.data(), b.program.data(), a.program.size() * sizeof(sock_filter)),
            0);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.needs_listener, b.needs_listener);
}

class FilterCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto temp = os::TempDir::Create("comet-seccomp-cache-");
    ASSERT_TRUE(temp);
    temp_.emplace(std::move(*temp));
    dir_ = temp_->path() + "/cache";
  }

  // Compiles through the cache, checks the result against a fresh compile, returns the outcome.
  CacheOutcome CompileAndCheck(const oci::Seccomp& profile) {
    CacheOutcome outcome = CacheOutcome::kDisabled;
    auto cached = CompileCached(profile, dir_, &outcome);
    auto fresh = Compile(profile);
    EXPECT_TRUE(cached && fresh);
    if (cached && fresh) {
      ExpectSame(*cached, *fresh);
    }
    return outcome;
  }

  std::string EntryPath(const oci::Seccomp& profile) const {
    return dir_ + "/" + CacheEntryName(CacheInputs(profile));
  }

  std::optional<os::TempDir> temp_;
  std::string dir_;
};

TEST_F(FilterCacheTest, MissThenHitGivesTheSameProgram) {
  for (const oci::Seccomp& profile : {DefaultProfile(), CustomProfile()}) {
    EXPECT_EQ(CompileAndCheck(profile), CacheOutcome::kMiss);
    EXPECT_EQ(CompileAndCheck(profile), CacheOutcome::kHit);
  }
  auto custom = CompileCached(CustomProfile(), dir_);
  ASSERT_TRUE(custom);
  EXPECT_TRUE(custom->needs_listener);
  struct stat st {};
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  ASSERT_EQ(::stat(EntryPath(CustomProfile()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600U);
}

TEST_F(FilterCacheTest, InputsCoverEveryField) {
  const std::string base = CacheInputs(CustomProfile());
  ASSERT_FALSE(base.empty());
  EXPECT_EQ(CacheInputs(CustomProfile()), base);
  std::vector<oci::Seccomp> variants(8, CustomProfile());
  variants[0].default_action = "SCMP_ACT_KILL";
  variants[1].default_errno_ret = 1;
  variants[2].architectures.pop_back();
  variants[3].flags.clear();
  variants[4].syscalls[0].names.pop_back();
  variants[5].syscalls[1].args[0].value = 9;
  variants[6].syscalls[3].errno_ret = 2;
  variants[7].syscalls[1].args[1].op = "SCMP_CMP_NE";
  for (const oci::Seccomp& variant : variants) {
    EXPECT_NE(CacheInputs(variant), base);
  }
  oci::Seccomp listener = CustomProfile();
  listener.listener_path = "/run/agent.sock";  // does not change the program
  EXPECT_EQ(CacheInputs(listener), base);
}

TEST_F(FilterCacheTest, CorruptOrShortEntryIsRewritten) {
  const oci::Seccomp profile = DefaultProfile();
  ASSERT_EQ(CompileAndCheck(profile), CacheOutcome::kMiss);
  const std::string entry = EntryPath(profile);
  auto bytes = os::ReadFile(entry);
  ASSERT_TRUE(bytes);
  std::string flipped = *bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
  for (const std::string& damaged :
       {flipped, bytes->substr(0, bytes->size() - 9), bytes->substr(0, 5), std::string()}) {
    ASSERT_TRUE(os::WriteFile(entry, damaged, 0600));
    EXPECT_EQ(CompileAndCheck(profile), CacheOutcome::kMiss);
    EXPECT_EQ(os::ReadFile(entry).value_or(""), *bytes);  // rewritten whole
    EXPECT_EQ(CompileAndCheck(profile), CacheOutcome::kHit);
  }
}

TEST_F(FilterCacheTest, EntryOfOtherInputsIsNotUsed) {
  // Another profile's (valid) entry under this profile's name, as a hash collision would leave.
  ASSERT_EQ(CompileAndCheck(CustomProfile()), CacheOutcome::kMiss);
  ASSERT_EQ(std::rename(EntryPath(CustomProfile()).c_str(), EntryPath(DefaultProfile()).c_str()),
            0);
  EXPECT_EQ(CompileAndCheck(DefaultProfile()), CacheOutcome::kMiss);
  EXPECT_EQ(CompileAndCheck(DefaultProfile()), CacheOutcome::kHit);
}

TEST_F(FilterCacheTest, UnsafeDirectoryIsNotUsed) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);  // others may enter
  EXPECT_EQ(CompileAndCheck(DefaultProfile()), CacheOutcome::kDisabled);
  EXPECT_FALSE(os::Exists(EntryPath(DefaultProfile())));
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  EXPECT_EQ(CompileAndCheck(DefaultProfile()), CacheOutcome::kMiss);

  // A symlink to our own good directory is refused too (the path must be the directory).
  const std::string link = temp_->path() + "/link";
  ASSERT_EQ(::symlink(dir_.c_str(), link.c_str()), 0);
  CacheOutcome outcome = CacheOutcome::kHit;
  ASSERT_TRUE(CompileCached(DefaultProfile(), link, &outcome));
  EXPECT_EQ(outcome, CacheOutcome::kDisabled);

  // A regular file where the directory should be.
  const std::string file = temp_->path() + "/file";
  ASSERT_TRUE(os::WriteFile(file, "", 0600));
  ASSERT_TRUE(CompileCached(DefaultProfile(), file, &outcome));
  EXPECT_EQ(outcome, CacheOutcome::kDisabled);

  ASSERT_TRUE(CompileCached(DefaultProfile(), "", &outcome));
  EXPECT_EQ(outcome, CacheOutcome::kDisabled);
}

TEST_F(FilterCacheTest, ForeignOwnerIsNotTrusted) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give files to another uid";
  }
  const oci::Seccomp profile = DefaultProfile();
  ASSERT_EQ(CompileAndCheck(profile), CacheOutcome::kMiss);
  // An entry of another user is not ours: not used (and replaced by ours).
  ASSERT_EQ(::chown(EntryPath(profile).c_str(), 4321, 4321), 0);
  EXPECT_EQ(CompileAndCheck(profile), CacheOutcome::kMiss);
  struct stat st {};
  ASSERT_EQ(::stat(EntryPath(profile).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0U);
  // A directory of another user is not used at all.
  ASSERT_EQ(::chown(dir_.c_str(), 4321, 4321), 0);
  EXPECT_EQ(CompileAndCheck(profile), CacheOutcome::kDisabled);
}

TEST_F(FilterCacheTest, StaysSmall) {
  oci::Seccomp profile = CustomProfile();
  for (uint32_t i = 0; i < 40; ++i) {
    profile.syscalls[3].errno_ret = 100 + i;
    ASSERT_EQ(CompileAndCheck(profile), CacheOutcome::kMiss);
  }
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_)) {
    ++entries;
  }
  EXPECT_LE(entries, 32U);
  EXPECT_GE(entries, 1U);
  EXPECT_EQ(CompileAndCheck(profile), CacheOutcome::kHit);  // the newest survives
}

}  // namespace
}  // namespace comet::seccomp
