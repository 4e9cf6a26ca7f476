#include "supervisor/etc_stub_layer.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::supervisor {
namespace {

std::set<std::string> Names(const std::string& dir) {
  auto names = os::ListDirectory(dir);
  return names ? std::set<std::string>(names->begin(), names->end()) : std::set<std::string>{};
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

TEST(EtcStubLayerTest, MakesEmptyStandInsOncePerSetOfFiles) {
  auto temp = os::TempDir::Create();
  ASSERT_TRUE(temp);
  const std::string stubs = temp->path() + "/stubs";
  auto plain = EnsureEtcStubLayer(stubs, /*resolv_conf=*/false);
  ASSERT_TRUE(plain) << plain.error().ToString();
  EXPECT_EQ(ModeOf(stubs) & 07777, 0700U);
  EXPECT_EQ(ModeOf(*plain) & 07777, 0755U);
  EXPECT_EQ(ModeOf(*plain + "/etc") & 07777, 0755U);
  EXPECT_EQ(Names(*plain + "/etc"), (std::set<std::string>{"hosts", "hostname"}));
  for (const char* name : {"hosts", "hostname"}) {
    struct stat st {};
    ASSERT_EQ(::lstat((*plain + "/etc/" + name).c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0644U);
    EXPECT_EQ(st.st_size, 0);
  }
  // With DNS settings the pod mounts resolv.conf too: another layer, the first one unchanged.
  auto dns = EnsureEtcStubLayer(stubs, /*resolv_conf=*/true);
  ASSERT_TRUE(dns);
  EXPECT_NE(*dns, *plain);
  EXPECT_EQ(Names(*dns + "/etc"), (std::set<std::string>{"hosts", "hostname", "resolv.conf"}));
  EXPECT_EQ(Names(*plain + "/etc"), (std::set<std::string>{"hosts", "hostname"}));
  // Taken as it is the next time; nothing left aside.
  auto again = EnsureEtcStubLayer(stubs, false);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *plain);
  EXPECT_EQ(Names(stubs).size(), 2U);
}

// What a crash left half-made is removed when a layer is made next, unless it may be another
// process's layer being made (younger than a minute).
TEST(EtcStubLayerTest, RemovesStaleHalfMadeLayers) {
  auto temp = os::TempDir::Create();
  ASSERT_TRUE(temp);
  const std::string stubs = temp->path() + "/stubs";
  ASSERT_EQ(::mkdir(stubs.c_str(), 0700), 0);
  ASSERT_TRUE(os::MkdirAll(stubs + "/.new-old/etc"));
  ASSERT_TRUE(os::MkdirAll(stubs + "/.new-young/etc"));
  const struct timeval old_times[2] = {{.tv_sec = 1000, .tv_usec = 0},
                                       {.tv_sec = 1000, .tv_usec = 0}};
  ASSERT_EQ(::utimes((stubs + "/.new-old").c_str(), old_times), 0);
  auto layer = EnsureEtcStubLayer(stubs, false);
  ASSERT_TRUE(layer) << layer.error().ToString();
  EXPECT_EQ(Names(stubs), (std::set<std::string>{".new-young", "etc-hosts-hostname"}));
}

TEST(EtcStubLayerTest, RefusesWhatOthersMayWriteOrASymlink) {
  auto temp = os::TempDir::Create();
  ASSERT_TRUE(temp);
  const std::string stubs = temp->path() + "/stubs";
  ASSERT_EQ(::mkdir(stubs.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(stubs.c_str(), 0777), 0);
  auto open_dir = EnsureEtcStubLayer(stubs, false);
  ASSERT_FALSE(open_dir);
  EXPECT_EQ(open_dir.error().code(), EPERM);
  EXPECT_NE(open_dir.error().ToString().find(stubs), std::string::npos);
  EXPECT_TRUE(Names(stubs).empty());  // nothing made in it

  ASSERT_EQ(::chmod(stubs.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(temp->path().c_str(), (stubs + "/etc-hosts-hostname").c_str()), 0);
  auto link = EnsureEtcStubLayer(stubs, false);
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().code(), EPERM);

  const std::string elsewhere = temp->path() + "/elsewhere";
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0700), 0);
  const std::string linked = temp->path() + "/linked-stubs";
  ASSERT_EQ(::symlink(elsewhere.c_str(), linked.c_str()), 0);
  auto linked_dir = EnsureEtcStubLayer(linked, false);
  ASSERT_FALSE(linked_dir);
  EXPECT_TRUE(Names(elsewhere).empty());
}

}  // namespace
}  // namespace comet::supervisor
