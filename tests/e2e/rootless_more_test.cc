// End-to-end, rootless (run by tests/e2e/run-rootless.sh as an unprivileged user): the process
// section, mounts, devices, masked/read-only paths, seccomp, hooks, cgroups without delegation
// and bad input, in containers whose user namespace maps root to the caller's own uid and gid.
// Not thread-safe.
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>
#include <utility>

#include "e2e/fixture.h"
#include "e2e/hook_log.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;

class RootlessConfig : public RuntimeTest {
 protected:
  void SetUp() override {
    if (::geteuid() == 0) {
      GTEST_SKIP() << "run as an unprivileged user, through tests/e2e/run-rootless.sh";
    }
    RuntimeTest::SetUp();
  }
  Bundle& RootlessBundle(const std::vector<std::string>& args = {}) {
    return NewBundle(args, {.rootless = true});
  }
  std::map<std::string, std::string> CheckIn(Bundle& bundle, const std::vector<std::string>& args) {
    bundle.SetArgs(args);
    return RunChecker(bundle);
  }
  std::vector<MountLine> MountsIn(Bundle& bundle) {
    bundle.SetArgs({"/bin/checker", "mounts"});
    bundle.Write();
    ProcResult r = Run(bundle, NewId());
    EXPECT_TRUE(r.ok()) << r.Describe();
    return ParseMounts(r.out);
  }
};

nlohmann::json BindMount(const std::string& source, const std::string& destination,
                         const std::vector<std::string>& options) {
  return {{"destination", destination}, {"type", "bind"}, {"source", source}, {"options", options}};
}

// --- process ---

TEST_F(RootlessConfig, ArgsEnvCwdUmask) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "env"});
  bundle.process()["env"].push_back("FOO=bar baz");
  bundle.process()["cwd"] = "/tmp";
  auto env = RunChecker(bundle);
  EXPECT_EQ(env["FOO"], "bar baz");
  EXPECT_EQ(env["HOME"], "/root");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "cwd"})["cwd"], "/tmp");
  bundle.process()["user"]["umask"] = 077;
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "ids"})["umask"], "0077");
  bundle.process()["user"]["umask"] = 027;
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "ids"})["umask"], "0027");
}

TEST_F(RootlessConfig, RlimitsLowered) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "rlimits"});
  bundle.process()["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 256}, {"hard", 512}},
                                 {{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 0}}};
  auto kv = RunChecker(bundle);
  EXPECT_EQ(kv["RLIMIT_NOFILE"], "256:512");
  EXPECT_EQ(kv["RLIMIT_CORE"], "0:0");
}

TEST_F(RootlessConfig, NoNewPrivileges) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "nnp"});
  bundle.process()["noNewPrivileges"] = true;
  EXPECT_EQ(RunChecker(bundle)["NoNewPrivs"], "1");
  bundle.process()["noNewPrivileges"] = false;
  EXPECT_EQ(RunChecker(bundle)["NoNewPrivs"], "0");
}

TEST_F(RootlessConfig, CapabilitySubsetKeptOthersDropped) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "caps"});
  nlohmann::json caps = {"CAP_KILL", "CAP_SYS_CHROOT"};  // bits 5 and 18
  bundle.process()["capabilities"] = {
      {"bounding", caps}, {"permitted", caps}, {"effective", caps}, {"inheritable", caps}};
  auto kv = RunChecker(bundle);
  EXPECT_EQ(kv["CapBnd"], "0000000000040020");
  EXPECT_EQ(kv["CapPrm"], "0000000000040020");
  EXPECT_EQ(kv["CapEff"], "0000000000040020");
  EXPECT_EQ(kv["CapInh"], "0000000000040020");
  EXPECT_EQ(kv["CapAmb"], "0000000000000000");
  // Kept: chroot works (in the user namespace); dropped: it fails.
  bundle.SetArgs({"/bin/busybox", "chroot", "/", "/bin/true"});
  bundle.Write();
  ProcResult kept = Run(bundle, NewId());
  EXPECT_EQ(kept.exit_code, 0) << kept.Describe();
  caps = {"CAP_KILL"};
  bundle.process()["capabilities"] = {
      {"bounding", caps}, {"permitted", caps}, {"effective", caps}, {"inheritable", caps}};
  bundle.Write();
  ProcResult dropped = Run(bundle, NewId());
  EXPECT_NE(dropped.exit_code, 0) << "chroot without CAP_SYS_CHROOT\n" << dropped.Describe();
}

TEST_F(RootlessConfig, OomScoreAdjRaised) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "oom"});
  bundle.process()["oomScoreAdj"] = 500;
  EXPECT_EQ(RunChecker(bundle)["oom_score_adj"], "500");
}

TEST_F(RootlessConfig, HostnameAndDomainname) {
  SKIP_ON_RUNTIME("runc", "runc 1.1 does not set domainname");
  Bundle& bundle = RootlessBundle({"/bin/checker", "hostname"});
  bundle.config()["hostname"] = "rootless-box";
  bundle.config()["domainname"] = "rootless.test";
  auto kv = RunChecker(bundle);
  EXPECT_EQ(kv["hostname"], "rootless-box");
  EXPECT_EQ(kv["domainname"], "rootless.test");
}

TEST_F(RootlessConfig, PersonalityLinux32) {
  SKIP_ON_RUNTIME("runc", "runc 1.1 does not support linux.personality");
  Bundle& bundle = RootlessBundle({"/bin/checker", "personality"});
  bundle.linux_section()["personality"] = {{"domain", "LINUX32"}};
  auto kv = RunChecker(bundle);
  EXPECT_EQ(kv["machine"], "i686");
  EXPECT_EQ(kv["personality"], "0x8");
}

// --- seccomp ---

TEST_F(RootlessConfig, SeccompErrno) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "seccomp", "mkdir"});
  bundle.linux_section()["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}},
      {"syscalls",
       {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 13}}}}};
  EXPECT_EQ(RunChecker(bundle)["errname"], "EACCES");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "seccomp", "getcwd"})["errname"], "OK");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "nnp"})["Seccomp"], "2");
}

TEST_F(RootlessConfig, SeccompKill) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "seccomp", "getcwd"});
  bundle.linux_section()["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}}}};
  bundle.Write();
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_EQ(r.exit_code, 128 + 31) << "killed by SIGSYS\n" << r.Describe();
  ExpectNothingLeft(id, bundle);
}

// --- mounts ---

TEST_F(RootlessConfig, DefaultFilesystems) {
  Bundle& bundle = RootlessBundle();
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
  EXPECT_TRUE(FindMount(mounts, "/dev/mqueue")->HasOption("noexec"));
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "stat", "/proc/self/status"})["type"], "reg");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "pid"})["pid"], "1") << "proc of the new pid ns";
}

// sysfs cannot be mounted without a network namespace of our own: the runtime must fall back to
// a read-only rbind of the host's /sys.
TEST_F(RootlessConfig, SysfsFallsBackToRbind) {
  SKIP_ON_RUNTIME("runc", "runc 1.1 fails the ro sysfs mount with EPERM, without a fallback");
  Bundle& bundle = RootlessBundle();
  for (auto& m : bundle.config()["mounts"]) {
    if (m["destination"] == "/sys") {
      m = {{"destination", "/sys"},
           {"type", "sysfs"},
           {"source", "sysfs"},
           {"options", {"nosuid", "noexec", "nodev", "ro"}}};
    }
  }
  auto mounts = MountsIn(bundle);
  const MountLine* sys = FindMount(mounts, "/sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->fstype, "sysfs");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "stat", "/sys/kernel"})["type"], "dir");
  SKIP_ON_RUNTIME("crun", "crun 1.8 drops ro from the rbind fallback");
  EXPECT_TRUE(sys->HasOption("ro")) << "the fallback keeps the mount's options";
}

TEST_F(RootlessConfig, TmpfsSizeModeAndFlags) {
  Bundle& bundle = RootlessBundle();
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
  bundle.SetArgs({"/bin/sh", "-c", "cp /bin/checker /scratch/c && /scratch/c pid"});
  bundle.Write();
  ProcResult r = Run(bundle, NewId());
  EXPECT_EQ(r.exit_code, 126) << "noexec is enforced\n" << r.Describe();
}

TEST_F(RootlessConfig, BindOfOwnDirReadWriteAndReadOnly) {
  Bundle& bundle = RootlessBundle();
  const std::string src = bundle.scratch() + "/data";
  fs::create_directories(src);
  WriteFileOrDie(src + "/hello", "hi\n");
  bundle.AddMount(BindMount(src, "/rw", {"bind"}));
  bundle.AddMount(BindMount(src, "/ro", {"bind", "ro"}));
  bundle.AddMount(BindMount(src, "/locked", {"rbind", "nosuid", "nodev", "noexec"}));
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "stat", "/rw/hello"})["type"], "reg");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "write", "/rw/new"})["errname"], "OK");
  EXPECT_TRUE(fs::exists(src + "/new")) << "writes reach the source";
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "write", "/ro/new2"})["errname"], "EROFS");
  EXPECT_FALSE(fs::exists(src + "/new2"));
  auto mounts = MountsIn(bundle);
  const MountLine* locked = FindMount(mounts, "/locked");
  ASSERT_NE(locked, nullptr);
  EXPECT_TRUE(locked->HasOption("nosuid"));
  EXPECT_TRUE(locked->HasOption("nodev"));
  EXPECT_TRUE(locked->HasOption("noexec"));
  ASSERT_NE(FindMount(mounts, "/ro"), nullptr);
  EXPECT_TRUE(FindMount(mounts, "/ro")->HasOption("ro"));
}

TEST_F(RootlessConfig, FileBind) {
  Bundle& bundle = RootlessBundle({"/bin/cat", "/etc/bound-file"});
  WriteFileOrDie(bundle.scratch() + "/file", "file content\n");
  bundle.AddMount(BindMount(bundle.scratch() + "/file", "/etc/bound-file", {"bind", "ro"}));
  bundle.Write();
  ProcResult r = Run(bundle, NewId());
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.out, "file content\n");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "stat", "/etc/bound-file"})["type"], "reg");
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "write", "/etc/bound-file"})["errname"], "EROFS");
}

// Without CAP_MKNOD on the host, the default devices are bind mounts of the host's nodes.
TEST_F(RootlessConfig, DefaultDevicesAndLinks) {
  Bundle& bundle = RootlessBundle();
  const std::pair<const char*, const char*> devices[] = {
      {"/dev/null", "1:3"},   {"/dev/zero", "1:5"},    {"/dev/full", "1:7"},
      {"/dev/random", "1:8"}, {"/dev/urandom", "1:9"}, {"/dev/tty", "5:0"}};
  for (const auto& [path, rdev] : devices) {
    auto kv = CheckIn(bundle, {"/bin/checker", "stat", path});
    EXPECT_EQ(kv["type"], "chr") << path;
    EXPECT_EQ(kv["rdev"], rdev) << path;
  }
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "open", "/dev/null"})["errname"], "OK");
  bundle.SetArgs({"/bin/sh", "-c", "echo discarded > /dev/null && head -c 4 /dev/zero | wc -c"});
  bundle.Write();
  ProcResult r = Run(bundle, NewId());
  ASSERT_TRUE(r.ok()) << r.Describe();
  std::string count = r.out;
  count.erase(0, count.find_first_not_of(' '));
  EXPECT_EQ(count, "4\n") << "/dev/null takes writes, /dev/zero gives zeros";
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

// --- masked and read-only paths ---

TEST_F(RootlessConfig, MaskedPaths) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "stat", "/proc/keys"});
  bundle.linux_section()["maskedPaths"] = {"/proc/keys", "/proc/kcore", "/sys/firmware",
                                           "/proc/does-not-exist"};
  auto file = RunChecker(bundle);
  EXPECT_EQ(file["type"], "chr") << "a masked file is /dev/null bound over it";
  EXPECT_EQ(file["rdev"], "1:3");
  bundle.SetArgs({"/bin/ls", "/sys/firmware"});
  bundle.Write();
  ProcResult ls = Run(bundle, NewId());
  ASSERT_TRUE(ls.ok()) << ls.Describe();
  EXPECT_EQ(ls.out, "") << "a masked directory is empty";
  auto mounts = MountsIn(bundle);
  const MountLine* firmware = FindMount(mounts, "/sys/firmware");
  ASSERT_NE(firmware, nullptr);
  EXPECT_TRUE(firmware->HasOption("ro"));
  bundle.linux_section()["maskedPaths"] = nlohmann::json::array();
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "stat", "/proc/keys"})["type"], "reg")
      << "unmasked without maskedPaths";
}

TEST_F(RootlessConfig, ReadonlyPaths) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "write", "/data/new"});
  const std::string src = bundle.scratch() + "/data";
  fs::create_directories(src);
  bundle.AddMount(BindMount(src, "/data", {"bind"}));
  bundle.linux_section()["readonlyPaths"] = {"/proc/sys", "/data", "/proc/does-not-exist"};
  EXPECT_EQ(RunChecker(bundle)["errname"], "EROFS");
  EXPECT_FALSE(fs::exists(src + "/new"));
  auto mounts = MountsIn(bundle);
  ASSERT_NE(FindMount(mounts, "/proc/sys"), nullptr);
  EXPECT_TRUE(FindMount(mounts, "/proc/sys")->HasOption("ro"));
  bundle.linux_section()["readonlyPaths"] = nlohmann::json::array();
  EXPECT_EQ(CheckIn(bundle, {"/bin/checker", "write", "/data/new"})["errname"], "OK")
      << "writable without readonlyPaths";
}

// --- hooks, cgroups without delegation, bad input ---

TEST_F(RootlessConfig, HooksInOrder) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "sleep", "100"});
  const std::string log_dir = bundle.scratch() + "/hooklog";
  fs::create_directories(log_dir);
  const std::string log = log_dir + "/log";
  bundle.AddMount(HookLogMount(log_dir));
  bundle.config()["hooks"] = AllLoggingHooks(log);
  bundle.Write();
  const std::string id = NewId();
  ProcResult created = Create(bundle, id);
  ASSERT_TRUE(created.ok()) << created.Describe() << OutputOf(id);
  auto calls = ReadHookLog(log);
  const std::string at_create = HookNames(calls);
  EXPECT_TRUE(at_create == "prestart,createRuntime,createContainer" ||
              at_create == "createRuntime,prestart,createContainer" ||
              (RuntimeName() == "runc" && at_create.rfind("prestart,createRuntime", 0) == 0))
      << at_create;
  const bool peer = RuntimeName() == "runc" || RuntimeName() == "crun";
  for (const auto& [name, state] : calls) {
    EXPECT_EQ(state["id"], id) << name;
    EXPECT_EQ(state["bundle"], bundle.dir()) << name;
    if (!peer) {  // both peers report "created" during create
      EXPECT_EQ(state["status"], "creating") << name;
    }
  }
  ASSERT_TRUE(Runtime({"start", id}).ok());
  for (int i = 0; i < 250 && ReadHookLog(log).size() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  calls = ReadHookLog(log);
  const std::string at_start = HookNames(calls);
  ASSERT_EQ(calls.size(), 5U) << at_start;
  // runc runs poststart at create; crun runs it without waiting for startContainer.
  if (!peer) {
    EXPECT_EQ(at_start.substr(at_start.rfind("createContainer")),
              "createContainer,startContainer,poststart");
    EXPECT_EQ(calls[3].state["status"], "created") << "startContainer, before the process runs";
    EXPECT_EQ(calls[4].state["status"], "running") << "poststart";
  }
  ASSERT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  EXPECT_EQ(ReadHookLog(log).size(), 5U) << "poststop runs at delete, not at exit";
  ASSERT_TRUE(Runtime({"delete", id}).ok());
  calls = ReadHookLog(log);
  ASSERT_EQ(calls.size(), 6U) << HookNames(calls);
  EXPECT_EQ(calls[5].name, "poststop");
  EXPECT_EQ(calls[5].state["id"], id);
  EXPECT_EQ(calls[5].state["status"], "stopped");
  ExpectNothingLeft(id, bundle);
}

// cgroups are not delegated to the test user: the container runs anyway, and the runtime says
// that linux.resources were not applied.
TEST_F(RootlessConfig, ResourcesWithoutDelegationWarn) {
  SKIP_ON_RUNTIME("crun", "crun 1.8 fails to create the cgroup instead of running without it");
  SKIP_ON_RUNTIME("runc", "runc 1.1 fails to create the cgroup instead of running without it");
  Bundle& bundle = RootlessBundle({"/bin/checker", "exit", "0"});
  const std::string id = NewId();
  const std::string cgroup = "/comet-rootless-" + id;
  bundle.linux_section()["cgroupsPath"] = cgroup;
  bundle.linux_section()["resources"] = {{"memory", {{"limit", 64L << 20}}},
                                         {"pids", {{"limit", 100}}}};
  bundle.Write();
  ProcResult r = Run(bundle, id);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find("not applied"), std::string::npos)
      << "expected a warning that linux.resources are not applied\n"
      << r.Describe();
  EXPECT_NE(r.err.find("resources"), std::string::npos) << r.Describe();
  ExpectNothingLeft(id, bundle, cgroup);
}

TEST_F(RootlessConfig, NoUserNamespaceFailsClearly) {
  SKIP_ON_RUNTIME("crun", "crun 1.8 runs such a config anyway (exit 0)");
  Bundle& bundle = RootlessBundle({"/bin/true"});
  bundle.RemoveNamespace("user");
  bundle.linux_section().erase("uidMappings");
  bundle.linux_section().erase("gidMappings");
  bundle.Write();
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_FALSE(r.err.empty()) << "no error message";
  ExpectNothingLeft(id, bundle);
  SKIP_ON_RUNTIME("runc", "runc words it differently");
  EXPECT_NE(r.err.find("user namespace"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("linux.namespaces"), std::string::npos) << r.err;
}

TEST_F(RootlessConfig, MappingOfForeignIdsFailsClearly) {
  Bundle& bundle = RootlessBundle({"/bin/true"});
  // Host uid 0 is neither ours nor in our subordinate range.
  bundle.linux_section()["uidMappings"] = {{{"containerID", 0}, {"hostID", 0}, {"size", 1}}};
  bundle.Write();
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_FALSE(r.err.empty()) << "no error message";
  ExpectNothingLeft(id, bundle);
  SKIP_ON_RUNTIME("crun", "crun 1.8 names newuidmap, not the field");
  SKIP_ON_RUNTIME("runc", "runc names newuidmap, not the field");
  EXPECT_NE(r.err.find("linux.uidMappings"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace comet::e2e
