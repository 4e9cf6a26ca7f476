// Tests of ToPodDraft (to_comet.cc and the conversions it calls): Pods built in C++, drafts
// checked field by field.
#include "kube/to_comet.h"

#include <unistd.h>

#include <algorithm>
#include <array>

#include <gtest/gtest.h>

#include "kube/container_convert.h"
#include "kube/node_info.h"
#include "kube/to_comet_test_fixture.h"
#include "os/file.h"

namespace comet::kube {
namespace {

using fixture::MakeContainer;
using fixture::MakePod;
using fixture::Port;
using fixture::Strings;
using fixture::ToPodDraftTest;

TEST_F(ToPodDraftTest, PodLevelFields) {
  Pod pod = MakePod();
  pod.metadata.labels = {{"app", "shop"}, {"app.kubernetes.io/tier", "front"}};
  pod.metadata.annotations = {{"note", "hi"}, {kPodUidAnnotation, "spoofed"}};
  pod.spec.termination_grace_period_seconds = 45;
  PodDraft draft = ConvertOk(pod);
  EXPECT_EQ(draft.pod.name, "web");
  EXPECT_EQ(draft.pod.hostname, "web");
  EXPECT_EQ(draft.pod.net, pod::NetMode::kNetworks);
  EXPECT_EQ(draft.pod.networks, Strings{"default"});
  EXPECT_EQ(draft.pod.stop_grace_seconds, 45);
  EXPECT_FALSE(draft.pod.host_pid);
  EXPECT_FALSE(draft.pod.host_ipc);
  EXPECT_FALSE(draft.pod.share_pid);
  EXPECT_TRUE(draft.pod.apps.empty());  // stage0 builds them from the drafts
  EXPECT_EQ(draft.pod.annotations, (std::map<std::string, std::string>{
                                       {"note", "hi"},
                                       {"io.kubernetes.label/app", "shop"},
                                       {"io.kubernetes.label/app.kubernetes.io/tier", "front"},
                                       {kManagedByAnnotation, "true"},
                                       {kPodUidAnnotation, "5f0c3a5e-0000-4000-8000-000000000001"},
                                       {kPodNameAnnotation, "web"},
                                       {kPodNamespaceAnnotation, "shop"},
                                       {kQosClassAnnotation, "BestEffort"}}));
  EXPECT_EQ(draft.qos, QosClass::kBestEffort);
}

TEST_F(ToPodDraftTest, GeneratedUidAndName) {
  Pod pod = MakePod();
  pod.metadata.uid.clear();
  pod.metadata.name.clear();
  pod.metadata.generate_name = "job-";
  EnvVarSource uid;
  uid.field_ref = ObjectFieldSelector{"metadata.uid"};
  EnvVarSource name;
  name.field_ref = ObjectFieldSelector{"metadata.name"};
  pod.spec.containers[0].env = {EnvVar{.name = "UID", .value = "", .value_from = uid},
                                EnvVar{.name = "NAME", .value = "", .value_from = name}};
  PodDraft draft = ConvertOk(pod);
  const std::string& generated = draft.pod.annotations[kPodUidAnnotation];
  EXPECT_TRUE(pod::IsValidUuid(generated)) << generated;
  ASSERT_EQ(draft.pod.name.size(), 9u);
  EXPECT_EQ(draft.pod.name.rfind("job-", 0), 0u);
  EXPECT_EQ(draft.pod.annotations[kPodNameAnnotation], draft.pod.name);
  ASSERT_EQ(draft.containers.size(), 1u);
  EXPECT_EQ(draft.containers[0].env, (Strings{"UID=" + generated, "NAME=" + draft.pod.name}));

  pod.metadata.generate_name.clear();
  EXPECT_EQ(ConvertError(pod), "metadata.name: required");
}

TEST_F(ToPodDraftTest, Hostnames) {
  Pod pod = MakePod();
  pod.metadata.name = std::string(60, 'a') + "-b-c";  // 64 characters
  EXPECT_EQ(ConvertOk(pod).pod.hostname, std::string(60, 'a') + "-b");
  pod.metadata.name = std::string(62, 'a') + "-x";  // cut to 63 ends with '-'
  EXPECT_EQ(ConvertOk(pod).pod.hostname, std::string(62, 'a'));

  pod = MakePod();
  pod.spec.hostname = "front-0";
  pod.spec.subdomain = "nginx";
  PodDraft draft = ConvertOk(pod);
  EXPECT_EQ(draft.pod.hostname, "front-0");
  ASSERT_EQ(draft.pod.hosts_entries.size(), 1u);
  EXPECT_EQ(draft.pod.hosts_entries[0].ip, "127.0.1.1");
  EXPECT_EQ(draft.pod.hosts_entries[0].names, Strings{"front-0.nginx.shop.svc.cluster.local"});

  pod.spec.hostname = "Bad_Name";
  EXPECT_EQ(ConvertError(pod).rfind("spec.hostname: \"Bad_Name\": ", 0), 0u);
}

TEST_F(ToPodDraftTest, HostAliases) {
  Pod pod = MakePod();
  pod.spec.host_aliases = {HostAlias{.ip = "10.0.0.5", .hostnames = {"db", "db.local"}}};
  PodDraft draft = ConvertOk(pod);
  ASSERT_EQ(draft.pod.hosts_entries.size(), 1u);
  EXPECT_EQ(draft.pod.hosts_entries[0].ip, "10.0.0.5");
  EXPECT_EQ(draft.pod.hosts_entries[0].names, (Strings{"db", "db.local"}));

  pod.spec.host_aliases[0].ip = "db";
  EXPECT_EQ(ConvertError(pod), "spec.hostAliases[0].ip: \"db\": not an IP address");
}

TEST_F(ToPodDraftTest, HostNamespaces) {
  Pod pod = MakePod();
  pod.spec.host_network = true;
  pod.spec.host_pid = true;
  pod.spec.host_ipc = true;
  pod.spec.containers[0].ports = {Port("http", 80, 80)};
  PodDraft draft = ConvertOk(pod);
  EXPECT_EQ(draft.pod.net, pod::NetMode::kHost);
  EXPECT_TRUE(draft.pod.networks.empty());
  EXPECT_TRUE(draft.pod.host_pid);
  EXPECT_TRUE(draft.pod.host_ipc);
  EXPECT_TRUE(draft.pod.ports.empty());
  EXPECT_TRUE(draft.containers[0].ports.empty());
  std::array<char, 256> host{};
  ASSERT_EQ(::gethostname(host.data(), host.size() - 1), 0);
  EXPECT_EQ(draft.pod.hostname, host.data());

  pod = MakePod();
  pod.spec.share_process_namespace = true;
  EXPECT_TRUE(ConvertOk(pod).pod.share_pid);
  pod.spec.host_pid = true;
  EXPECT_EQ(ConvertError(pod), "spec.shareProcessNamespace: cannot be used with hostPID");
}

TEST_F(ToPodDraftTest, HostPorts) {
  Pod pod = MakePod();
  pod.spec.containers[0].ports = {Port("http", 8080, 80), Port("dns", 53, 5353, "127.0.0.1", "UDP"),
                                  Port("metrics", 9090)};  // not published
  PodDraft draft = ConvertOk(pod);
  ASSERT_EQ(draft.pod.ports.size(), 2u);
  EXPECT_EQ(draft.pod.ports[0].name, "http");
  EXPECT_EQ(draft.pod.ports[0].host_ip, "");
  EXPECT_EQ(draft.pod.ports[0].host_port, 80u);
  EXPECT_EQ(draft.pod.ports[0].pod_port, 8080u);
  EXPECT_EQ(draft.pod.ports[0].protocol, "tcp");
  EXPECT_EQ(draft.pod.ports[1].host_ip, "127.0.0.1");
  EXPECT_EQ(draft.pod.ports[1].host_port, 5353u);
  EXPECT_EQ(draft.pod.ports[1].pod_port, 53u);
  EXPECT_EQ(draft.pod.ports[1].protocol, "udp");
  EXPECT_EQ(draft.containers[0].ports.size(), 2u);

  pod.spec.containers[0].ports[1].protocol = "SCTP";
  EXPECT_EQ(ConvertError(pod),
            "spec.containers[0].ports[1].protocol: \"SCTP\": not supported (want TCP or UDP)");

  pod.spec.containers[0].ports[1].protocol = "TCP";
  pod.spec.containers[0].ports[1].host_ip = "";
  pod.spec.containers[0].ports[1].host_port = 80;
  EXPECT_EQ(ConvertError(pod), "containers \"app\": hostPort 80/tcp published twice");
}

TEST_F(ToPodDraftTest, ContainersInOrderWithRestartPolicies) {
  Pod pod = MakePod();
  pod.spec.init_containers = {MakeContainer("migrate"), MakeContainer("warm")};
  pod.spec.containers = {MakeContainer("app"), MakeContainer("log")};
  PodDraft draft = ConvertOk(pod);
  ASSERT_EQ(draft.containers.size(), 4u);
  const Strings names = {"migrate", "warm", "app", "log"};
  for (size_t i = 0; i < names.size(); ++i) {
    const pod::App& app = draft.containers[i].app;
    EXPECT_EQ(app.name, names[i]);
    EXPECT_EQ(app.init, i < 2);
    EXPECT_EQ(app.restart, i < 2 ? pod::RestartPolicy::kOnFailure : pod::RestartPolicy::kAlways);
    EXPECT_EQ(app.annotations.at(kContainerNameAnnotation), names[i]);
  }

  pod.spec.restart_policy = "OnFailure";
  draft = ConvertOk(pod);
  for (const ContainerDraft& c : draft.containers) {
    EXPECT_EQ(c.app.restart, pod::RestartPolicy::kOnFailure) << c.app.name;
  }
  pod.spec.restart_policy = "Never";
  draft = ConvertOk(pod);
  for (const ContainerDraft& c : draft.containers) {
    EXPECT_EQ(c.app.restart, pod::RestartPolicy::kNever) << c.app.name;
  }
  pod.spec.restart_policy = "Sometimes";
  EXPECT_EQ(ConvertError(pod),
            "spec.restartPolicy: \"Sometimes\": unknown (want Always, OnFailure or Never)");
}

TEST_F(ToPodDraftTest, SidecarInitContainerRunsAsAnApp) {
  Pod pod = MakePod();
  pod.spec.init_containers = {MakeContainer("init"), MakeContainer("proxy")};
  pod.spec.init_containers[1].restart_policy = "Always";
  pod.spec.restart_policy = "Never";
  PodDraft draft = ConvertOk(pod);
  ASSERT_EQ(draft.containers.size(), 3u);
  EXPECT_EQ(draft.containers[0].app.name, "init");
  EXPECT_TRUE(draft.containers[0].app.init);
  EXPECT_EQ(draft.containers[1].app.name, "proxy");
  EXPECT_FALSE(draft.containers[1].app.init);
  EXPECT_EQ(draft.containers[1].app.restart, pod::RestartPolicy::kAlways);
  EXPECT_EQ(draft.containers[2].app.name, "app");
  EXPECT_EQ(draft.containers[2].app.restart, pod::RestartPolicy::kNever);
  ASSERT_EQ(draft.warnings.size(), 1u);
  EXPECT_EQ(draft.warnings[0].rfind("spec.initContainers[1].restartPolicy: Always", 0), 0u);
}

TEST_F(ToPodDraftTest, ContainerFields) {
  Pod pod = MakePod();
  Container& c = pod.spec.containers[0];
  c.command = Strings{"/bin/sh", "-c", "echo $(MSG) $$(MSG)"};
  c.args = Strings{"$(MSG)", "$(NOPE)"};
  c.env = {EnvVar{.name = "MSG", .value = "hi", .value_from = {}}};
  c.working_dir = "/srv";
  c.stdin = true;
  c.tty = true;
  PodDraft draft = ConvertOk(pod);
  const ContainerDraft& out = draft.containers[0];
  EXPECT_EQ(out.app.image, "busybox:1.36");
  EXPECT_EQ(out.pull_policy, "IfNotPresent");
  EXPECT_EQ(out.command, (Strings{"/bin/sh", "-c", "echo hi $(MSG)"}));
  EXPECT_EQ(out.args, (Strings{"hi", "$(NOPE)"}));
  EXPECT_EQ(out.env, Strings{"MSG=hi"});
  EXPECT_EQ(out.working_dir, "/srv");
  EXPECT_TRUE(out.app.stdin);
  EXPECT_TRUE(out.app.tty);
  EXPECT_FALSE(out.user);
  EXPECT_FALSE(out.group);

  c.command.reset();
  c.args.reset();
  c.working_dir.clear();
  draft = ConvertOk(pod);
  EXPECT_FALSE(draft.containers[0].command);
  EXPECT_FALSE(draft.containers[0].args);
  EXPECT_FALSE(draft.containers[0].working_dir);

  c.working_dir = "srv";
  EXPECT_EQ(ConvertError(pod),
            "spec.containers[0].workingDir: \"srv\": must be an absolute path without \"..\"");
}

TEST_F(ToPodDraftTest, PullPolicies) {
  EXPECT_EQ(DefaultPullPolicy("busybox"), "Always");
  EXPECT_EQ(DefaultPullPolicy("busybox:latest"), "Always");
  EXPECT_EQ(DefaultPullPolicy("localhost:5000/busybox"), "Always");
  EXPECT_EQ(DefaultPullPolicy("localhost:5000/busybox:1"), "IfNotPresent");
  EXPECT_EQ(DefaultPullPolicy("busybox@sha256:" + std::string(64, 'a')), "IfNotPresent");
  EXPECT_EQ(DefaultPullPolicy("busybox:latest@sha256:" + std::string(64, 'a')), "IfNotPresent");

  Pod pod = MakePod();
  pod.spec.containers[0].image_pull_policy = "Never";
  EXPECT_EQ(ConvertOk(pod).containers[0].pull_policy, "Never");
  pod.spec.containers[0].image_pull_policy = "Sometimes";
  EXPECT_EQ(ConvertError(pod),
            "spec.containers[0].imagePullPolicy: \"Sometimes\": unknown "
            "(want Always, IfNotPresent or Never)");
}

TEST_F(ToPodDraftTest, ContainerErrorsNameTheField) {
  Pod pod = MakePod();
  pod.spec.init_containers = {MakeContainer("Init")};
  EXPECT_EQ(ConvertError(pod),
            "spec.initContainers[0].name: \"Init\": not a valid container name (a DNS-1123 "
            "label)");
  pod.spec.init_containers = {MakeContainer("app")};
  EXPECT_EQ(ConvertError(pod), "spec.containers[0].name: \"app\": duplicate container name");
  pod.spec.init_containers = {MakeContainer("init", "")};
  EXPECT_EQ(ConvertError(pod), "spec.initContainers[0].image: required");
  pod.spec.init_containers.clear();
  pod.spec.containers.clear();
  EXPECT_EQ(ConvertError(pod), "spec.containers: at least one container is required");
}

TEST_F(ToPodDraftTest, BurstableResources) {
  Pod pod = MakePod();
  pod.spec.containers[0].resources.requests = {{"cpu", "250m"}, {"memory", "1Gi"}};
  pod.spec.containers[0].resources.limits = {{"cpu", "2"}, {"memory", "2Gi"}};
  pod.spec.containers.push_back(MakeContainer("side"));
  pod.spec.containers[1].resources.limits = {{"cpu", "500m"}};
  PodDraft draft = ConvertOk(pod);
  EXPECT_EQ(draft.qos, QosClass::kBurstable);
  EXPECT_EQ(draft.pod.annotations[kQosClassAnnotation], "Burstable");
  const pod::Resources& app = draft.containers[0].app.resources;
  EXPECT_EQ(app.cpu_millis, 2000);
  EXPECT_EQ(app.cpu_shares, 256u);
  EXPECT_EQ(app.memory_bytes, 2LL << 30);
  EXPECT_EQ(app.oom_score_adj, 900);  // 1 GiB of 10 GiB
  const pod::Resources& side = draft.containers[1].app.resources;
  EXPECT_EQ(side.cpu_millis, 500);
  EXPECT_EQ(side.cpu_shares, 512u);  // the request defaults to the limit
  EXPECT_EQ(side.memory_bytes, 0);
  EXPECT_EQ(side.oom_score_adj, 999);
}

TEST_F(ToPodDraftTest, GuaranteedAndBestEffortScores) {
  Pod pod = MakePod();
  pod.spec.init_containers = {MakeContainer("init")};
  for (Container* c : {pod.spec.containers.data(), pod.spec.init_containers.data()}) {
    c->resources.limits = {{"cpu", "1"}, {"memory", "512Mi"}};
  }
  PodDraft draft = ConvertOk(pod);
  EXPECT_EQ(draft.qos, QosClass::kGuaranteed);
  for (const ContainerDraft& c : draft.containers) {
    EXPECT_EQ(c.app.resources.oom_score_adj, -997) << c.app.name;
    EXPECT_EQ(c.app.resources.cpu_shares, 1024u);
  }

  draft = ConvertOk(MakePod());
  EXPECT_EQ(draft.qos, QosClass::kBestEffort);
  EXPECT_EQ(draft.containers[0].app.resources.oom_score_adj, 1000);
  EXPECT_EQ(draft.containers[0].app.resources.cpu_shares, 2u);
  EXPECT_EQ(draft.containers[0].app.resources.cpu_millis, 0);

  // A node-critical pod gets the guaranteed score whatever its class.
  pod = MakePod();
  pod.spec.priority_class_name = "system-node-critical";
  EXPECT_EQ(ConvertOk(pod).containers[0].app.resources.oom_score_adj, -997);
}

TEST_F(ToPodDraftTest, UnknownMemoryCapacityIsReadFromTheHost) {
  node_.memory_bytes = 0;
  Pod pod = MakePod();
  pod.spec.containers[0].resources.requests = {{"memory", "1Mi"}};
  PodDraft draft = ConvertOk(pod);
  auto meminfo = os::ReadFile("/proc/meminfo");
  ASSERT_TRUE(meminfo);
  auto total = ParseMemTotal(*meminfo);
  ASSERT_TRUE(total);
  EXPECT_EQ(draft.containers[0].app.resources.oom_score_adj,
            OomScoreAdj(QosClass::kBurstable, 1 << 20, *total));
  EXPECT_EQ(ParseMemTotal("MemTotal:       16310428 kB\nMemFree: 1 kB\n"), 16310428ULL * 1024);
  EXPECT_FALSE(ParseMemTotal("MemFree: 1 kB\n"));
}

TEST_F(ToPodDraftTest, ResourceErrorsNameTheField) {
  Pod pod = MakePod();
  pod.spec.containers[0].resources.limits = {{"memory", "12 GB"}};
  const std::string message = ConvertError(pod);
  EXPECT_EQ(message.rfind("spec.containers[0].resources.limits.memory: ", 0), 0u) << message;
}

TEST_F(ToPodDraftTest, Gpus) {
  Pod pod = MakePod();
  pod.spec.containers[0].resources.limits = {{"nvidia.com/gpu", "2"}, {"cpu", "1"}};
  pod.spec.containers.push_back(MakeContainer("legacy"));
  pod.spec.containers[1].resources.limits = {{"alpha.kubernetes.io/nvidia-gpu", "1"},
                                             {"hugepages-1Gi", "1Gi"}};
  PodDraft draft = ConvertOk(pod);
  ASSERT_EQ(draft.containers[0].devices.size(), 1u);
  EXPECT_EQ(draft.containers[0].devices[0].kind, "nvidia.com/gpu");
  EXPECT_EQ(draft.containers[0].devices[0].count, 2);
  ASSERT_EQ(draft.containers[1].devices.size(), 1u);
  EXPECT_EQ(draft.containers[1].devices[0].kind, "nvidia.com/gpu");
  EXPECT_EQ(draft.containers[1].devices[0].count, 1);
  EXPECT_EQ(draft.warnings, Strings{"spec.containers[1].resources.limits.hugepages-1Gi: not "
                                    "supported, ignored"});
}

// --- DNS ---

TEST_F(ToPodDraftTest, DnsClusterFirstFallsBackToTheHost) {
  Pod pod = MakePod();
  pod.spec.dns_policy = "ClusterFirst";
  PodDraft draft = ConvertOk(pod);
  EXPECT_TRUE(draft.pod.dns.empty());
  EXPECT_TRUE(draft.pod.dns_search.empty());
  EXPECT_TRUE(draft.pod.dns_opt.empty());
  EXPECT_EQ(draft.warnings, Strings{"dnsPolicy ClusterFirst: no cluster DNS on this node, using "
                                    "the host's resolvers"});

  pod.spec.dns_policy = "ClusterFirstWithHostNet";
  EXPECT_EQ(ConvertOk(pod).warnings.size(), 1u);

  // On the host's network ClusterFirst is the kubelet's Default: nothing to say.
  pod.spec.dns_policy = "ClusterFirst";
  pod.spec.host_network = true;
  EXPECT_TRUE(ConvertOk(pod).warnings.empty());

  pod.spec.host_network = false;
  pod.spec.dns_policy = "Default";
  draft = ConvertOk(pod);
  EXPECT_TRUE(draft.warnings.empty());
  EXPECT_TRUE(draft.pod.dns.empty());
}

TEST_F(ToPodDraftTest, DnsConfigMergesOverTheHost) {
  Pod pod = MakePod();
  pod.spec.dns_policy = "ClusterFirst";
  pod.spec.dns_config =
      PodDnsConfig{.nameservers = {"192.0.2.53", "198.51.100.1"},
                   .searches = {"svc.example", "corp.example"},
                   .options = {PodDnsConfigOption{.name = "ndots", .value = "5"},
                               PodDnsConfigOption{.name = "rotate", .value = ""}}};
  PodDraft draft = ConvertOk(pod);
  // The host's loopback resolver is unreachable from the pod's own network namespace.
  EXPECT_EQ(draft.pod.dns, (Strings{"192.0.2.53", "198.51.100.1"}));
  EXPECT_EQ(draft.pod.dns_search, (Strings{"corp.example", "svc.example"}));
  EXPECT_EQ(draft.pod.dns_opt, (Strings{"ndots:5", "edns0", "rotate"}));
  EXPECT_EQ(draft.warnings.size(), 1u);  // no cluster DNS

  pod.spec.host_network = true;
  pod.spec.dns_policy = "Default";
  draft = ConvertOk(pod);
  EXPECT_EQ(draft.pod.dns, (Strings{"127.0.0.53", "192.0.2.53", "198.51.100.1"}));
  EXPECT_TRUE(draft.warnings.empty());

  pod.spec.dns_config->nameservers.emplace_back("203.0.113.1");
  draft = ConvertOk(pod);
  EXPECT_EQ(draft.pod.dns, (Strings{"127.0.0.53", "192.0.2.53", "198.51.100.1"}));
  EXPECT_EQ(draft.warnings, Strings{"spec.dnsConfig: more than 3 nameservers, kept 127.0.0.53 "
                                    "192.0.2.53 198.51.100.1"});
}

TEST_F(ToPodDraftTest, DnsPolicyNone) {
  Pod pod = MakePod();
  pod.spec.dns_policy = "None";
  EXPECT_EQ(ConvertError(pod), "spec.dnsConfig: required with dnsPolicy None");
  pod.spec.dns_config =
      PodDnsConfig{.nameservers = {"1.1.1.1"},
                   .searches = {"example.org"},
                   .options = {PodDnsConfigOption{.name = "ndots", .value = "2"}}};
  PodDraft draft = ConvertOk(pod);
  EXPECT_EQ(draft.pod.dns, Strings{"1.1.1.1"});
  EXPECT_EQ(draft.pod.dns_search, Strings{"example.org"});
  EXPECT_EQ(draft.pod.dns_opt, Strings{"ndots:2"});
  EXPECT_TRUE(draft.warnings.empty());

  pod.spec.dns_config->nameservers = {"one.one"};
  EXPECT_EQ(ConvertError(pod), "spec.dnsConfig.nameservers[0]: \"one.one\": not an IP address");
  pod.spec.dns_policy = "Cluster";
  pod.spec.dns_config.reset();
  EXPECT_EQ(ConvertError(pod),
            "spec.dnsPolicy: \"Cluster\": unknown (want ClusterFirst, "
            "ClusterFirstWithHostNet, Default or None)");
}

}  // namespace
}  // namespace comet::kube
