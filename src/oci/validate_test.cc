// Tests for Validate: the default specs pass, and each rule fails with the field's path.
#include "oci/validate.h"

#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "oci/default_spec.h"

namespace comet::oci {
namespace {

using ::testing::HasSubstr;

// The error Validate gives after `mutate` changes a valid default spec ("" when it passes).
std::string ErrorAfter(const std::function<void(Spec&)>& mutate, ValidateOptions options = {}) {
  Spec spec = DefaultSpec(false);
  mutate(spec);
  Status status = Validate(spec, options);
  return status ? "" : status.error().ToString();
}

Linux& L(Spec& s) {
  return *s.linux_config;
}
Process& P(Spec& s) {
  return *s.process;
}

TEST(Validate, DefaultSpecsPass) {
  auto root = Validate(DefaultSpec(false), {});
  EXPECT_TRUE(root.has_value()) << root.error().ToString();
  auto rootless = Validate(DefaultSpec(true), {.rootless = true, .require_process = true});
  EXPECT_TRUE(rootless.has_value()) << rootless.error().ToString();
}

TEST(Validate, TopLevel) {
  EXPECT_EQ(ErrorAfter([](Spec& s) { s.oci_version.clear(); }), "ociVersion: required");
  EXPECT_THAT(ErrorAfter([](Spec& s) { s.oci_version = "2.0.0"; }),
              HasSubstr("ociVersion: unsupported version \"2.0.0\""));
  EXPECT_THAT(ErrorAfter([](Spec& s) { s.oci_version = "1."; }), HasSubstr("ociVersion:"));
  EXPECT_EQ(ErrorAfter([](Spec& s) { s.oci_version = "1.0.2-dev"; }), "");
  EXPECT_EQ(ErrorAfter([](Spec& s) { s.root.path.clear(); }), "root.path: required");
  EXPECT_EQ(ErrorAfter([](Spec& s) { s.process.reset(); }), "process: required");
  EXPECT_EQ(ErrorAfter([](Spec& s) { s.process.reset(); }, {.require_process = false}), "");
}

TEST(Validate, Process) {
  EXPECT_EQ(ErrorAfter([](Spec& s) { P(s).args.clear(); }), "process.args: must not be empty");
  EXPECT_EQ(ErrorAfter([](Spec& s) { P(s).args.clear(); }, {.require_process = false}), "");
  EXPECT_EQ(ErrorAfter([](Spec& s) { P(s).args = {std::string("a\0b", 3)}; }),
            "process.args[0]: contains a NUL byte");
  EXPECT_EQ(ErrorAfter([](Spec& s) { P(s).cwd = "work"; }),
            "process.cwd: must be an absolute path, got \"work\"");
  EXPECT_EQ(ErrorAfter([](Spec& s) { P(s).cwd.clear(); }), "process.cwd: must not be empty");
  EXPECT_THAT(ErrorAfter([](Spec& s) { P(s).env.emplace_back("NOEQUALS"); }),
              HasSubstr("process.env[2]: missing '='"));
  EXPECT_EQ(ErrorAfter([](Spec& s) { P(s).env.emplace_back("=x"); }),
            "process.env[2]: empty variable name");
  EXPECT_EQ(ErrorAfter([](Spec& s) { P(s).capabilities->ambient = {"CAP_FOO"}; }),
            "process.capabilities.ambient[0]: unknown capability \"CAP_FOO\"");
  EXPECT_EQ(ErrorAfter([](Spec& s) { P(s).capabilities->bounding = {"CAP_CHECKPOINT_RESTORE"}; }),
            "");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              P(s).rlimits.push_back({"RLIMIT_FOO", 1, 1});
            }),
            "process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              P(s).rlimits.push_back({"RLIMIT_NOFILE", 1, 1});
            }),
            "process.rlimits[1].type: duplicate rlimit RLIMIT_NOFILE");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              P(s).rlimits.push_back({"RLIMIT_RTTIME", 5, 4});
            }),
            "process.rlimits[1]: soft limit 5 exceeds hard limit 4");
  EXPECT_THAT(ErrorAfter([](Spec& s) { P(s).oom_score_adj = 1001; }),
              HasSubstr("process.oomScoreAdj: 1001 out of range"));
  EXPECT_THAT(ErrorAfter([](Spec& s) { P(s).user.umask = 01000; }),
              HasSubstr("process.user.umask:"));
}

TEST(Validate, ProcessAlone) {
  Process process;
  EXPECT_EQ(ValidateProcess(process, "").error().ToString(), "args: must not be empty");
  process.args = {"ls"};
  EXPECT_TRUE(ValidateProcess(process, "").has_value());
}

TEST(Validate, MountsAndHooks) {
  EXPECT_EQ(ErrorAfter([](Spec& s) { s.mounts[2].destination.clear(); }),
            "mounts[2].destination: must not be empty");
  EXPECT_EQ(ErrorAfter([](Spec& s) { s.mounts[1].destination = "dev"; }),
            "mounts[1].destination: must be an absolute path, got \"dev\"");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              s.mounts[0].uid_mappings = {{0, 1000, 0}};
            }),
            "mounts[0].uidMappings[0].size: must be greater than 0");
  EXPECT_THAT(ErrorAfter([](Spec& s) {
                s.mounts[0].uid_mappings = {{0, 1000, 1}};
              }),
              HasSubstr("mounts[0]: an idmapped mount needs both"));
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              s.hooks = Hooks{};
              s.hooks->poststop.push_back({"x", {}, {}, {}});
            }),
            "hooks.poststop[0].path: must be an absolute path, got \"x\"");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              s.hooks = Hooks{};
              s.hooks->create_runtime.push_back({"/x", {}, {}, 0});
            }),
            "hooks.createRuntime[0].timeout: must be greater than 0, got 0");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              s.hooks = Hooks{};
              s.hooks->prestart.push_back({"/x", {}, {"A"}, 3});
            }),
            "hooks.prestart[0].env[0]: missing '=' in \"A\"");
}

TEST(Validate, Namespaces) {
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              L(s).namespaces.push_back({"foo", ""});
            }),
            "linux.namespaces[6].type: unknown namespace type \"foo\"");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              L(s).namespaces.push_back({"pid", ""});
            }),
            "linux.namespaces[6].type: duplicate namespace pid");
  EXPECT_EQ(ErrorAfter([](Spec& s) { L(s).namespaces[1].path = "netns"; }),
            "linux.namespaces[1].path: must be an absolute path, got \"netns\"");
  EXPECT_EQ(ErrorAfter([](Spec& s) { L(s).namespaces.push_back({"time", ""}); }), "");
}

TEST(Validate, UserNamespace) {
  auto add_userns = [](Spec& s) { L(s).namespaces.push_back({"user", ""}); };
  EXPECT_EQ(ErrorAfter(add_userns),
            "linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
  EXPECT_EQ(ErrorAfter(add_userns,
                       {.rootless = true, .require_process = true, .auto_userns_mapping = true}),
            "");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              L(s).namespaces.push_back({"user", "/proc/1/ns/user"});
            }),
            "");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              L(s).uid_mappings = {{0, 1000, 1}};
            }),
            "linux.uidMappings: mappings need a user namespace in linux.namespaces");
  auto with = [&](std::vector<IdMapping> uids, std::vector<IdMapping> gids) {
    return ErrorAfter([&](Spec& s) {
      add_userns(s);
      L(s).uid_mappings = uids;
      L(s).gid_mappings = gids;
    });
  };
  EXPECT_EQ(with({{0, 100000, 65536}}, {{0, 100000, 65536}}), "");
  EXPECT_EQ(with({{0, 100000, 65536}}, {}),
            "linux.gidMappings: required when linux.uidMappings is set");
  EXPECT_EQ(with({{0, 1000, 0}}, {{0, 1000, 1}}),
            "linux.uidMappings[0].size: must be greater than 0");
  EXPECT_EQ(with({{0, 1000, 10}, {5, 2000, 10}}, {{0, 1000, 1}}),
            "linux.uidMappings[1]: container range overlaps linux.uidMappings[0]");
  EXPECT_EQ(with({{0, 1000, 1}}, {{0, 1000, 10}, {10, 1005, 10}}),
            "linux.gidMappings[1]: host range overlaps linux.gidMappings[0]");
  EXPECT_EQ(with({{4294967295u, 1000, 2}}, {{0, 1000, 1}}),
            "linux.uidMappings[0]: containerID + size exceeds 2^32");
  EXPECT_EQ(with({{0, 1000, 10}, {10, 1010, 10}}, {{0, 1000, 1}}), "");
}

TEST(Validate, RootlessMountIds) {
  Spec spec = DefaultSpec(true);
  spec.mounts[2].options.emplace_back("gid=5");
  auto status = Validate(spec, {.rootless = true, .require_process = true});
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().ToString(),
            "mounts[2].options[5]: \"gid=5\" is not mapped in the user namespace");
  EXPECT_TRUE(Validate(spec, {.rootless = false, .require_process = true}).has_value());
}

TEST(Validate, Devices) {
  auto with = [](Device d) { return ErrorAfter([&](Spec& s) { L(s).devices.push_back(d); }); };
  EXPECT_EQ(with({"c", "/dev/fuse", 10, 229, 0666, 0, 0}), "");
  EXPECT_EQ(with({"p", "/dev/fifo", 0, 0, {}, {}, {}}), "");
  EXPECT_EQ(with({"x", "/dev/fuse", 10, 229, {}, {}, {}}),
            "linux.devices[0].type: unknown device type \"x\" (want c, b, u or p)");
  EXPECT_EQ(with({"c", "dev/fuse", 10, 229, {}, {}, {}}),
            "linux.devices[0].path: must be an absolute path, got \"dev/fuse\"");
  EXPECT_EQ(with({"c", "/etc/passwd", 10, 229, {}, {}, {}}),
            "linux.devices[0].path: must be under /dev, got \"/etc/passwd\"");
  EXPECT_EQ(with({"c", "/dev/../etc/x", 10, 229, {}, {}, {}}),
            "linux.devices[0].path: must not contain \"..\"");
  EXPECT_EQ(with({"b", "/dev/sda", -1, 0, {}, {}, {}}),
            "linux.devices[0].major: -1 out of range [0, 4095]");
  EXPECT_EQ(with({"b", "/dev/sda", 8, 1 << 20, {}, {}, {}}),
            "linux.devices[0].minor: 1048576 out of range [0, 1048575]");
  EXPECT_THAT(with({"c", "/dev/x", 1, 1, 010000, {}, {}}), HasSubstr("linux.devices[0].fileMode"));
}

TEST(Validate, Resources) {
  EXPECT_EQ(ErrorAfter([](Spec& s) { L(s).resources->devices[0].access = "rwx"; }),
            "linux.resources.devices[0].access: \"rwx\" is not a subset of \"rwm\"");
  EXPECT_THAT(ErrorAfter([](Spec& s) { L(s).resources->devices[0].type = "u"; }),
              HasSubstr("linux.resources.devices[0].type: unknown type \"u\""));
  EXPECT_THAT(ErrorAfter([](Spec& s) {
                L(s).resources->memory = MemoryResources{};
                L(s).resources->memory->swappiness = 101;
              }),
              HasSubstr("linux.resources.memory.swappiness: 101 out of range"));
  EXPECT_THAT(ErrorAfter([](Spec& s) {
                L(s).resources->block_io = BlockIoResources{};
                L(s).resources->block_io->weight = 5;
              }),
              HasSubstr("linux.resources.blockIO.weight: 5 out of range"));
}

TEST(Validate, Sysctl) {
  auto with = [](const std::string& key, bool drop_ns = false, const char* ns = "") {
    return ErrorAfter([&](Spec& s) {
      L(s).sysctl[key] = "1";
      s.hostname.clear();
      if (drop_ns) {
        std::erase_if(L(s).namespaces, [&](const Namespace& n) { return n.type == ns; });
      }
    });
  };
  EXPECT_EQ(with("net.ipv4.ip_forward"), "");
  EXPECT_EQ(with("net/ipv4/ip_forward"), "");
  EXPECT_EQ(with("kernel.shmmax"), "");
  EXPECT_EQ(with("kernel.msgmax"), "");
  EXPECT_EQ(with("kernel.sem"), "");
  EXPECT_EQ(with("fs.mqueue.msg_max"), "");
  EXPECT_EQ(with("kernel.hostname"), "");
  EXPECT_EQ(with("net.ipv4.ip_forward", true, "network"),
            "linux.sysctl.net.ipv4.ip_forward: requires the network namespace in linux.namespaces");
  EXPECT_EQ(with("kernel.shmmax", true, "ipc"),
            "linux.sysctl.kernel.shmmax: requires the ipc namespace in linux.namespaces");
  EXPECT_EQ(with("kernel.domainname", true, "uts"),
            "linux.sysctl.kernel.domainname: requires the uts namespace in linux.namespaces");
  EXPECT_EQ(with("vm.swappiness"),
            "linux.sysctl.vm.swappiness: not namespaced: setting it would change the host");
  EXPECT_EQ(with("kernel.semx"),
            "linux.sysctl.kernel.semx: not namespaced: setting it would change the host");
  EXPECT_EQ(with("net..x"), "linux.sysctl.net..x: malformed sysctl name");
}

TEST(Validate, UtsNames) {
  auto drop_uts = [](Spec& s) {
    std::erase_if(L(s).namespaces, [](const Namespace& n) { return n.type == "uts"; });
  };
  EXPECT_EQ(ErrorAfter(drop_uts),
            "hostname: setting it requires a uts namespace in linux.namespaces");
  EXPECT_EQ(ErrorAfter([&](Spec& s) {
              drop_uts(s);
              s.hostname.clear();
              s.domainname = "d";
            }),
            "domainname: setting it requires a uts namespace in linux.namespaces");
  EXPECT_EQ(ErrorAfter([](Spec& s) { s.hostname = std::string(65, 'h'); }),
            "hostname: longer than 64 bytes");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              s.hostname.clear();
              s.linux_config.reset();
            }),
            "");
}

TEST(Validate, LinuxMisc) {
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              L(s).personality = Personality{"LINUX64", {}};
            }),
            "linux.personality.domain: unknown domain \"LINUX64\" (want LINUX or LINUX32)");
  EXPECT_EQ(ErrorAfter([](Spec& s) { L(s).personality = Personality{"LINUX32", {}}; }), "");
  EXPECT_EQ(ErrorAfter([](Spec& s) { L(s).rootfs_propagation = "rshared"; }), "");
  EXPECT_EQ(ErrorAfter([](Spec& s) { L(s).rootfs_propagation = "bogus"; }),
            "linux.rootfsPropagation: unknown propagation \"bogus\"");
  EXPECT_EQ(ErrorAfter([](Spec& s) { L(s).time_offsets["monotonic"] = 5; }),
            "linux.timeOffsets: requires a new time namespace in linux.namespaces");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              L(s).namespaces.push_back({"time", ""});
              L(s).time_offsets["realtime"] = 5;
            }),
            "linux.timeOffsets.realtime: unknown clock (want monotonic or boottime)");
  EXPECT_EQ(ErrorAfter([](Spec& s) {
              L(s).namespaces.push_back({"time", ""});
              L(s).time_offsets["boottime"] = 5;
            }),
            "");
  EXPECT_EQ(ErrorAfter([](Spec& s) { L(s).masked_paths.emplace_back("proc/x"); }),
            "linux.maskedPaths[11]: must be an absolute path, got \"proc/x\"");
  EXPECT_EQ(ErrorAfter([](Spec& s) { L(s).readonly_paths.emplace_back(""); }),
            "linux.readonlyPaths[5]: must not be empty");
  EXPECT_EQ(ErrorAfter([](Spec& s) { L(s).cgroups_path = "/a/../../b"; }),
            "linux.cgroupsPath: must not contain \"..\"");
}

TEST(Validate, Seccomp) {
  auto with = [](const std::function<void(Seccomp&)>& f) {
    return ErrorAfter([&](Spec& s) {
      Seccomp sc;
      sc.default_action = "SCMP_ACT_ERRNO";
      sc.architectures = {"SCMP_ARCH_X86_64"};
      sc.syscalls.push_back({{"read"}, "SCMP_ACT_ALLOW", {}, {}});
      f(sc);
      L(s).seccomp = sc;
    });
  };
  EXPECT_EQ(with([](Seccomp&) {}), "");
  EXPECT_EQ(with([](Seccomp& sc) { sc.default_action = "ALLOW"; }),
            "linux.seccomp.defaultAction: unknown seccomp action \"ALLOW\"");
  EXPECT_EQ(with([](Seccomp& sc) { sc.architectures.emplace_back("SCMP_ARCH_VAX"); }),
            "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
  EXPECT_EQ(with([](Seccomp& sc) { sc.flags.emplace_back("FLAG"); }),
            "linux.seccomp.flags[0]: unknown flag \"FLAG\"");
  EXPECT_EQ(with([](Seccomp& sc) { sc.syscalls[0].action = "SCMP_ACT_FOO"; }),
            "linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_FOO\"");
  EXPECT_EQ(with([](Seccomp& sc) { sc.syscalls[0].names.clear(); }),
            "linux.seccomp.syscalls[0].names: must not be empty");
  EXPECT_EQ(with([](Seccomp& sc) {
              sc.syscalls[0].args.push_back({6, 0, 0, "SCMP_CMP_EQ"});
            }),
            "linux.seccomp.syscalls[0].args[0].index: 6 out of range [0, 5]");
  EXPECT_EQ(with([](Seccomp& sc) {
              sc.syscalls[0].args.push_back({0, 0, 0, "EQ"});
            }),
            "linux.seccomp.syscalls[0].args[0].op: unknown operator \"EQ\"");
  EXPECT_EQ(with([](Seccomp& sc) { sc.syscalls[0].action = "SCMP_ACT_NOTIFY"; }),
            "linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY");
}

TEST(Validate, HostileStringsAreQuotedSafely) {
  std::string error = ErrorAfter([](Spec& s) {
    L(s).namespaces.push_back({std::string("\x01\"\xff", 3), ""});
  });
  EXPECT_EQ(error, "linux.namespaces[6].type: unknown namespace type \"\\x01\\\"\\xff\"");
}

}  // namespace
}  // namespace comet::oci
