// cgroup v2 manager against a fake unified tree (this machine's unified mount has no
// controllers; the real-kernel v2 paths are in privileged_test.cc).
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include <gtest/gtest.h>

#include "cgroup/fake_tree.h"
#include "cgroup/manager.h"
#include "os/temp_dir.h"
#include "testing/in_child.h"

namespace comet::cgroup {
namespace {

using testing::MakeGroup;
using testing::Read;

const std::map<std::string, std::string> kLeafFiles = {
    {"cgroup.procs", ""},         {"cgroup.freeze", "0"},
    {"cgroup.kill", ""},          {"cgroup.events", "populated 0\nfrozen 0\n"},
    {"memory.max", "max"},        {"memory.low", "0"},
    {"memory.swap.max", "max"},   {"cpu.weight", "100"},
    {"cpu.max", "max 100000"},    {"cpu.idle", "0"},
    {"cpuset.cpus", ""},          {"cpuset.mems", ""},
    {"pids.max", "max"},          {"hugetlb.2MB.max", "max"},
    {"io.weight", "default 100"}, {"io.max", ""},
    {"memory.high", "max"}};

class V2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-cgv2-");
    ASSERT_TRUE(dir);
    tmp_ = std::move(*dir);
    root_ = tmp_.path();
    layout_.version = Version::kV2;
    layout_.unified_root = root_;
    layout_.self_paths[""] = "/user/me";
    const std::map<std::string, std::string> parent = {
        {"cgroup.controllers", "cpuset cpu io memory hugetlb pids\n"},
        {"cgroup.subtree_control", "memory\n"}};
    MakeGroup(root_, parent);
    MakeGroup(root_ + "/user", parent);
    MakeGroup(root_ + "/user/me", parent);
    MakeGroup(root_ + "/user/me/pod", parent);
    MakeGroup(root_ + "/user/me/pod/ctr", kLeafFiles);
  }

  std::unique_ptr<Manager> CreateCtr() {
    auto m = Manager::Create(layout_, "pod/ctr", "ctr");
    EXPECT_TRUE(m) << m.error().ToString();
    return m ? std::move(*m) : nullptr;
  }

  os::TempDir tmp_ = std::move(*os::TempDir::Create());
  std::string root_;
  Layout layout_;
};

TEST_F(V2Test, CreateResolvesRelativeToOwnGroupAndEnablesControllers) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  std::string leaf = root_ + "/user/me/pod/ctr";
  EXPECT_EQ(m->Paths(), (std::map<std::string, std::string>{{"", leaf}}));
  for (const std::string& d :
       {root_, root_ + "/user", root_ + "/user/me", root_ + "/user/me/pod"}) {
    EXPECT_EQ(Read(d, "cgroup.subtree_control"), "+cpu +cpuset +hugetlb +io +pids") << d;
  }
  EXPECT_EQ(Read(leaf, "cgroup.subtree_control"), "<missing>");
}

TEST_F(V2Test, EmptyPathUsesIdBelowOwnGroup) {
  auto m = Manager::Create(layout_, "", "abc");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)->Paths().at(""), root_ + "/user/me/abc");
}

TEST_F(V2Test, NoSelfJoinFiles) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  // cgroup.procs takes the global lock whoever writes it: the runtime adds the process itself.
  auto files = m->OpenSelfJoinFiles();
  ASSERT_TRUE(files);
  EXPECT_TRUE(files->empty());
}

TEST_F(V2Test, ApplyWritesEveryResource) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 64 << 20;
  r.memory->reservation = 32 << 20;
  r.memory->swap = 96 << 20;
  r.cpu = oci::CpuResources{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 200000;
  r.cpu->idle = 1;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids = oci::PidsResources{100};
  r.hugepage_limits.push_back({"2MB", 4 << 20});
  r.block_io = oci::BlockIoResources{};
  r.block_io->weight = 500;
  r.block_io->throttle_read_bps_device.push_back({8, 0, 1048576});
  r.unified["memory.high"] = "50M";
  ASSERT_TRUE(m->Apply(r));
  std::string leaf = m->Paths().at("");
  EXPECT_EQ(Read(leaf, "memory.max"), "67108864");
  EXPECT_EQ(Read(leaf, "memory.low"), "33554432");
  EXPECT_EQ(Read(leaf, "memory.swap.max"), "33554432");  // swap = memory+swap - memory
  EXPECT_EQ(Read(leaf, "cpu.weight"), "39");             // 1 + (1022 * 9999) / 262142
  EXPECT_EQ(Read(leaf, "cpu.max"), "50000 200000");
  EXPECT_EQ(Read(leaf, "cpu.idle"), "1");
  EXPECT_EQ(Read(leaf, "cpuset.cpus"), "0-1");
  EXPECT_EQ(Read(leaf, "cpuset.mems"), "0");
  EXPECT_EQ(Read(leaf, "pids.max"), "100");
  EXPECT_EQ(Read(leaf, "hugetlb.2MB.max"), "4194304");
  EXPECT_EQ(Read(leaf, "io.weight"), "4950");  // 1 + (500 - 10) * 9999 / 990
  EXPECT_EQ(Read(leaf, "io.max"), "8:0 rbps=1048576");
  EXPECT_EQ(Read(leaf, "memory.high"), "50M");
}

TEST_F(V2Test, UnlimitedValues) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = -1;
  r.memory->swap = -1;
  r.cpu = oci::CpuResources{};
  r.cpu->quota = -1;
  r.cpu->shares = 2;
  r.pids = oci::PidsResources{0};
  ASSERT_TRUE(m->Apply(r));
  std::string leaf = m->Paths().at("");
  EXPECT_EQ(Read(leaf, "memory.max"), "max");
  EXPECT_EQ(Read(leaf, "memory.swap.max"), "max");
  EXPECT_EQ(Read(leaf, "cpu.max"), "max 100000");
  EXPECT_EQ(Read(leaf, "cpu.weight"), "1");
  EXPECT_EQ(Read(leaf, "pids.max"), "max");
}

TEST_F(V2Test, RejectsBadInput) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  oci::Resources swap_below;
  swap_below.memory = oci::MemoryResources{};
  swap_below.memory->limit = 100;
  swap_below.memory->swap = 50;
  EXPECT_FALSE(m->Apply(swap_below));
  for (const char* key : {"../cgroup.procs", "a/b", "..", ""}) {
    oci::Resources r;
    r.unified[key] = "1";
    auto st = m->Apply(r);
    ASSERT_FALSE(st) << key;
    EXPECT_NE(st.error().ToString().find("is not a file name"), std::string::npos);
  }
  oci::Resources missing;
  missing.unified["memory.nonexistent"] = "1";
  auto st = m->Apply(missing);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("setting memory.nonexistent to \"1\""), std::string::npos);
  oci::Resources huge;
  huge.hugepage_limits.push_back({"../2MB", 1});
  EXPECT_FALSE(m->Apply(huge));
  oci::Resources rt;
  rt.cpu = oci::CpuResources{};
  rt.cpu->realtime_runtime = 1000;
  EXPECT_FALSE(m->Apply(rt));
}

TEST_F(V2Test, FreezeThawKill) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  std::string leaf = m->Paths().at("");
  MakeGroup(leaf, {{"cgroup.events", "populated 1\nfrozen 1\n"}});  // what the kernel would say
  ASSERT_TRUE(m->Freeze());
  EXPECT_EQ(Read(leaf, "cgroup.freeze"), "1");
  EXPECT_TRUE(*m->IsFrozen());
  ASSERT_TRUE(m->Thaw());
  EXPECT_EQ(Read(leaf, "cgroup.freeze"), "0");
  MakeGroup(leaf, {{"cgroup.events", "populated 1\nfrozen 0\n"}});
  EXPECT_FALSE(*m->IsFrozen());
  ASSERT_TRUE(m->KillAll(SIGKILL));
  EXPECT_EQ(Read(leaf, "cgroup.kill"), "1");
}

TEST_F(V2Test, CreateLeavesNothingOnFailure) {
  // The last mkdir fails (ENAMETOOLONG) after two new levels were made: both go away.
  auto m = Manager::Create(layout_, "fresh/sub/" + std::string(300, 'x'), "id");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ENAMETOOLONG);
  EXPECT_FALSE(os::Exists(root_ + "/user/me/fresh"));
  EXPECT_TRUE(os::Exists(root_ + "/user/me"));
}

TEST_F(V2Test, OpenRoundTrip) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  auto again = Manager::Open(layout_, m->Paths());
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->Paths(), m->Paths());
  EXPECT_FALSE(Manager::Open(layout_, {{"memory", "/x"}}));
  layout_.version = Version::kV1;
  EXPECT_FALSE(Manager::Open(layout_, m->Paths()));
}

TEST_F(V2Test, CanWriteFollowsPermissions) {
  if (!comet::testing::IsRoot()) {
    GTEST_SKIP() << "needs root to switch users";
  }
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
  std::string own = root_ + "/user/me";
  auto as_nobody = [&] {
    auto outcome = comet::testing::RunInChild([&] {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
        return 2;
      }
      return CanWrite(layout_, "pod/new", "id") ? 1 : 0;
    });
    return outcome.exit_code;
  };
  EXPECT_EQ(as_nobody(), 0);
  ASSERT_EQ(::chown((own + "/pod").c_str(), 65534, 65534), 0);  // a delegated subtree
  EXPECT_EQ(as_nobody(), 1);
  EXPECT_TRUE(CanWrite(layout_, "pod/new", "id"));
  EXPECT_FALSE(CanWrite(layout_, "../escape", "id"));
}

}  // namespace
}  // namespace comet::cgroup
