// cgroup v1 manager against a fake tree of per-controller hierarchies (the real hierarchy is
// exercised in privileged_test.cc).

#include <csignal>
#include <set>

#include <gtest/gtest.h>

#include "cgroup/devices.h"
#include "cgroup/fake_tree.h"
#include "cgroup/manager.h"
#include "os/temp_dir.h"

namespace comet::cgroup {
namespace {

using testing::MakeGroup;
using testing::Read;

const std::map<std::string, std::map<std::string, std::string>> kFiles = {
    {"cpu,cpuacct",
     {{"cpu.shares", "1024"},
      {"cpu.cfs_quota_us", "-1"},
      {"cpu.cfs_period_us", "100000"},
      {"cpu.rt_runtime_us", "0"},
      {"cpu.rt_period_us", "1000000"},
      {"cpu.idle", "0"}}},
    {"cpuset", {{"cpuset.cpus", ""}, {"cpuset.mems", ""}}},
    {"memory",
     {{"memory.limit_in_bytes", ""},
      {"memory.soft_limit_in_bytes", ""},
      {"memory.memsw.limit_in_bytes", ""},
      {"memory.swappiness", "60"},
      {"memory.oom_control", "0"}}},
    {"devices", {{"devices.allow", ""}, {"devices.deny", ""}}},
    {"freezer", {{"freezer.state", "THAWED"}}},
    {"blkio",
     {{"blkio.bfq.weight", "100"},
      {"blkio.throttle.read_bps_device", ""},
      {"blkio.throttle.write_iops_device", ""}}},
    {"pids", {{"pids.max", "max"}}},
    {"hugetlb", {{"hugetlb.2MB.limit_in_bytes", ""}}},
    {"net_cls,net_prio", {{"net_cls.classid", "0"}, {"net_prio.ifpriomap", ""}}},
    {"systemd", {}},
};

class V1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-cgv1-");
    ASSERT_TRUE(dir);
    tmp_ = std::move(*dir);
    layout_.version = Version::kV1;
    layout_.unified_root = tmp_.path() + "/unified";
    for (const auto& [mount, files] : kFiles) {
      std::string root = tmp_.path() + "/" + mount;
      std::map<std::string, std::string> with_procs = files;
      with_procs["cgroup.procs"] = "";
      MakeGroup(root, with_procs);
      // The caller's memory group is nested, the others are at the root (as on this machine).
      std::string leaf = mount == "memory" ? root + "/nested/pod/ctr" : root + "/pod/ctr";
      MakeGroup(mount == "memory" ? root + "/nested/pod" : root + "/pod", with_procs);
      MakeGroup(leaf, with_procs);
    }
    MakeGroup(tmp_.path() + "/cpuset", {{"cpuset.cpus", "0-3\n"}, {"cpuset.mems", "0\n"}});
    for (const char* c : {"cpu", "cpuacct"}) {
      layout_.v1_roots[c] = tmp_.path() + "/cpu,cpuacct";
    }
    for (const char* c : {"net_cls", "net_prio"}) {
      layout_.v1_roots[c] = tmp_.path() + "/net_cls,net_prio";
    }
    for (const char* c : {"cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb"}) {
      layout_.v1_roots[c] = tmp_.path() + "/" + std::string(c);
    }
    layout_.v1_roots["name=systemd"] = tmp_.path() + "/systemd";
    for (const auto& [c, root] : layout_.v1_roots) {
      layout_.self_paths[c] = "/";
    }
    layout_.self_paths["memory"] = "/nested";
  }

  std::unique_ptr<Manager> CreateCtr() {
    auto m = Manager::Create(layout_, "pod/ctr", "ctr");
    EXPECT_TRUE(m) << m.error().ToString();
    return m ? std::move(*m) : nullptr;
  }
  std::string Leaf(const std::string& controller) {
    return layout_.v1_roots.at(controller) + (controller == "memory" ? "/nested" : "") + "/pod/ctr";
  }

  os::TempDir tmp_ = std::move(*os::TempDir::Create());
  Layout layout_;
};

TEST_F(V1Test, CreateResolvesPerHierarchyAndFillsCpuset) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  auto paths = m->Paths();
  EXPECT_EQ(paths.size(), layout_.v1_roots.size());
  for (const auto& [c, root] : layout_.v1_roots) {
    EXPECT_EQ(paths.at(c), Leaf(c)) << c;
  }
  EXPECT_EQ(paths.at("cpu"), paths.at("cpuacct"));
  // Each new cpuset level got its parent's cpus and mems.
  EXPECT_EQ(Read(tmp_.path() + "/cpuset/pod", "cpuset.cpus"), "0-3");
  EXPECT_EQ(Read(Leaf("cpuset"), "cpuset.cpus"), "0-3");
  EXPECT_EQ(Read(Leaf("cpuset"), "cpuset.mems"), "0");
}

TEST_F(V1Test, SelfJoinFilesAreEachHierarchysTasksOnce) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  std::set<std::string> dirs;
  for (const auto& [controller, dir] : m->Paths()) {
    dirs.insert(dir);
    MakeGroup(dir, {{"tasks", ""}});
  }
  auto files = m->OpenSelfJoinFiles();
  ASSERT_TRUE(files) << files.error().ToString();
  std::set<std::string> paths;
  for (const SelfJoinFile& file : *files) {
    EXPECT_TRUE(file.fd);
    paths.insert(file.path);
  }
  EXPECT_EQ(files->size(), dirs.size());  // cpu and cpuacct share one
  for (const std::string& dir : dirs) {
    EXPECT_TRUE(paths.count(dir + "/tasks")) << dir;
  }
}

TEST_F(V1Test, NoSelfJoinWithoutTasksFiles) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  // The fake tree has no `tasks`: the runtime falls back to AddProcess.
  auto files = m->OpenSelfJoinFiles();
  ASSERT_TRUE(files) << files.error().ToString();
  EXPECT_TRUE(files->empty());
}

TEST_F(V1Test, ApplyWritesEveryResource) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 64 << 20;
  r.memory->reservation = 32 << 20;
  r.memory->swap = 128 << 20;
  r.memory->swappiness = 10;
  r.memory->disable_oom_killer = true;
  r.memory->kernel = 1 << 20;  // ignored
  r.cpu = oci::CpuResources{};
  r.cpu->shares = 512;
  r.cpu->quota = 20000;
  r.cpu->period = 50000;
  r.cpu->realtime_period = 1000000;
  r.cpu->realtime_runtime = 950000;
  r.cpu->cpus = "1";
  r.cpu->mems = "0";
  r.pids = oci::PidsResources{64};
  r.devices.push_back({false, "", std::nullopt, std::nullopt, "rwm"});
  r.devices.push_back({true, "c", 1, 3, "rw"});
  r.hugepage_limits.push_back({"2MB", 2 << 20});
  r.block_io = oci::BlockIoResources{};
  r.block_io->weight = 300;
  r.block_io->throttle_read_bps_device.push_back({8, 0, 4096});
  r.block_io->throttle_write_iops_device.push_back({8, 16, 50});
  r.network = oci::NetworkResources{};
  r.network->class_id = 0x100001;
  r.network->priorities.emplace_back("eth0", 5);
  auto st = m->Apply(r);
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(Read(Leaf("memory"), "memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(Read(Leaf("memory"), "memory.soft_limit_in_bytes"), "33554432");
  EXPECT_EQ(Read(Leaf("memory"), "memory.memsw.limit_in_bytes"), "134217728");
  EXPECT_EQ(Read(Leaf("memory"), "memory.swappiness"), "10");
  EXPECT_EQ(Read(Leaf("memory"), "memory.oom_control"), "1");
  EXPECT_EQ(Read(Leaf("cpu"), "cpu.shares"), "512");
  EXPECT_EQ(Read(Leaf("cpu"), "cpu.cfs_quota_us"), "20000");
  EXPECT_EQ(Read(Leaf("cpu"), "cpu.cfs_period_us"), "50000");
  EXPECT_EQ(Read(Leaf("cpu"), "cpu.rt_period_us"), "1000000");
  EXPECT_EQ(Read(Leaf("cpu"), "cpu.rt_runtime_us"), "950000");
  EXPECT_EQ(Read(Leaf("cpuset"), "cpuset.cpus"), "1");
  EXPECT_EQ(Read(Leaf("cpuset"), "cpuset.mems"), "0");
  EXPECT_EQ(Read(Leaf("pids"), "pids.max"), "64");
  EXPECT_EQ(Read(Leaf("devices"), "devices.deny"), "a");  // the last deny written
  EXPECT_EQ(Read(Leaf("devices"), "devices.allow"), "c 1:3 rw");
  EXPECT_EQ(Read(Leaf("hugetlb"), "hugetlb.2MB.limit_in_bytes"), "2097152");
  EXPECT_EQ(Read(Leaf("blkio"), "blkio.bfq.weight"), "300");
  EXPECT_EQ(Read(Leaf("blkio"), "blkio.throttle.read_bps_device"), "8:0 4096");
  EXPECT_EQ(Read(Leaf("blkio"), "blkio.throttle.write_iops_device"), "8:16 50");
  EXPECT_EQ(Read(Leaf("net_cls"), "net_cls.classid"), "1048577");
  EXPECT_EQ(Read(Leaf("net_prio"), "net_prio.ifpriomap"), "eth0 5");
}

TEST_F(V1Test, UnlimitedValuesAndMissingSwapAccounting) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  ASSERT_EQ(::unlink((Leaf("memory") + "/memory.memsw.limit_in_bytes").c_str()), 0);
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = -1;
  r.memory->swap = 1 << 30;  // skipped with a warning: no swap accounting
  r.cpu = oci::CpuResources{};
  r.cpu->quota = -1;
  r.pids = oci::PidsResources{-1};
  auto st = m->Apply(r);
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(Read(Leaf("memory"), "memory.limit_in_bytes"), "-1");
  EXPECT_EQ(Read(Leaf("cpu"), "cpu.cfs_quota_us"), "-1");
  EXPECT_EQ(Read(Leaf("pids"), "pids.max"), "max");
}

TEST_F(V1Test, UnifiedNeedsV2) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  oci::Resources r;
  r.unified["memory.high"] = "1G";
  auto st = m->Apply(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(), "linux.resources.unified requires cgroup v2");
}

TEST_F(V1Test, MissingControllerIsNamed) {
  layout_.v1_roots.erase("hugetlb");
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  oci::Resources r;
  r.hugepage_limits.push_back({"2MB", 1});
  auto st = m->Apply(r);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("hugetlb is not mounted"), std::string::npos);
}

TEST_F(V1Test, CreateLeavesNothingOnFailure) {
  // The cpuset parent lacks cpus: filling the new group fails after every other hierarchy
  // (those sorted before "cpuset") got its new directories.
  ASSERT_EQ(::unlink((tmp_.path() + "/cpuset/cpuset.cpus").c_str()), 0);
  auto m = Manager::Create(layout_, "/fresh/ctr", "id");
  ASSERT_FALSE(m);
  for (const auto& [c, root] : layout_.v1_roots) {
    EXPECT_FALSE(os::Exists(root + "/fresh")) << c;
  }
}

TEST_F(V1Test, FreezeThawAndPids) {
  auto m = CreateCtr();
  ASSERT_TRUE(m);
  // The fake freezer.state reads back what was written: FROZEN at once.
  ASSERT_TRUE(m->Freeze());
  EXPECT_TRUE(*m->IsFrozen());
  ASSERT_TRUE(m->Thaw());
  EXPECT_FALSE(*m->IsFrozen());
  MakeGroup(Leaf("freezer"), {{"cgroup.procs", "5\n"}});
  MakeGroup(Leaf("freezer") + "/sub", {{"cgroup.procs", "9\n"}});
  EXPECT_EQ(*m->Pids(), (std::vector<pid_t>{5, 9}));
}

TEST(V1DeviceWritesTest, StartsWithDenyAllAndKeepsOrder) {
  std::vector<oci::DeviceCgroup> rules = {
      {false, "a", std::nullopt, std::nullopt, "rwm"},
      {true, "c", 1, 3, "rwm"},
      {true, "c", 136, std::nullopt, "rw"},
      {true, "a", 5, 1, "r"},
      {false, "b", 8, 0, "w"},
      {true, "", std::nullopt, std::nullopt, "m"},
      {true, "a", std::nullopt, std::nullopt, ""},
  };
  auto writes = V1DeviceWrites(rules);
  ASSERT_TRUE(writes);
  std::vector<std::string> got;
  for (const auto& w : *writes) {
    got.push_back(std::string(w.allow ? "allow " : "deny ") + w.line);
  }
  EXPECT_EQ(got,
            (std::vector<std::string>{"deny a", "deny a", "allow c 1:3 rwm", "allow c 136:* rw",
                                      "allow c 5:1 r", "allow b 5:1 r", "deny b 8:0 w",
                                      "allow c *:* m", "allow b *:* m", "allow a"}));
  EXPECT_FALSE(V1DeviceWrites({{true, "x", 1, 1, "r"}}));
  EXPECT_FALSE(V1DeviceWrites({{true, "c", 1, 1, "rx"}}));
}

}  // namespace
}  // namespace comet::cgroup
