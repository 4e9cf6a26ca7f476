// End-to-end: the `mounts` list (bind, rbind, ro, tmpfs, proc, sysfs, devpts, mqueue, cgroup,
// nosuid/nodev/noexec, propagation, missing destinations), rootfsPropagation, default devices
// and /dev links, linux.devices.
#include <sys/mount.h>

#include <filesystem>

#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;

nlohmann::json BindMount(const std::string& source, const std::string& destination,
                         std::vector<std::string> options) {
  return {{"destination", destination}, {"type", "bind"}, {"source", source}, {"options", options}};
}

class MountsTest : public PrivilegedRuntimeTest {
 protected:
  std::vector<MountLine> MountsIn(Bundle& bundle) {
    bundle.SetArgs({"/bin/checker", "mounts"});
    bundle.Write();
    ProcResult r = Run(bundle, NewId());
    EXPECT_TRUE(r.ok()) << r.Describe();
    return ParseMounts(r.out);
  }
  std::map<std::string, std::string> CheckIn(Bundle& bundle, const std::vector<std::string>& args) {
    bundle.SetArgs(args);
    return RunChecker(bundle);
  }
};

TEST_F(MountsTest, DefaultFilesystems) {
  Bundle& bundle = NewBundle({});
  bundle.AddMount({{"destination", "/sys/fs/cgroup"},
                   {"type", "cgroup"},
                   {"source", "cgroup"},
                   {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}});
  auto mounts = MountsIn(bundle);
  const std::pair<const char*, const char*> expected[] = {
      {"/proc", "proc"},     {"/dev", "tmpfs"},         {"/dev/pts", "devpts"},
      {"/dev/shm", "tmpfs"}, {"/dev/mqueue", "mqueue"}, {"/sys", "sysfs"}};
  for (const auto& [target, fstype] : expected) {
    const MountLine* m = FindMount(mounts, target);
    ASSERT_NE(m, nullptr) << target;
    EXPECT_EQ(m->fstype, fstype) << target;
  }
  EXPECT_TRUE(FindMount(mounts, "/sys")->HasOption("ro"));
  EXPECT_TRUE(FindMount(mounts, "/dev/shm")->HasOption("nodev"));
  EXPECT_TRUE(FindMount(mounts, "/dev/pts")->HasOption("newinstance") ||
              FindMount(mounts, "/dev/pts")->HasOption("ptmxmode=666"));
  // cgroup v1: a tmpfs with one cgroup mount per hierarchy; v2: a cgroup2 mount.
  const MountLine* cgroup = FindMount(mounts, "/sys/fs/cgroup");
  ASSERT_NE(cgroup, nullptr);
  if (cgroup->fstype == "tmpfs") {
    const MountLine* memory = FindMount(mounts, "/sys/fs/cgroup/memory");
    ASSERT_NE(memory, nullptr);
    EXPECT_EQ(memory->fstype, "cgroup");
    EXPECT_TRUE(memory->HasOption("ro"));
  } else {
    EXPECT_EQ(cgroup->fstype, "cgroup2");
  }
}

TEST_F(MountsTest, BindReadWriteAndReadOnly) {
  Bundle& bundle = NewBundle({});
  const std::string src = bundle.scratch() + "/data";
  fs::create_directories(src);
  WriteFileOrDie(src + "/hello", "hi\n");
  bundle.AddMount(BindMount(src, "/rw", {"bind"}));
  bundle.AddMount(BindMount(src, "/ro", {"bind", "ro"}));
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "stat", "/rw/hello"})["type"], "reg");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "write", "/rw/new"})["errname"], "OK");
  EXPECT_TRUE(fs::exists(src + "/new")) << "writes reach the source";
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "write", "/ro/new2"})["errname"], "EROFS");
}

TEST_F(MountsTest, RbindCarriesSubmounts) {
  Bundle& bundle = NewBundle({});
  const std::string src = bundle.scratch() + "/tree";
  fs::create_directories(src + "/sub");
  ASSERT_EQ(::mount("tmpfs", (src + "/sub").c_str(), "tmpfs", 0, "size=1m"), 0);
  bundle.AddMount(BindMount(src, "/r", {"rbind"}));
  bundle.AddMount(BindMount(src, "/b", {"bind"}));
  auto mounts = MountsIn(bundle);
  ::umount2((src + "/sub").c_str(), MNT_DETACH);
  ASSERT_NE(FindMount(mounts, "/r/sub"), nullptr) << "rbind keeps the submount";
  EXPECT_EQ(FindMount(mounts, "/r/sub")->fstype, "tmpfs");
  EXPECT_EQ(FindMount(mounts, "/b/sub"), nullptr) << "bind does not";
}

TEST_F(MountsTest, TmpfsSizeModeAndFlags) {
  Bundle& bundle = NewBundle({});
  bundle.AddMount({{"destination", "/scratch"},
                   {"type", "tmpfs"},
                   {"source", "tmpfs"},
                   {"options", {"nosuid", "nodev", "noexec", "size=1m", "mode=1770"}}});
  auto mounts = MountsIn(bundle);
  const MountLine* m = FindMount(mounts, "/scratch");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->fstype, "tmpfs");
  EXPECT_TRUE(m->HasOption("nosuid"));
  EXPECT_TRUE(m->HasOption("nodev"));
  EXPECT_TRUE(m->HasOption("noexec"));
  EXPECT_TRUE(m->HasOption("size=1024k")) << m->super_options;
  if (RuntimeName() != "runc") {  // runc 1.1 copies the mode of the directory underneath
    EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "stat", "/scratch"})["mode"], "1770");
  }
  // noexec is enforced: copying a binary there and running it fails with EACCES (126).
  bundle.SetArgs({"/bin/sh", "-c", "cp /bin/checker /scratch/c && /scratch/c pid"});
  bundle.Write();
  ProcResult r = Run(bundle, NewId());
  EXPECT_EQ(r.exit_code, 126) << r.Describe();
}

TEST_F(MountsTest, Propagation) {
  SKIP_ON_RUNTIME("crun", "crun 1.8.1 leaves an rshared bind mount private");
  Bundle& bundle = NewBundle({});
  const std::string src = bundle.scratch() + "/p";
  fs::create_directories(src);
  bundle.AddMount(BindMount(src, "/shared", {"rbind", "rshared"}));
  bundle.AddMount(BindMount(src, "/private", {"rbind", "rprivate"}));
  auto mounts = MountsIn(bundle);
  ASSERT_NE(FindMount(mounts, "/shared"), nullptr);
  EXPECT_EQ(FindMount(mounts, "/shared")->propagation.rfind("shared:", 0), 0U)
      << FindMount(mounts, "/shared")->propagation;
  ASSERT_NE(FindMount(mounts, "/private"), nullptr);
  EXPECT_EQ(FindMount(mounts, "/private")->propagation, "private");
}

TEST_F(MountsTest, MissingDestinationIsCreated) {
  Bundle& bundle = NewBundle({});
  const std::string src = bundle.scratch() + "/d";
  fs::create_directories(src);
  WriteFileOrDie(bundle.scratch() + "/file", "content\n");
  bundle.AddMount(BindMount(src, "/not/there/yet", {"bind"}));
  bundle.AddMount(BindMount(bundle.scratch() + "/file", "/etc/new-file", {"bind"}));
  bundle.AddMount({{"destination", "/new-tmpfs"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "stat", "/not/there/yet"})["type"], "dir");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "stat", "/etc/new-file"})["type"], "reg")
      << "a file is bound onto a file";
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "stat", "/new-tmpfs"})["type"], "dir");
}

TEST_F(MountsTest, RootfsPropagation) {
  SKIP_ON_RUNTIME("runc", "runc 1.1 leaves / private with rootfsPropagation shared");
  Bundle& bundle = NewBundle({});
  bundle.linux_section()["rootfsPropagation"] = "shared";
  auto shared = MountsIn(bundle);
  ASSERT_NE(FindMount(shared, "/"), nullptr);
  EXPECT_EQ(FindMount(shared, "/")->propagation.rfind("shared:", 0), 0U)
      << FindMount(shared, "/")->propagation;
  bundle.linux_section()["rootfsPropagation"] = "private";
  auto priv = MountsIn(bundle);
  ASSERT_NE(FindMount(priv, "/"), nullptr);
  EXPECT_EQ(FindMount(priv, "/")->propagation, "private");
}

TEST_F(MountsTest, DefaultDevices) {
  Bundle& bundle = NewBundle({});
  const std::pair<const char*, const char*> devices[] = {
      {"/dev/null", "1:3"},   {"/dev/zero", "1:5"},    {"/dev/full", "1:7"},
      {"/dev/random", "1:8"}, {"/dev/urandom", "1:9"}, {"/dev/tty", "5:0"}};
  for (const auto& [path, rdev] : devices) {
    auto kv = CheckIn(bundle, {"/bin/checker", "stat", path});
    EXPECT_EQ(kv["type"], "chr") << path;
    EXPECT_EQ(kv["rdev"], rdev) << path;
    EXPECT_EQ(kv["mode"], "0666") << path;
  }
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "open", "/dev/null"})["errname"], "OK");
  const std::pair<const char*, const char*> links[] = {{"/dev/fd", "/proc/self/fd"},
                                                       {"/dev/stdin", "/proc/self/fd/0"},
                                                       {"/dev/stdout", "/proc/self/fd/1"},
                                                       {"/dev/stderr", "/proc/self/fd/2"}};
  for (const auto& [path, target] : links) {
    auto kv = CheckIn(bundle, {"/bin/checker", "stat", path});
    EXPECT_EQ(kv["type"], "lnk") << path;
    EXPECT_EQ(kv["link"], target) << path;
  }
  auto ptmx = CheckIn(bundle, {"/bin/checker", "stat", "/dev/ptmx"});
  EXPECT_TRUE(ptmx["type"] == "lnk" || ptmx["rdev"] == "5:2") << "ptmx: " << ptmx["type"];
}

TEST_F(MountsTest, LinuxDevices) {
  Bundle& bundle = NewBundle({});
  bundle.linux_section()["devices"] = {{{"path", "/dev/mydev"},
                                        {"type", "c"},
                                        {"major", 1},
                                        {"minor", 7},
                                        {"fileMode", 0640},
                                        {"uid", 0},
                                        {"gid", 0}}};
  bundle.linux_section()["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 7}, {"access", "rwm"}});
  auto kv = CheckIn(bundle, {"/bin/checker", "stat", "/dev/mydev"});
  EXPECT_EQ(kv["type"], "chr");
  EXPECT_EQ(kv["rdev"], "1:7");
  EXPECT_EQ(kv["mode"], "0640");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "open", "/dev/mydev"})["errname"], "OK");
}

}  // namespace
}  // namespace comet::e2e
