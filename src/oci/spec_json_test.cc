// Tests for config.json parsing and printing: every field, round trips, type and range errors
// naming the JSON path, and hostile input.
#include "oci/spec_json.h"

#include <fcntl.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::oci {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// Every field spec.h holds, with values that differ from the defaults.
constexpr char kFullConfig[] = R"json({
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 4294967295],
             "username": "alice"},
    "args": ["sh", "-c", "echo hi"],
    "commandLine": "cmd.exe",
    "env": ["PATH=/bin", "TERM=xterm"],
    "cwd": "/work",
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_CHOWN"],
                     "inheritable": ["CAP_SETUID"], "permitted": ["CAP_SETGID"],
                     "ambient": ["CAP_NET_RAW"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 18446744073709551615}],
    "noNewPrivileges": true,
    "apparmorProfile": "prof",
    "oomScoreAdj": -500,
    "selinuxLabel": "label",
    "unknownFutureField": {"x": [1, 2, 3]}
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "host",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "ro"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]}
  ],
  "hooks": {
    "prestart": [{"path": "/bin/pre"}],
    "createRuntime": [{"path": "/bin/cr", "args": ["cr", "a"], "env": ["A=1"], "timeout": 5}],
    "createContainer": [{"path": "/bin/cc"}],
    "startContainer": [{"path": "/bin/sc"}],
    "poststart": [{"path": "/bin/ps"}],
    "poststop": [{"path": "/bin/pst"}, {"path": "/bin/pst2"}]
  },
  "annotations": {"org.example.key": "value"},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"},
                   {"type": "user"}, {"type": "uts"}, {"type": "ipc"}, {"type": "time"}],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 1001, "size": 1}],
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229,
                 "fileMode": 438, "uid": 0, "gid": 0}],
    "cgroupsPath": "/comet/x",
    "resources": {
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}],
      "memory": {"limit": 536870912, "reservation": 1, "swap": -1, "kernel": 2, "kernelTCP": 3,
                 "swappiness": 60, "disableOOMKiller": true, "useHierarchy": false,
                 "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": -1, "period": 100000, "realtimeRuntime": 950000,
              "realtimePeriod": 1000000, "cpus": "0-1", "mems": "0", "idle": 1},
      "pids": {"limit": 32768},
      "blockIO": {"weight": 500, "leafWeight": 300,
                  "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 200}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
                  "throttleWriteBpsDevice": [{"major": 8, "minor": 1, "rate": 2000}],
                  "throttleReadIOPSDevice": [{"major": 8, "minor": 2, "rate": 3000}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 3, "rate": 4000}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
      "unified": {"memory.high": "1G"}
    },
    "rootfsPropagation": "rslave",
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/seccomp.sock",
      "listenerMetadata": "meta",
      "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                   {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
                    "args": [{"index": 0, "value": 8, "valueTwo": 9, "op": "SCMP_CMP_EQ"}]}]
    },
    "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "100"},
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "mlabel",
    "personality": {"domain": "LINUX32", "flags": ["f"]},
    "timeOffsets": {"monotonic": {"secs": -10, "nanosecs": 5}, "boottime": {"secs": 20}}
  },
  "windows": {"ignored": true}
})json";

// Checks every field of kFullConfig; run on the first parse and on the round-tripped one.
void ExpectFullProcess(const Process& p) {
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.console_size.has_value());
  EXPECT_EQ(p.console_size->height, 24u);
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 1001u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_THAT(p.user.additional_gids, ElementsAre(5u, 4294967295u));
  EXPECT_EQ(p.user.username, "alice");
  EXPECT_THAT(p.args, ElementsAre("sh", "-c", "echo hi"));
  EXPECT_EQ(p.command_line, "cmd.exe");
  EXPECT_THAT(p.env, ElementsAre("PATH=/bin", "TERM=xterm"));
  EXPECT_EQ(p.cwd, "/work");
  ASSERT_TRUE(p.capabilities.has_value());
  EXPECT_THAT(p.capabilities->bounding, ElementsAre("CAP_KILL"));
  EXPECT_THAT(p.capabilities->effective, ElementsAre("CAP_CHOWN"));
  EXPECT_THAT(p.capabilities->inheritable, ElementsAre("CAP_SETUID"));
  EXPECT_THAT(p.capabilities->permitted, ElementsAre("CAP_SETGID"));
  EXPECT_THAT(p.capabilities->ambient, ElementsAre("CAP_NET_RAW"));
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  EXPECT_EQ(p.rlimits[0].hard, UINT64_MAX);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.apparmor_profile, "prof");
  EXPECT_EQ(p.oom_score_adj, -500);
  EXPECT_EQ(p.selinux_label, "label");
}

void ExpectFullTop(const Spec& s) {
  EXPECT_EQ(s.oci_version, "1.2.0");
  EXPECT_EQ(s.root.path, "rootfs");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.hostname, "host");
  EXPECT_EQ(s.domainname, "example.org");
  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[0].destination, "/proc");
  EXPECT_TRUE(s.mounts[0].options.empty());
  const Mount& m = s.mounts[1];
  EXPECT_EQ(m.destination, "/data");
  EXPECT_EQ(m.type, "bind");
  EXPECT_EQ(m.source, "/srv");
  EXPECT_THAT(m.options, ElementsAre("rbind", "ro"));
  ASSERT_EQ(m.uid_mappings.size(), 1u);
  EXPECT_EQ(m.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(m.uid_mappings[0].size, 65536u);
  ASSERT_EQ(m.gid_mappings.size(), 1u);
  EXPECT_EQ(m.gid_mappings[0].host_id, 200000u);
  ASSERT_TRUE(s.hooks.has_value());
  EXPECT_EQ(s.hooks->prestart.at(0).path, "/bin/pre");
  const Hook& cr = s.hooks->create_runtime.at(0);
  EXPECT_EQ(cr.path, "/bin/cr");
  EXPECT_THAT(cr.args, ElementsAre("cr", "a"));
  EXPECT_THAT(cr.env, ElementsAre("A=1"));
  EXPECT_EQ(cr.timeout, 5);
  EXPECT_EQ(s.hooks->create_container.at(0).path, "/bin/cc");
  EXPECT_EQ(s.hooks->start_container.at(0).path, "/bin/sc");
  EXPECT_EQ(s.hooks->poststart.at(0).path, "/bin/ps");
  EXPECT_EQ(s.hooks->poststop.size(), 2u);
  EXPECT_FALSE(s.hooks->poststop[1].timeout.has_value());
  EXPECT_THAT(s.annotations, ElementsAre(Pair("org.example.key", "value")));
}

void ExpectFullResources(const Resources& r) {
  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_FALSE(r.devices[0].allow);
  EXPECT_FALSE(r.devices[0].major.has_value());
  EXPECT_EQ(r.devices[0].access, "rwm");
  EXPECT_TRUE(r.devices[1].allow);
  EXPECT_EQ(r.devices[1].type, "c");
  EXPECT_EQ(r.devices[1].major, 10);
  EXPECT_EQ(r.devices[1].minor, 229);
  ASSERT_TRUE(r.memory.has_value());
  EXPECT_EQ(r.memory->limit, 536870912);
  EXPECT_EQ(r.memory->reservation, 1);
  EXPECT_EQ(r.memory->swap, -1);
  EXPECT_EQ(r.memory->kernel, 2);
  EXPECT_EQ(r.memory->kernel_tcp, 3);
  EXPECT_EQ(r.memory->swappiness, 60u);
  EXPECT_EQ(r.memory->disable_oom_killer, true);
  EXPECT_EQ(r.memory->use_hierarchy, false);
  EXPECT_EQ(r.memory->check_before_update, true);
  ASSERT_TRUE(r.cpu.has_value());
  EXPECT_EQ(r.cpu->shares, 1024u);
  EXPECT_EQ(r.cpu->quota, -1);
  EXPECT_EQ(r.cpu->period, 100000u);
  EXPECT_EQ(r.cpu->realtime_runtime, 950000);
  EXPECT_EQ(r.cpu->realtime_period, 1000000u);
  EXPECT_EQ(r.cpu->cpus, "0-1");
  EXPECT_EQ(r.cpu->mems, "0");
  EXPECT_EQ(r.cpu->idle, 1);
  ASSERT_TRUE(r.pids.has_value());
  EXPECT_EQ(r.pids->limit, 32768);
  ASSERT_TRUE(r.block_io.has_value());
  EXPECT_EQ(r.block_io->weight, 500);
  EXPECT_EQ(r.block_io->leaf_weight, 300);
  EXPECT_EQ(r.block_io->weight_device.at(0).weight, 600);
  EXPECT_EQ(r.block_io->weight_device.at(0).leaf_weight, 200);
  EXPECT_EQ(r.block_io->throttle_read_bps_device.at(0).rate, 1000u);
  EXPECT_EQ(r.block_io->throttle_write_bps_device.at(0).minor, 1);
  EXPECT_EQ(r.block_io->throttle_read_iops_device.at(0).rate, 3000u);
  EXPECT_EQ(r.block_io->throttle_write_iops_device.at(0).rate, 4000u);
  ASSERT_EQ(r.hugepage_limits.size(), 1u);
  EXPECT_EQ(r.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(r.hugepage_limits[0].limit, 209715200u);
  ASSERT_TRUE(r.network.has_value());
  EXPECT_EQ(r.network->class_id, 1048577u);
  EXPECT_THAT(r.network->priorities, ElementsAre(Pair("eth0", 500u)));
  EXPECT_THAT(r.unified, ElementsAre(Pair("memory.high", "1G")));
}

void ExpectFullLinux(const Linux& l) {
  ASSERT_EQ(l.namespaces.size(), 6u);
  EXPECT_EQ(l.namespaces[1].type, "network");
  EXPECT_EQ(l.namespaces[1].path, "/var/run/netns/x");
  EXPECT_EQ(l.uid_mappings.at(0).host_id, 1000u);
  EXPECT_EQ(l.gid_mappings.at(0).host_id, 1001u);
  const Device& d = l.devices.at(0);
  EXPECT_EQ(d.type, "c");
  EXPECT_EQ(d.path, "/dev/fuse");
  EXPECT_EQ(d.major, 10);
  EXPECT_EQ(d.minor, 229);
  EXPECT_EQ(d.file_mode, 438u);
  EXPECT_EQ(d.uid, 0u);
  EXPECT_EQ(d.gid, 0u);
  EXPECT_EQ(l.cgroups_path, "/comet/x");
  ASSERT_TRUE(l.resources.has_value());
  ExpectFullResources(*l.resources);
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  ASSERT_TRUE(l.seccomp.has_value());
  const Seccomp& sc = *l.seccomp;
  EXPECT_EQ(sc.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(sc.default_errno_ret, 1u);
  EXPECT_THAT(sc.architectures, ElementsAre("SCMP_ARCH_X86_64", "SCMP_ARCH_X86"));
  EXPECT_THAT(sc.flags, ElementsAre("SECCOMP_FILTER_FLAG_LOG"));
  EXPECT_EQ(sc.listener_path, "/run/seccomp.sock");
  EXPECT_EQ(sc.listener_metadata, "meta");
  ASSERT_EQ(sc.syscalls.size(), 2u);
  EXPECT_THAT(sc.syscalls[0].names, ElementsAre("read", "write"));
  EXPECT_FALSE(sc.syscalls[0].errno_ret.has_value());
  EXPECT_EQ(sc.syscalls[1].errno_ret, 38u);
  const SeccompArg& arg = sc.syscalls[1].args.at(0);
  EXPECT_EQ(arg.index, 0u);
  EXPECT_EQ(arg.value, 8u);
  EXPECT_EQ(arg.value_two, 9u);
  EXPECT_EQ(arg.op, "SCMP_CMP_EQ");
  EXPECT_THAT(l.sysctl,
              ElementsAre(Pair("kernel.shmmax", "100"), Pair("net.ipv4.ip_forward", "1")));
  EXPECT_THAT(l.masked_paths, ElementsAre("/proc/kcore"));
  EXPECT_THAT(l.readonly_paths, ElementsAre("/proc/sys"));
  EXPECT_EQ(l.mount_label, "mlabel");
  ASSERT_TRUE(l.personality.has_value());
  EXPECT_EQ(l.personality->domain, "LINUX32");
  EXPECT_THAT(l.personality->flags, ElementsAre("f"));
  EXPECT_THAT(l.time_offsets, ElementsAre(Pair("boottime", 20), Pair("monotonic", -10)));
}

void ExpectFullSpec(const Spec& s) {
  ExpectFullTop(s);
  ASSERT_TRUE(s.process.has_value());
  ExpectFullProcess(*s.process);
  ASSERT_TRUE(s.linux_config.has_value());
  ExpectFullLinux(*s.linux_config);
}

TEST(ParseSpec, EveryField) {
  auto spec = ParseSpec(kFullConfig);
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  ExpectFullSpec(*spec);
}

TEST(ParseSpec, RoundTrip) {
  auto spec = ParseSpec(kFullConfig);
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  std::string json = SpecToJson(*spec);
  auto again = ParseSpec(json);
  ASSERT_TRUE(again.has_value()) << again.error().ToString() << "\n" << json;
  ExpectFullSpec(*again);
  EXPECT_EQ(SpecToJson(*again), json);
}

TEST(ParseSpec, MinimalAndNullsAreAbsent) {
  auto spec = ParseSpec(R"({"ociVersion": "1.0.0", "process": null, "hooks": null,
                            "linux": {"resources": null, "namespaces": null}})");
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_FALSE(spec->process.has_value());
  EXPECT_FALSE(spec->hooks.has_value());
  ASSERT_TRUE(spec->linux_config.has_value());
  EXPECT_FALSE(spec->linux_config->resources.has_value());
  // Absent oomScoreAdj and umask stay absent, distinct from zero.
  auto process = ParseProcess(R"({"args": ["a"], "oomScoreAdj": 0})");
  ASSERT_TRUE(process.has_value());
  EXPECT_EQ(process->oom_score_adj, 0);
  EXPECT_FALSE(process->user.umask.has_value());
}

std::string ErrorOf(std::string_view json) {
  auto spec = ParseSpec(json);
  if (spec.has_value()) {
    return "<parsed>";
  }
  return spec.error().ToString();
}

TEST(ParseSpec, WrongTypesNameThePath) {
  EXPECT_EQ(
      ErrorOf(R"({"linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": 3}]}})"),
      "config.json: linux.namespaces[2].type: expected string");
  EXPECT_EQ(ErrorOf(R"({"ociVersion": 1})"), "config.json: ociVersion: expected string");
  EXPECT_EQ(ErrorOf(R"({"process": []})"), "config.json: process: expected object");
  EXPECT_EQ(ErrorOf(R"({"process": {"args": "sh"}})"),
            "config.json: process.args: expected array of strings");
  EXPECT_EQ(ErrorOf(R"({"process": {"args": ["sh", 1]}})"),
            "config.json: process.args[1]: expected string");
  EXPECT_EQ(ErrorOf(R"({"process": {"terminal": "yes"}})"),
            "config.json: process.terminal: expected boolean");
  EXPECT_EQ(ErrorOf(R"({"mounts": [1]})"), "config.json: mounts[0]: expected object");
  EXPECT_EQ(ErrorOf(R"({"annotations": {"a": 1}})"), "config.json: annotations.a: expected string");
  EXPECT_EQ(ErrorOf(R"({"linux": {"resources": {"memory": {"limit": "1G"}}}})"),
            "config.json: linux.resources.memory.limit: expected integer");
  EXPECT_EQ(ErrorOf(R"({"hooks": {"poststop": [{"path": "/x", "timeout": 1.5}]}})"),
            "config.json: hooks.poststop[0].timeout: expected integer");
}

TEST(ParseSpec, IntegerRangesAreChecked) {
  EXPECT_EQ(ErrorOf(R"({"process": {"user": {"uid": -1}}})"),
            "config.json: process.user.uid: -1 out of range [0, 4294967295]");
  EXPECT_EQ(ErrorOf(R"({"process": {"user": {"gid": 4294967296}}})"),
            "config.json: process.user.gid: 4294967296 out of range [0, 4294967295]");
  EXPECT_THAT(ErrorOf(R"({"process": {"rlimits": [{"type": "RLIMIT_CPU", "hard": 1e300}]}})"),
              HasSubstr("process.rlimits[0].hard: 1e+300 out of range"));
  EXPECT_THAT(ErrorOf(R"({"process": {"rlimits": [{"hard": 18446744073709551616}]}})"),
              HasSubstr("process.rlimits[0].hard:"));
  EXPECT_THAT(ErrorOf(R"({"process": {"oomScoreAdj": 2147483648}})"),
              HasSubstr("process.oomScoreAdj: 2147483648 out of range"));
  EXPECT_THAT(ErrorOf(R"({"linux": {"resources": {"blockIO": {"weight": 65536}}}})"),
              HasSubstr("linux.resources.blockIO.weight: 65536 out of range [0, 65535]"));
  EXPECT_THAT(ErrorOf(R"({"process": {"user": {"additionalGids": [1, -2]}}})"),
              HasSubstr("process.user.additionalGids[1]: -2 out of range"));
}

TEST(ParseSpec, MalformedJson) {
  EXPECT_THAT(ErrorOf(R"({"ociVersion": })"), HasSubstr("config.json: invalid JSON at byte 16: "));
  EXPECT_THAT(ErrorOf(""), HasSubstr("config.json: invalid JSON at byte"));
  EXPECT_THAT(ErrorOf("{} trailing"), HasSubstr("invalid JSON at byte"));
  EXPECT_THAT(ErrorOf("[1, 2]"), HasSubstr("config.json: expected a JSON object, got array"));
  EXPECT_THAT(ErrorOf("\"str\""), HasSubstr("expected a JSON object, got string"));
  EXPECT_THAT(ErrorOf("null"), HasSubstr("expected a JSON object, got null"));
}

TEST(ParseSpec, HostileInputFailsCleanly) {
  std::string deep(100000, '[');
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nesting deeper than"));
  std::string deep_object = R"({"a":)";
  for (int i = 0; i < 5000; ++i) {
    deep_object += R"({"a":)";
  }
  EXPECT_THAT(ErrorOf(deep_object), HasSubstr("nesting deeper than"));
  // Brackets inside strings do not count as nesting.
  std::string brackets = R"({"hostname": ")" + std::string(1000, '[') + R"("})";
  EXPECT_EQ(ErrorOf(brackets), "<parsed>");
  EXPECT_THAT(ErrorOf("{\"hostname\": \"\xff\xfe\"}"), HasSubstr("invalid JSON"));
  std::string error = ErrorOf("{\"hostname\": \"a\x01\"}");
  EXPECT_THAT(error, HasSubstr("invalid JSON"));
  EXPECT_EQ(error.find('\x01'), std::string::npos) << "control bytes are escaped in messages";
  EXPECT_THAT(ErrorOf(R"({"process": {"user": {"uid": 1e999}}})"), HasSubstr("invalid JSON"));
  EXPECT_THAT(ErrorOf(std::string("{\"a\":\0}", 7)), HasSubstr("invalid JSON"));
}

TEST(ParseSpec, NulInStringsIsKept) {
  // \u0000 is valid JSON; Validate rejects it where it matters (paths, args).
  auto spec = ParseSpec(R"({"hostname": "a\u0000b"})");
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->hostname, std::string("a\0b", 3));
}

TEST(SpecToJson, InvalidUtf8DoesNotThrow) {
  Spec spec;
  spec.oci_version = "1.0.0";
  spec.hostname = "\xff\xfe";
  std::string json = SpecToJson(spec);
  EXPECT_THAT(json, HasSubstr("hostname"));
  EXPECT_TRUE(ParseSpec(json).has_value());
}

TEST(LoadSpec, ReadsBundleAndPrefixesErrors) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir.has_value()) << dir.error().ToString();
  std::string bundle = dir->path();
  auto missing = LoadSpec(bundle);
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().ToString(), HasSubstr("bundle " + bundle + ": "));

  ASSERT_TRUE(os::WriteFile(bundle + "/config.json", R"({"ociVersion": "1.0.0"})").has_value());
  auto spec = LoadSpec(bundle);
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->oci_version, "1.0.0");

  ASSERT_TRUE(os::WriteFile(bundle + "/config.json", R"({"hostname": 5})").has_value());
  EXPECT_EQ(LoadSpec(bundle).error().ToString(),
            "bundle " + bundle + ": config.json: hostname: expected string");

  ASSERT_TRUE(
      os::WriteFile(bundle + "/config.json", std::string(kMaxConfigSize + 1, ' ')).has_value());
  auto big = LoadSpec(bundle);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), EFBIG);
}

TEST(ParseProcess, PathsAreRelativeToTheObject) {
  auto process = ParseProcess(R"({"args": ["ls"], "cwd": "/tmp", "env": ["A=b"]})");
  ASSERT_TRUE(process.has_value());
  EXPECT_THAT(process->args, ElementsAre("ls"));
  EXPECT_EQ(process->cwd, "/tmp");
  auto bad = ParseProcess(R"({"user": {"uid": "root"}})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().ToString(), "user.uid: expected integer");
  auto again = ParseProcess(ProcessToJson(*process));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ProcessToJson(*again), ProcessToJson(*process));
}

TEST(ParseResources, UpdateDocument) {
  auto r = ParseResources(R"({"memory": {"limit": 1048576}, "pids": {"limit": 10},
                              "cpu": {"quota": 50000, "period": 100000}})");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->memory->limit, 1048576);
  EXPECT_EQ(r->pids->limit, 10);
  EXPECT_EQ(r->cpu->quota, 50000);
  EXPECT_FALSE(r->block_io.has_value());
  auto bad = ParseResources(R"({"cpu": {"shares": -5}})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().ToString(), HasSubstr("cpu.shares: -5 out of range"));
  auto again = ParseResources(ResourcesToJson(*r));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ResourcesToJson(*again), ResourcesToJson(*r));
}

TEST(StateToJson, RuntimeSpecShape) {
  State state{.oci_version = "1.2.0",
              .id = "c1",
              .status = "stopped",
              .pid = 0,
              .bundle = "/b",
              .annotations = {}};
  EXPECT_EQ(StateToJson(state), R"({
  "ociVersion": "1.2.0",
  "id": "c1",
  "status": "stopped",
  "bundle": "/b"
})");
  state.status = "running";
  state.pid = 42;
  state.annotations = {{"k", "v"}};
  EXPECT_EQ(StateToJson(state), R"({
  "ociVersion": "1.2.0",
  "id": "c1",
  "status": "running",
  "pid": 42,
  "bundle": "/b",
  "annotations": {
    "k": "v"
  }
})");
}

TEST(StateToJson, RuncShape) {
  State state{.oci_version = "1.2.0",
              .id = "c1",
              .status = "stopped",
              .pid = 0,
              .bundle = "/b",
              .annotations = {}};
  RuncStateExtras extras{
      .rootfs = "/b/rootfs", .created = "2026-01-02T03:04:05.123456789Z", .owner = ""};
  EXPECT_EQ(StateToJson(state, extras), R"({
  "ociVersion": "1.2.0",
  "id": "c1",
  "pid": 0,
  "status": "stopped",
  "bundle": "/b",
  "rootfs": "/b/rootfs",
  "created": "2026-01-02T03:04:05.123456789Z",
  "owner": ""
})");
}

}  // namespace
}  // namespace comet::oci
