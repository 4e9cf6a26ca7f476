// Unit tests of the rkt-style pod command parser (pod_run_flags.h): every flag, image grouping,
// the commands' differences, and errors that name the flag.
#include "cli/pod_run_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

PodRunOptions Parse(const std::string& command, const std::vector<std::string>& args) {
  auto parsed = ParsePodRunArgs(command, args);
  EXPECT_TRUE(parsed) << parsed.error().ToString();
  return parsed ? *parsed : PodRunOptions{};
}

std::string ParseError(const std::string& command, const std::vector<std::string>& args) {
  auto parsed = ParsePodRunArgs(command, args);
  EXPECT_FALSE(parsed) << "parsed: " << ::testing::PrintToString(args);
  return parsed ? "" : parsed.error().ToString();
}

TEST(PodRunFlags, OneImageWithDefaults) {
  PodRunOptions o = Parse("run", {"busybox"});
  ASSERT_EQ(o.apps.size(), 1u);
  EXPECT_EQ(o.apps[0].app.image, "busybox");
  EXPECT_FALSE(o.apps[0].exec);
  EXPECT_FALSE(o.apps[0].args_given);
  EXPECT_FALSE(o.detach);
  EXPECT_EQ(o.pull_policy, PullPolicy::kNew);
  EXPECT_EQ(o.pod.net, pod::NetMode::kNetworks) << "rkt's default: the default network";
  EXPECT_EQ(o.pod.networks, std::vector<std::string>{"default"});
  EXPECT_EQ(o.pod.stop_grace_seconds, 10);
}

TEST(PodRunFlags, GroupsSeparatedByTripleDashAndArgs) {
  PodRunOptions o = Parse("run", {"--hostname=h", "a", "--name", "one", "--", "-c", "echo --x",
                                  "---", "b", "--exec=/bin/true", "---", "c", "--"});
  ASSERT_EQ(o.apps.size(), 3u);
  EXPECT_EQ(o.pod.hostname, "h");
  EXPECT_EQ(o.apps[0].app.name, "one");
  EXPECT_TRUE(o.apps[0].args_given);
  EXPECT_THAT(o.apps[0].args, ElementsAre("-c", "echo --x"));
  EXPECT_EQ(o.apps[1].app.image, "b");
  EXPECT_EQ(o.apps[1].exec, "/bin/true");
  EXPECT_FALSE(o.apps[1].args_given);
  EXPECT_TRUE(o.apps[2].args_given);
  EXPECT_TRUE(o.apps[2].args.empty());
}

TEST(PodRunFlags, ImagesWithoutSeparatorAreSeparateApps) {
  PodRunOptions o = Parse("run", {"a", "--name=x", "b"});
  ASSERT_EQ(o.apps.size(), 2u);
  EXPECT_EQ(o.apps[0].app.name, "x");
  EXPECT_EQ(o.apps[1].app.image, "b");
}

TEST(PodRunFlags, FlagValueFormsAreEquivalent) {
  PodRunOptions a = Parse("run", {"--dns", "1.1.1.1", "img", "--memory", "128M"});
  PodRunOptions b = Parse("run", {"--dns=1.1.1.1", "img", "--memory=128M"});
  EXPECT_EQ(a.pod.dns, b.pod.dns);
  EXPECT_EQ(a.apps[0].app.resources.memory_bytes, 128 << 20);
  EXPECT_EQ(b.apps[0].app.resources.memory_bytes, 128 << 20);
  // A value that looks like a flag is still the value.
  PodRunOptions c = Parse("run", {"img", "--oom-score-adj", "-500"});
  EXPECT_EQ(c.apps[0].app.resources.oom_score_adj, -500);
}

TEST(PodRunFlags, PodFlags) {
  PodRunOptions o = Parse("run", {"--hostname=web",
                                  "--dns=1.1.1.1",
                                  "--dns",
                                  "8.8.8.8",
                                  "--dns-search=example.com",
                                  "--dns-opt=ndots:2",
                                  "--net=host",
                                  "--set-env=A=1",
                                  "--set-env",
                                  "B=2=3",
                                  "--set-env-file=/tmp/env",
                                  "--uuid-file-save=/tmp/uuid",
                                  "--pull-policy=never",
                                  "--pod-name=mypod",
                                  "--annotation",
                                  "k=v",
                                  "--pid=pod",
                                  "--stop-timeout=3",
                                  "--no-overlay",
                                  "--rm",
                                  "-d",
                                  "img"});
  EXPECT_EQ(o.pod.hostname, "web");
  EXPECT_THAT(o.pod.dns, ElementsAre("1.1.1.1", "8.8.8.8"));
  EXPECT_THAT(o.pod.dns_search, ElementsAre("example.com"));
  EXPECT_THAT(o.pod.dns_opt, ElementsAre("ndots:2"));
  EXPECT_EQ(o.pod.net, pod::NetMode::kHost);
  EXPECT_THAT(o.set_env, ElementsAre("A=1", "B=2=3"));
  EXPECT_THAT(o.set_env_files, ElementsAre("/tmp/env"));
  EXPECT_EQ(o.uuid_file_save, "/tmp/uuid");
  EXPECT_EQ(o.pull_policy, PullPolicy::kNever);
  EXPECT_EQ(o.pod.name, "mypod");
  EXPECT_EQ(o.pod.annotations.at("k"), "v");
  EXPECT_TRUE(o.pod.share_pid);
  EXPECT_EQ(o.pod.stop_grace_seconds, 3);
  EXPECT_TRUE(o.no_overlay);
  EXPECT_TRUE(o.rm);
  EXPECT_TRUE(o.detach);
  EXPECT_EQ(Parse("run", {"--stop-timeout=20s", "img"}).pod.stop_grace_seconds, 20);
  EXPECT_EQ(Parse("run", {"--pull-policy", "update", "img"}).pull_policy, PullPolicy::kUpdate);
  EXPECT_FALSE(Parse("run", {"--pid=private", "img"}).pod.share_pid);
  EXPECT_EQ(Parse("run", {"--net=none", "img"}).pod.net, pod::NetMode::kNone);
}

TEST(PodRunFlags, AppFlags) {
  PodRunOptions o = Parse("run", {"img",
                                  "--name=web",
                                  "--exec",
                                  "/bin/sh",
                                  "--environment=A=1",
                                  "--environment",
                                  "B=2",
                                  "--user=1000",
                                  "--group=users",
                                  "--supplementary-gids=10,11",
                                  "--supplementary-gids",
                                  "12",
                                  "--working-dir=/srv",
                                  "--readonly-rootfs",
                                  "--cpu=500m",
                                  "--cpu-shares=512",
                                  "--memory=1Gi",
                                  "--pids-limit=64",
                                  "--oom-score-adj=100",
                                  "--caps-retain=net_admin,CAP_SYS_TIME",
                                  "--caps-remove=chown",
                                  "--restart=OnFailure",
                                  "--init",
                                  "-i",
                                  "-t",
                                  "--mount=volume=data,target=/data,readOnly=true"});
  const AppFlags& a = o.apps.at(0);
  EXPECT_EQ(a.app.name, "web");
  EXPECT_EQ(a.exec, "/bin/sh");
  EXPECT_THAT(a.environment, ElementsAre("A=1", "B=2"));
  EXPECT_EQ(a.user, "1000");
  EXPECT_EQ(a.group, "users");
  EXPECT_THAT(a.app.supplementary_gids, ElementsAre(10u, 11u, 12u));
  EXPECT_EQ(a.working_dir, "/srv");
  EXPECT_TRUE(a.app.read_only_rootfs);
  EXPECT_EQ(a.app.resources.cpu_millis, 500);
  EXPECT_EQ(a.app.resources.cpu_shares, 512u);
  EXPECT_EQ(a.app.resources.memory_bytes, int64_t{1} << 30);
  EXPECT_EQ(a.app.resources.pids, 64);
  EXPECT_EQ(a.app.resources.oom_score_adj, 100);
  EXPECT_THAT(a.app.caps_retain, ElementsAre("CAP_NET_ADMIN", "CAP_SYS_TIME"));
  EXPECT_THAT(a.app.caps_remove, ElementsAre("CAP_CHOWN"));
  EXPECT_EQ(a.app.restart, pod::RestartPolicy::kOnFailure);
  EXPECT_TRUE(a.app.init);
  EXPECT_TRUE(a.app.stdin);
  EXPECT_TRUE(a.app.tty);
  ASSERT_EQ(a.app.mounts.size(), 1u);
  EXPECT_EQ(a.app.mounts[0].volume, "data");
  EXPECT_EQ(a.app.mounts[0].target, "/data");
  EXPECT_TRUE(a.app.mounts[0].read_only);
  EXPECT_TRUE(o.pod_mounts.empty());
}

TEST(PodRunFlags, PodLevelInteractiveAndTtyGoToTheFirstApp) {
  PodRunOptions o = Parse("run", {"-it", "a", "---", "b"});
  EXPECT_TRUE(o.apps[0].app.stdin);
  EXPECT_TRUE(o.apps[0].app.tty);
  EXPECT_FALSE(o.apps[1].app.stdin);
  EXPECT_FALSE(o.apps[1].app.tty);
  PodRunOptions long_form = Parse("run", {"--interactive", "--tty=true", "a"});
  EXPECT_TRUE(long_form.apps[0].app.stdin);
  EXPECT_TRUE(long_form.apps[0].app.tty);
}

TEST(PodRunFlags, BooleanValues) {
  EXPECT_FALSE(Parse("run", {"--rm=false", "img"}).rm);
  EXPECT_TRUE(Parse("run", {"--rm=1", "img"}).rm);
  EXPECT_FALSE(Parse("run", {"img", "--readonly-rootfs=false"}).apps[0].app.read_only_rootfs);
  EXPECT_THAT(ParseError("run", {"--rm=maybe", "img"}), HasSubstr("--rm"));
  // A boolean never takes the next argument: that is the image.
  PodRunOptions o = Parse("run", {"--rm", "img"});
  EXPECT_TRUE(o.rm);
  EXPECT_EQ(o.apps.at(0).app.image, "img");
}

TEST(PodRunFlags, Volumes) {
  PodRunOptions o =
      Parse("run", {"--volume=data,kind=host,source=/srv/data,readOnly=true,recursive=false",
                    "--volume", "scratch,kind=empty,mode=0700,uid=5,gid=6,medium=memory,size=64M",
                    "--volume=/host/dir:/ctr:ro", "--mount", "volume=data,target=/data", "img"});
  ASSERT_EQ(o.pod.volumes.size(), 3u);
  const pod::Volume& host = o.pod.volumes[0];
  EXPECT_EQ(host.name, "data");
  EXPECT_EQ(host.kind, pod::VolumeKind::kHost);
  EXPECT_EQ(host.source, "/srv/data");
  EXPECT_TRUE(host.read_only);
  EXPECT_FALSE(host.recursive);
  const pod::Volume& empty = o.pod.volumes[1];
  EXPECT_EQ(empty.kind, pod::VolumeKind::kEmpty);
  EXPECT_EQ(empty.mode, 0700u);
  EXPECT_EQ(empty.uid, 5u);
  EXPECT_EQ(empty.gid, 6u);
  EXPECT_EQ(empty.medium, "memory");
  EXPECT_EQ(empty.size_bytes, 64u << 20);
  const pod::Volume& shorthand = o.pod.volumes[2];
  EXPECT_EQ(shorthand.kind, pod::VolumeKind::kHost);
  EXPECT_EQ(shorthand.source, "/host/dir");
  EXPECT_TRUE(shorthand.read_only);
  // The shorthand's mount and the pod-level --mount apply to every app.
  ASSERT_EQ(o.pod_mounts.size(), 2u);
  EXPECT_EQ(o.pod_mounts[0].volume, shorthand.name);
  EXPECT_EQ(o.pod_mounts[0].target, "/ctr");
  EXPECT_EQ(o.pod_mounts[1].volume, "data");
}

TEST(PodRunFlags, VolumeErrorsNameTheVolume) {
  EXPECT_THAT(ParseError("run", {"--volume=v,kind=host", "img"}),
              HasSubstr("volume v: kind=host needs source"));
  EXPECT_THAT(ParseError("run", {"--volume=v,kind=host,source=rel", "img"}),
              HasSubstr("must be an absolute path"));
  EXPECT_THAT(ParseError("run", {"--volume=v,kind=odd", "img"}), HasSubstr("volume v: kind"));
  EXPECT_THAT(ParseError("run", {"--volume=v,kind=empty,mode=999", "img"}), HasSubstr("mode"));
  EXPECT_THAT(ParseError("run", {"--volume=v,colour=red", "img"}), HasSubstr("colour"));
  EXPECT_THAT(ParseError("run", {"--volume=/a:rel", "img"}), HasSubstr("--volume"));
  EXPECT_THAT(ParseError("run", {"--mount=volume=v", "img"}), HasSubstr("--mount"));
  EXPECT_THAT(ParseError("run", {"--mount=volume=v,target=rel", "img"}), HasSubstr("absolute"));
}

TEST(PodRunFlags, ValueErrorsNameTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--net=ns:relative", "img"}, "--net"},
      {{"--net=a,,b", "img"}, "--net"},
      {{"--port=80", "img"}, "--port"},
      {{"--hosts-entry=db", "img"}, "--hosts-entry"},
      {{"--pull-policy=sometimes", "img"}, "--pull-policy"},
      {{"--pid=host", "img"}, "--pid"},
      {{"--stop-timeout=-1", "img"}, "--stop-timeout"},
      {{"--set-env=NOEQUALS", "img"}, "--set-env"},
      {{"--annotation==v", "img"}, "--annotation"},
      {{"img", "--cpu=lots"}, "--cpu"},
      {{"img", "--memory=12parsecs"}, "--memory"},
      {{"img", "--pids-limit=-3"}, "--pids-limit"},
      {{"img", "--oom-score-adj=2000"}, "--oom-score-adj"},
      {{"img", "--caps-retain=net-admin"}, "--caps-retain"},
      {{"img", "--restart=sometimes"}, "--restart"},
      {{"img", "--supplementary-gids=x"}, "--supplementary-gids"},
      {{"img", "--working-dir=relative"}, "--working-dir"},
      {{"img", "--environment=X"}, "--environment"},
      {{"img", "--name"}, "--name: missing value"},
  };
  for (const auto& [args, expected] : cases) {
    EXPECT_THAT(ParseError("run", args), HasSubstr(expected)) << ::testing::PrintToString(args);
  }
}

TEST(PodRunFlags, PlacementErrors) {
  EXPECT_THAT(ParseError("run", {"img", "--rm"}),
              HasSubstr("--rm: a pod flag: give it before the first image"));
  EXPECT_THAT(ParseError("run", {"--exec=/bin/sh", "img"}),
              HasSubstr("--exec: an app flag: give it after its image"));
  EXPECT_THAT(ParseError("run", {"--bogus", "img"}), HasSubstr("unknown flag --bogus"));
  EXPECT_THAT(ParseError("run", {"-x", "img"}), HasSubstr("unknown flag -x"));
  EXPECT_THAT(ParseError("run", {}), HasSubstr("missing image"));
  EXPECT_THAT(ParseError("run", {"--rm"}), HasSubstr("missing image"));
  EXPECT_THAT(ParseError("run", {"--", "x"}), HasSubstr("--: arguments must follow an image"));
  EXPECT_THAT(ParseError("run", {"---", "img"}), HasSubstr("---: expected an image before"));
  EXPECT_THAT(ParseError("run", {"img", "---"}), HasSubstr("---: expected an image after"));
  EXPECT_THAT(ParseError("run", {"img", "---", "--name=x"}),
              HasSubstr("expected an image after ---"));
  EXPECT_THAT(ParseError("run", {"-d", "--attach", "img"}), HasSubstr("--attach"));
}

TEST(PodRunFlags, PrepareRefusesRunOnlyFlags) {
  EXPECT_THAT(ParseError("prepare", {"-d", "img"}), HasSubstr("-d: not a flag of prepare"));
  EXPECT_THAT(ParseError("prepare", {"--rm", "img"}), HasSubstr("--rm: not a flag of prepare"));
  EXPECT_THAT(ParseError("prepare", {"--attach", "img"}), HasSubstr("--attach"));
  PodRunOptions o = Parse("prepare", {"--quiet", "-i", "img", "--name=x"});
  EXPECT_TRUE(o.quiet);
  EXPECT_TRUE(o.apps[0].app.stdin);
  EXPECT_THAT(ParseError("run", {"--quiet", "img"}), HasSubstr("--quiet: not a flag of run"));
}

TEST(PodRunFlags, RunPrepared) {
  PodRunOptions o = Parse("run-prepared", {"-d", "abcd1234", "-i", "--rm"});
  EXPECT_EQ(o.uuid, "abcd1234");
  EXPECT_TRUE(o.detach);
  EXPECT_TRUE(o.interactive);
  EXPECT_TRUE(o.rm);
  EXPECT_THAT(ParseError("run-prepared", {}), HasSubstr("missing pod UUID"));
  EXPECT_THAT(ParseError("run-prepared", {"a", "b"}), HasSubstr("\"b\": unexpected argument"));
  EXPECT_THAT(ParseError("run-prepared", {"a", "--hostname=x"}),
              HasSubstr("--hostname: not a flag of run-prepared"));
}

TEST(PodRunFlags, AppSandbox) {
  PodRunOptions o = Parse("app sandbox", {"--hostname=box", "--volume=v,kind=empty", "-q"});
  EXPECT_TRUE(o.pod.mutable_pod);
  EXPECT_TRUE(o.detach);
  EXPECT_TRUE(o.apps.empty());
  EXPECT_EQ(o.pod.hostname, "box");
  EXPECT_EQ(o.pod.volumes.size(), 1u);
  EXPECT_THAT(ParseError("app sandbox", {"busybox"}), HasSubstr("app add"));
  EXPECT_THAT(ParseError("app sandbox", {"--exec=/x"}), HasSubstr("--exec"));
}

TEST(PodRunFlags, AppAdd) {
  PodRunOptions o = Parse("app add", {"--pull-policy=never", "1234abcd", "busybox", "--name=web",
                                      "--mount=volume=v,target=/v", "--", "sleep", "9"});
  EXPECT_EQ(o.uuid, "1234abcd");
  EXPECT_EQ(o.pull_policy, PullPolicy::kNever);
  ASSERT_EQ(o.apps.size(), 1u);
  EXPECT_EQ(o.apps[0].app.image, "busybox");
  EXPECT_EQ(o.apps[0].app.name, "web");
  EXPECT_EQ(o.apps[0].app.mounts.size(), 1u);
  EXPECT_THAT(o.apps[0].args, ElementsAre("sleep", "9"));
  EXPECT_THAT(ParseError("app add", {}), HasSubstr("missing pod UUID"));
  EXPECT_THAT(ParseError("app add", {"1234abcd"}), HasSubstr("missing image"));
  EXPECT_THAT(ParseError("app add", {"1234abcd", "a", "---", "b"}), HasSubstr("one image"));
  EXPECT_THAT(ParseError("app add", {"--hostname=x", "u", "img"}),
              HasSubstr("--hostname: not a flag of app add"));
}

TEST(PodRunFlags, Help) {
  EXPECT_TRUE(Parse("run", {"--help"}).help);
  EXPECT_TRUE(Parse("run", {"-h"}).help);
  EXPECT_TRUE(Parse("run", {"img", "--help"}).help);
  EXPECT_TRUE(Parse("run-prepared", {"--help"}).help);
  EXPECT_TRUE(Parse("app add", {"--help"}).help);
  EXPECT_TRUE(Parse("app sandbox", {"-h"}).help);
}

TEST(PodRunFlags, UnknownCommand) {
  EXPECT_THAT(ParseError("frobnicate", {}), HasSubstr("unknown command"));
}

TEST(PodRunValues, CpuMillis) {
  EXPECT_EQ(ParseCpuMillis("500m").value(), 500);
  EXPECT_EQ(ParseCpuMillis("2").value(), 2000);
  EXPECT_EQ(ParseCpuMillis("0.5").value(), 500);
  EXPECT_EQ(ParseCpuMillis("1.25").value(), 1250);
  for (const char* bad : {"", "m", "0", "0m", "-1", "1.", ".5", "1.2345", "2x", "1e3"}) {
    EXPECT_FALSE(ParseCpuMillis(bad)) << bad;
  }
}

TEST(PodRunValues, ByteSize) {
  EXPECT_EQ(ParseByteSize("512").value(), 512);
  EXPECT_EQ(ParseByteSize("64k").value(), 64 << 10);
  EXPECT_EQ(ParseByteSize("128M").value(), 128 << 20);
  EXPECT_EQ(ParseByteSize("128Mi").value(), 128 << 20);
  EXPECT_EQ(ParseByteSize("1Gi").value(), int64_t{1} << 30);
  EXPECT_EQ(ParseByteSize("2GiB").value(), int64_t{2} << 30);
  for (const char* bad : {"", "0", "-1", "M", "12q", "1Xi"}) {
    EXPECT_FALSE(ParseByteSize(bad)) << bad;
  }
}

TEST(PodRunValues, CapList) {
  EXPECT_THAT(ParseCapList("net_admin,CAP_SYS_TIME,Cap_Chown").value(),
              ElementsAre("CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_CHOWN"));
  EXPECT_FALSE(ParseCapList("net admin"));
  EXPECT_FALSE(ParseCapList("CAP_"));
  EXPECT_FALSE(ParseCapList("a,,b"));
}

TEST(PodRunValues, VolumeKindDefaultsFromSource) {
  EXPECT_EQ(ParseVolumeFlag("v,source=/x").value().kind, pod::VolumeKind::kHost);
  EXPECT_EQ(ParseVolumeFlag("v").value().kind, pod::VolumeKind::kEmpty);
  EXPECT_FALSE(ParseVolumeFlag("v,kind=empty,source=/x"));
  EXPECT_FALSE(ParseVolumeFlag("kind=host"));
}

TEST(PodRunFlags, InsecureOptionsSeccomp) {
  for (const char* value : {"seccomp", "all-run", "none,seccomp"}) {
    PodRunOptions o = Parse("run", {std::string("--insecure-options=") + value, "img"});
    EXPECT_EQ(o.pod.annotations[pod::kSeccompAnnotation], pod::kSeccompUnconfined) << value;
  }
  EXPECT_EQ(Parse("run", {"--insecure-options=none", "img"})
                .pod.annotations.count(pod::kSeccompAnnotation),
            0u);
  EXPECT_EQ(Parse("app sandbox", {"--insecure-options", "seccomp"})
                .pod.annotations[pod::kSeccompAnnotation],
            pod::kSeccompUnconfined);
  EXPECT_THAT(ParseError("run", {"--insecure-options=seccomp,paths", "img"}),
              HasSubstr(R"(--insecure-options: "paths": not supported)"));
  EXPECT_THAT(ParseError("run", {"--insecure-options=capabilities", "img"}),
              HasSubstr("not supported"));
  EXPECT_THAT(ParseError("run", {"--insecure-options=bogus", "img"}),
              HasSubstr(R"("bogus": unknown option)"));
  EXPECT_THAT(ParseError("run", {"img", "--insecure-options=seccomp"}), HasSubstr("a pod flag"));
}

}  // namespace
}  // namespace comet::cli
