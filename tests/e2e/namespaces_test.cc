// End-to-end: namespaces (each type new, shared when absent, joined by path), user namespace
// mappings, sysctl in a new network namespace.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

using Namespaces = PrivilegedRuntimeTest;

std::string InodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? std::to_string(st.st_ino) : "?";
}

// Namespace types of the OCI spec and their /proc/self/ns names.
const std::pair<const char*, const char*> kTypes[] = {{"pid", "pid"},   {"network", "net"},
                                                      {"ipc", "ipc"},   {"uts", "uts"},
                                                      {"mount", "mnt"}, {"cgroup", "cgroup"}};

TEST_F(Namespaces, EachTypeIsNew) {
  Bundle& bundle = NewBundle({"/bin/checker", "ns"});
  bundle.SetNamespace("cgroup");
  auto kv = RunChecker(bundle);
  for (const auto& [type, name] : kTypes) {
    EXPECT_NE(kv[name], InodeOf(std::string("/proc/self/ns/") + name)) << type;
    EXPECT_NE(kv[name], "") << type;
  }
  EXPECT_EQ(kv["user"], InodeOf("/proc/self/ns/user")) << "no user namespace unless asked";
  bundle.SetArgs({"/bin/checker", "pid"});
  EXPECT_EQ(RunChecker(bundle)["pid"], "1");
}

TEST_F(Namespaces, TimeNamespace) {
  SKIP_ON_RUNTIME("crun", "crun 1.8.1 fails here: write to sync socket: Connection reset by peer");
  SKIP_ON_RUNTIME("runc", "runc 1.1 has no time namespace");
  Bundle& bundle = NewBundle({"/bin/checker", "ns"});
  bundle.SetNamespace("time");
  auto kv = RunChecker(bundle);
  EXPECT_NE(kv["time"], InodeOf("/proc/self/ns/time"));
}

TEST_F(Namespaces, AbsentTypesAreShared) {
  Bundle& bundle = NewBundle({"/bin/checker", "ns"});
  for (const char* type : {"pid", "network", "ipc", "uts"}) {
    bundle.RemoveNamespace(type);
  }
  bundle.config().erase("hostname");
  bundle.config()["mounts"].erase(bundle.config()["mounts"].size() - 1);  // sysfs needs a netns
  auto kv = RunChecker(bundle);
  for (const char* name : {"pid", "net", "ipc", "uts"}) {
    EXPECT_EQ(kv[name], InodeOf(std::string("/proc/self/ns/") + name)) << name;
  }
  EXPECT_NE(kv["mnt"], InodeOf("/proc/self/ns/mnt"));
}

// A persistent network namespace bound to a file (what `ip netns add` does, without touching
// /run/netns on the host).
TEST_F(Namespaces, JoinNetworkNamespaceByPath) {
  const std::string path = work_dir() + "/netns";
  WriteFileOrDie(path, "");
  ProcResult made = Exec({"unshare", "--net=" + path, "true"});
  ASSERT_TRUE(made.ok()) << made.Describe();
  Bundle& bundle = NewBundle({"/bin/checker", "ns"});
  bundle.SetNamespace("network", path);
  auto kv = RunChecker(bundle);
  EXPECT_EQ(kv["net"], InodeOf(path));
  bundle.linux_section()["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  bundle.SetArgs({"/bin/checker", "sysctl", "net.ipv4.ip_forward"});
  EXPECT_EQ(RunChecker(bundle)["value"], "1");
  EXPECT_EQ(Exec({"nsenter", "--net=" + path, "cat", "/proc/sys/net/ipv4/ip_forward"}).out, "1\n")
      << "the sysctl was set in the joined namespace";
  EXPECT_EQ(::umount2(path.c_str(), MNT_DETACH), 0);
}

TEST_F(Namespaces, JoinAnotherContainersNamespaces) {
  Bundle& first = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string first_id = NewId();
  ASSERT_TRUE(Create(first, first_id).ok()) << OutputOf(first_id);
  ASSERT_TRUE(Runtime({"start", first_id}).ok());
  const std::string proc = "/proc/" + std::to_string(State(first_id)["pid"].get<int>()) + "/ns/";

  Bundle& second = NewBundle({"/bin/checker", "ns"});
  for (const char* type : {"pid", "network", "ipc"}) {
    second.SetNamespace(type, proc + (std::string(type) == "network" ? "net" : type));
  }
  auto kv = RunChecker(second);
  EXPECT_EQ(kv["pid"], InodeOf(proc + "pid"));
  EXPECT_EQ(kv["net"], InodeOf(proc + "net"));
  EXPECT_EQ(kv["ipc"], InodeOf(proc + "ipc"));
  EXPECT_NE(kv["mnt"], InodeOf(proc + "mnt"));
  EXPECT_NE(kv["uts"], InodeOf(proc + "uts"));
  second.SetArgs({"/bin/checker", "pid"});
  EXPECT_NE(RunChecker(second)["pid"], "1") << "pid 1 is the first container's process";
}

TEST_F(Namespaces, UserNamespaceMappings) {
  Bundle& bundle = NewBundle({"/bin/cat", "/proc/self/uid_map", "/proc/self/gid_map"});
  bundle.SetNamespace("user");
  bundle.linux_section()["uidMappings"] = {
      {{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}};
  bundle.linux_section()["gidMappings"] = {
      {{"containerID", 0}, {"hostID", 300000}, {"size", 1000}},
      {{"containerID", 1000}, {"hostID", 400000}, {"size", 1}}};
  // devpts gid=5 must be a mapped gid; drop it as `spec --rootless` does.
  for (auto& m : bundle.config()["mounts"]) {
    if (m["destination"] == "/dev/pts") {
      m["options"] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
    }
  }
  bundle.Write();
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  ASSERT_TRUE(r.ok()) << r.Describe();
  // uid_map lines are "%10u %10u %10u".
  EXPECT_NE(r.out.find("0     200000      65536"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0     300000       1000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1000     400000          1"), std::string::npos) << r.out;
  bundle.SetArgs({"/bin/checker", "ids"});
  auto ids = RunChecker(bundle);
  EXPECT_EQ(ids["uid"], "0");
  EXPECT_EQ(ids["gid"], "0");
  bundle.SetArgs({"/bin/checker", "ns"});
  EXPECT_NE(RunChecker(bundle)["user"], InodeOf("/proc/self/ns/user"));
}

TEST_F(Namespaces, SysctlInNewNetworkNamespace) {
  Bundle& bundle = NewBundle({"/bin/checker", "sysctl", "net.ipv4.ip_forward"});
  bundle.linux_section()["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  std::string host_before = ReadFileOrEmpty("/proc/sys/net/ipv4/ip_forward");
  EXPECT_EQ(RunChecker(bundle)["value"], "1");
  EXPECT_EQ(ReadFileOrEmpty("/proc/sys/net/ipv4/ip_forward"), host_before) << "host untouched";
}

TEST_F(Namespaces, CgroupNamespaceHidesHostPath) {
  Bundle& bundle = NewBundle({"/bin/cat", "/proc/self/cgroup"});
  bundle.SetNamespace("cgroup");
  bundle.linux_section()["cgroupsPath"] = "/comet-e2e-cgns-" + std::to_string(::getpid());
  bundle.Write();
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.out.find("comet-e2e-cgns"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory:/\n"), std::string::npos) << r.out;
  ExpectNothingLeft(id, bundle, bundle.linux_section()["cgroupsPath"]);
}

}  // namespace
}  // namespace comet::e2e
