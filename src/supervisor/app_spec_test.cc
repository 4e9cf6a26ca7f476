#include "supervisor/app_spec.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "oci/validate.h"

namespace comet::supervisor {
namespace {

pod::PodManifest TestManifest() {
  pod::PodManifest manifest;
  manifest.uuid = "0a1b2c3d-0000-4000-8000-000000000001";
  pod::App app;
  app.name = "web";
  app.image = "busybox";
  app.image_id = "sha256:" + std::string(64, 'a');
  app.exec = {"/bin/sh", "-c", "true"};
  app.env = {"FOO=bar"};
  manifest.apps.push_back(app);
  pod::Volume data;
  data.name = "data";
  data.kind = pod::VolumeKind::kEmpty;
  manifest.volumes.push_back(data);
  pod::Volume host;
  host.name = "host";
  host.kind = pod::VolumeKind::kHost;
  host.source = "/srv/x";
  host.read_only = true;
  manifest.volumes.push_back(host);
  return manifest;
}

AppSpecInput Input(const pod::PodManifest& manifest) {
  AppSpecInput input;
  input.manifest = &manifest;
  input.app = manifest.apps.data();
  input.pod_dir = "/var/lib/comet/pods/run/" + manifest.uuid;
  input.supervisor_pid = 4242;
  input.user.uid = 1000;
  input.user.gid = 1000;
  input.user.home = "/home/u";
  return input;
}

const oci::Namespace* FindNs(const oci::Spec& spec, const std::string& type) {
  for (const oci::Namespace& ns : spec.linux_config->namespaces) {
    if (ns.type == type) {
      return &ns;
    }
  }
  return nullptr;
}

const oci::Mount* FindMount(const oci::Spec& spec, const std::string& destination) {
  for (const oci::Mount& mount : spec.mounts) {
    if (mount.destination == destination) {
      return &mount;
    }
  }
  return nullptr;
}

TEST(AppCapabilitiesTest, DefaultRemoveRetain) {
  pod::App app;
  auto caps = AppCapabilities(app);
  ASSERT_TRUE(caps);
  EXPECT_EQ(*caps, DefaultCapabilities());
  EXPECT_EQ(std::count(caps->begin(), caps->end(), "CAP_NET_RAW"), 0);

  app.caps_remove = {"chown", "CAP_KILL"};
  caps = AppCapabilities(app);
  ASSERT_TRUE(caps);
  EXPECT_EQ(caps->size(), DefaultCapabilities().size() - 2);
  EXPECT_EQ(std::count(caps->begin(), caps->end(), "CAP_CHOWN"), 0);

  app.caps_retain = {"net_admin", "CAP_NET_ADMIN", "sys_time"};
  caps = AppCapabilities(app);
  ASSERT_TRUE(caps);
  EXPECT_EQ(*caps, (std::vector<std::string>{"CAP_NET_ADMIN", "CAP_SYS_TIME"}));

  app.caps_retain = {"CAP_BOGUS"};
  caps = AppCapabilities(app);
  ASSERT_FALSE(caps);
  EXPECT_NE(caps.error().ToString().find("CAP_BOGUS"), std::string::npos);
}

TEST(AppSpecTest, ProcessAndRoot) {
  pod::PodManifest manifest = TestManifest();
  manifest.apps[0].read_only_rootfs = true;
  manifest.apps[0].working_dir = "/srv";
  manifest.apps[0].resources.oom_score_adj = 500;
  auto spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->process->args, manifest.apps[0].exec);
  EXPECT_EQ(spec->process->cwd, "/srv");
  EXPECT_EQ(spec->process->user.uid, 1000U);
  EXPECT_TRUE(spec->process->no_new_privileges);
  EXPECT_EQ(spec->process->oom_score_adj, 500);
  EXPECT_FALSE(spec->process->terminal);
  const auto& env = spec->process->env;
  EXPECT_NE(std::find(env.begin(), env.end(), "FOO=bar"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "HOME=/home/u"), env.end());
  EXPECT_TRUE(std::any_of(env.begin(), env.end(),
                          [](const std::string& e) { return e.rfind("PATH=", 0) == 0; }));
  EXPECT_EQ(spec->root.path, "/var/lib/comet/pods/run/" + manifest.uuid + "/apps/web/rootfs");
  EXPECT_TRUE(spec->root.readonly);
  EXPECT_EQ(spec->linux_config->cgroups_path, "/comet/pod-" + manifest.uuid + "/web");
  EXPECT_FALSE(spec->linux_config->masked_paths.empty());
  EXPECT_TRUE(spec->hostname.empty());  // the uts namespace is joined, not made
  oci::ValidateOptions options;
  auto valid = oci::Validate(*spec, options);
  EXPECT_TRUE(valid) << valid.error().ToString();
}

TEST(AppSpecTest, NamespacesJoinTheSupervisors) {
  pod::PodManifest manifest = TestManifest();
  auto spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec);
  ASSERT_TRUE(FindNs(*spec, "network"));
  EXPECT_EQ(FindNs(*spec, "network")->path, "/proc/4242/ns/net");
  EXPECT_EQ(FindNs(*spec, "ipc")->path, "/proc/4242/ns/ipc");
  EXPECT_EQ(FindNs(*spec, "uts")->path, "/proc/4242/ns/uts");
  EXPECT_EQ(FindNs(*spec, "pid")->path, "");
  EXPECT_EQ(FindNs(*spec, "mount")->path, "");
  EXPECT_FALSE(FindNs(*spec, "user"));

  manifest.net = pod::NetMode::kHost;
  manifest.share_pid = true;
  AppSpecInput input = Input(manifest);
  input.pid_namespace_holder = 77;
  spec = BuildAppSpec(input);
  ASSERT_TRUE(spec);
  EXPECT_FALSE(FindNs(*spec, "network"));
  EXPECT_EQ(FindNs(*spec, "pid")->path, "/proc/77/ns/pid");
}

TEST(AppSpecTest, HostPidAndIpc) {
  pod::PodManifest manifest = TestManifest();
  manifest.host_pid = true;
  manifest.host_ipc = true;
  auto spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(FindNs(*spec, "pid"), nullptr);  // the supervisor's: the host's
  ASSERT_NE(FindNs(*spec, "ipc"), nullptr);
  EXPECT_EQ(FindNs(*spec, "ipc")->path, "/proc/4242/ns/ipc");
  const oci::Mount* shm = FindMount(*spec, "/dev/shm");
  ASSERT_NE(shm, nullptr);
  EXPECT_EQ(shm->type, "bind");
  EXPECT_EQ(shm->source, "/dev/shm");
  // Without them: a pid namespace of the app's own and a private /dev/shm.
  auto plain = BuildAppSpec(Input(TestManifest()));
  ASSERT_TRUE(plain);
  ASSERT_NE(FindNs(*plain, "pid"), nullptr);
  EXPECT_NE(FindMount(*plain, "/dev/shm")->type, "bind");
}

TEST(AppSpecTest, SubPathMountsBindTheStagedSource) {
  pod::PodManifest manifest = TestManifest();
  manifest.apps[0].mounts = {{"data", "/conf", true, "etc/app"}, {"host", "/h", false, ""}};
  AppSpecInput input = Input(manifest);
  auto unstaged = BuildAppSpec(input);
  ASSERT_FALSE(unstaged);
  EXPECT_NE(unstaged.error().ToString().find("not staged"), std::string::npos);
  input.sub_path_sources = {"/stage/web/0", ""};
  auto spec = BuildAppSpec(input);
  ASSERT_TRUE(spec) << spec.error().ToString();
  const oci::Mount* conf = FindMount(*spec, "/conf");
  ASSERT_NE(conf, nullptr);
  EXPECT_EQ(conf->source, "/stage/web/0");
  EXPECT_NE(std::find(conf->options.begin(), conf->options.end(), "ro"), conf->options.end());
  EXPECT_EQ(FindMount(*spec, "/h")->source, "/srv/x");
}

TEST(AppSpecTest, ResourcesAndVolumes) {
  pod::PodManifest manifest = TestManifest();
  pod::App& app = manifest.apps[0];
  app.resources.cpu_millis = 500;
  app.resources.cpu_shares = 512;
  app.resources.memory_bytes = 128 << 20;
  app.resources.pids = 64;
  app.mounts = {{"data", "/data", false, ""}, {"host", "/host", false, ""}};
  AppSpecInput input = Input(manifest);
  input.resolv_conf = true;
  auto spec = BuildAppSpec(input);
  ASSERT_TRUE(spec) << spec.error().ToString();
  const oci::Resources& resources = *spec->linux_config->resources;
  EXPECT_EQ(resources.cpu->quota, 50000);
  EXPECT_EQ(resources.cpu->period, 100000U);
  EXPECT_EQ(resources.cpu->shares, 512U);
  EXPECT_EQ(resources.memory->limit, 128 << 20);
  EXPECT_EQ(resources.pids->limit, 64);
  const oci::Mount* data = FindMount(*spec, "/data");
  ASSERT_TRUE(data);
  EXPECT_EQ(data->source, input.pod_dir + "/volumes/data");
  const oci::Mount* host = FindMount(*spec, "/host");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->source, "/srv/x");
  EXPECT_NE(std::find(host->options.begin(), host->options.end(), "ro"), host->options.end());
  ASSERT_TRUE(FindMount(*spec, "/etc/hosts"));
  EXPECT_EQ(FindMount(*spec, "/etc/hosts")->source, input.pod_dir + "/state/etc/hosts");
  ASSERT_TRUE(FindMount(*spec, "/etc/resolv.conf"));

  app.mounts = {{"nope", "/x", false, ""}};
  EXPECT_FALSE(BuildAppSpec(Input(manifest)));
}

TEST(AppSpecTest, TtyAddsTerm) {
  pod::PodManifest manifest = TestManifest();
  manifest.apps[0].tty = true;
  auto spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec);
  EXPECT_TRUE(spec->process->terminal);
  const auto& env = spec->process->env;
  EXPECT_NE(std::find(env.begin(), env.end(), "TERM=xterm"), env.end());
}

// True when `spec`'s seccomp profile denies `name` (a rule naming it).
bool SeccompNames(const oci::Spec& spec, const std::string& name) {
  const auto& rules = spec.linux_config->seccomp->syscalls;
  return std::any_of(rules.begin(), rules.end(), [&](const oci::SeccompSyscall& rule) {
    return std::find(rule.names.begin(), rule.names.end(), name) != rule.names.end();
  });
}

TEST(AppSpecTest, DefaultSeccompProfileFollowsCapabilities) {
  pod::PodManifest manifest = TestManifest();
  auto spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec) << spec.error().ToString();
  ASSERT_TRUE(spec->linux_config->seccomp.has_value());
  EXPECT_EQ(spec->linux_config->seccomp->default_action, "SCMP_ACT_ALLOW");
  EXPECT_TRUE(SeccompNames(*spec, "keyctl"));
  EXPECT_TRUE(SeccompNames(*spec, "mount"));
  EXPECT_TRUE(SeccompNames(*spec, "ptrace"));

  manifest.apps[0].caps_retain = {"sys_admin"};
  spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_FALSE(SeccompNames(*spec, "mount"));
  EXPECT_TRUE(SeccompNames(*spec, "ptrace"));
  oci::ValidateOptions options;
  auto valid = oci::Validate(*spec, options);
  EXPECT_TRUE(valid) << valid.error().ToString();
}

TEST(AppSpecTest, SeccompAnnotationOptsOut) {
  pod::PodManifest manifest = TestManifest();
  manifest.annotations[pod::kSeccompAnnotation] = pod::kSeccompUnconfined;
  auto spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_FALSE(spec->linux_config->seccomp.has_value());

  manifest.annotations[pod::kSeccompAnnotation] = "default";
  spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_TRUE(spec->linux_config->seccomp.has_value());

  manifest.annotations[pod::kSeccompAnnotation] = "bogus";
  spec = BuildAppSpec(Input(manifest));
  ASSERT_FALSE(spec);
  EXPECT_NE(spec.error().ToString().find("comet.dev/seccomp"), std::string::npos)
      << spec.error().ToString();
}

}  // namespace
}  // namespace comet::supervisor
