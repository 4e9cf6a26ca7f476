// The node agent's api-service client (src/node/api_client.h) against the real
// comet-api-service over pods made by the real `comet`: a Kubernetes-shaped pod (the annotations
// `comet play` writes) read through ListPods/InspectPod/GetLogs, its app annotations (restarts,
// reason, state, init) turned into the kubelet's pod status; and one client that keeps working
// across `kill -9` and restarts of the service on the same port.
#include <signal.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "e2e/api/api_fixture.h"
#include "node/api_client.h"
#include "node/describe.h"
#include "node/pod_status.h"

namespace comet::e2e::api {
namespace {

std::map<std::string, std::string> AnnotationsOf(const v1alpha::App& app) {
  std::map<std::string, std::string> out;
  for (const v1alpha::KeyValue& kv : app.annotations()) {
    out[kv.key()] = kv.value();
  }
  return out;
}

const v1alpha::App* FindApp(const v1alpha::Pod& pod, const std::string& name) {
  for (const v1alpha::App& app : pod.apps()) {
    if (app.name() == name) {
      return &app;
    }
  }
  return nullptr;
}

class NodeClientTest : public ApiTest {
 protected:
  // The port of the running service ("127.0.0.1:PORT").
  std::string Port() const { return address().substr(address().rfind(':') + 1); }

  // SIGKILLs the service and reaps it.
  void KillService() {
    ASSERT_TRUE(service_);
    ASSERT_EQ(::kill(service_->pid(), SIGKILL), 0);
    EXPECT_EQ(service_->Terminate(), -SIGKILL);
    service_.reset();
  }

  // The annotations `comet play` gives a Kubernetes pod default/web.
  static std::vector<std::string> KubeAnnotations() {
    return {"--annotation=rkt.kubernetes.io/managed-by-kubelet=true",
            "--annotation=io.kubernetes.pod.namespace=default",
            "--annotation=io.kubernetes.pod.name=web",
            "--annotation=io.kubernetes.pod.uid=0f6c6b3e-1d1e-4a9a-9d55-3c0c0c0c0c0c",
            "--annotation=comet.dev/qos-class=Burstable",
            "--annotation=io.kubernetes.label/app=web"};
  }
};

TEST_F(NodeClientTest, ReadsAKubernetesPodAsTheKubeletWould) {
  // setup (init) completes, web runs, crasher fails and waits 30 s for its restart.
  const std::string kube =
      RunDetached(Concat({KubeAnnotations(),
                          ShellApp("setup", "echo set up", {"--init"}),
                          {"---"},
                          ShellApp("web", std::string("echo hello from web; ") + kSleeper,
                                   {"--cpu=250m", "--memory=64M"}),
                          {"---"},
                          ShellApp("crasher", "echo boom; exit 2", {"--restart=Always"})}),
                  {.env = {"COMET_BACKOFF_BASE_MS=30000", "COMET_BACKOFF_MAX_MS=30000"}});
  const std::string plain = RunDetached(ShellApp("other", kSleeper));
  ASSERT_FALSE(kube.empty() || plain.empty());
  ASSERT_NO_FATAL_FAILURE(StartService());
  auto client = node::ApiClient::Connect(address());
  ASSERT_TRUE(client) << client.error().ToString();

  auto info = client->GetInfo();
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->api_version(), "1.0.0-alpha");
  EXPECT_EQ(info->global_flags().dir(), data());

  // The crasher's first exit puts it in back-off (restarts still 0).
  v1alpha::Pod pod;
  EXPECT_TRUE(WaitUntil([&] {
    auto inspected = client->InspectPod(kube);
    if (!inspected) {
      return false;
    }
    pod = *inspected;
    const v1alpha::App* crasher = FindApp(pod, "crasher");
    return crasher != nullptr && AnnotationsOf(*crasher)["comet.dev/state"] == "backoff";
  })) << pod.DebugString();
  ASSERT_EQ(pod.apps_size(), 3);
  auto setup = AnnotationsOf(pod.apps(0));
  EXPECT_EQ(setup["comet.dev/init"], "true");
  EXPECT_EQ(setup["comet.dev/state"], "exited");
  EXPECT_EQ(setup["comet.dev/reason"], "Completed");
  EXPECT_EQ(setup["comet.dev/restarts"], "0");
  EXPECT_TRUE(pod::LooksLikeRfc3339(setup["comet.dev/finished-at"])) << pod.DebugString();
  auto web = AnnotationsOf(pod.apps(1));
  EXPECT_EQ(web["comet.dev/state"], "running");
  EXPECT_EQ(web["comet.dev/restarts"], "0");
  EXPECT_FALSE(web.contains("comet.dev/init"));
  EXPECT_FALSE(web.contains("comet.dev/finished-at"));
  EXPECT_TRUE(pod::LooksLikeRfc3339(web["comet.dev/started-at"])) << pod.DebugString();
  auto crasher = AnnotationsOf(pod.apps(2));
  EXPECT_EQ(crasher["comet.dev/reason"], "Error");
  EXPECT_TRUE(Contains(crasher["comet.dev/message"], "back-off")) << crasher["comet.dev/message"];
  EXPECT_EQ(pod.apps(2).exit_code(), 2);

  // ListPods: the Kubernetes pods only, with detail.
  auto pods = client->ListPods({.annotations = {{"rkt.kubernetes.io/managed-by-kubelet", "true"}},
                                .states = {v1alpha::POD_STATE_RUNNING}});
  ASSERT_TRUE(pods) << pods.error().ToString();
  ASSERT_EQ(pods->size(), 1u);
  EXPECT_EQ(pods->front().id(), kube);
  EXPECT_FALSE(pods->front().manifest().empty());
  auto all = client->ListPods();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);

  // The kubelet's view of it.
  auto groups = node::GroupByKubePod(*all);
  ASSERT_EQ(groups.size(), 1u);
  node::PodStatusContext context;
  context.node_name = "node1";
  context.restart_policy = "Always";
  const node::KubePodStatus status = node::ComputePodStatus(groups["default/web"], context);
  EXPECT_EQ(status.phase, node::PodPhase::kRunning);
  EXPECT_EQ(status.qos_class, "Burstable");
  ASSERT_TRUE(status.labels.contains("app"));
  EXPECT_EQ(status.labels.at("app"), "web");
  ASSERT_EQ(status.init_containers.size(), 1u);
  EXPECT_EQ(status.init_containers[0].state.reason, "Completed");
  ASSERT_EQ(status.containers.size(), 2u);
  EXPECT_EQ(status.containers[0].state.kind, node::ContainerState::Kind::kRunning);
  EXPECT_GT(status.containers[0].state.started_at_ns, 0);
  EXPECT_EQ(status.containers[0].cpu_limit_millis, 250);
  EXPECT_EQ(status.containers[0].memory_limit_bytes, 64 << 20);
  EXPECT_EQ(status.containers[1].state.reason, "CrashLoopBackOff");
  ASSERT_TRUE(status.containers[1].last_state);
  EXPECT_EQ(status.containers[1].last_state->exit_code, 2);
  EXPECT_EQ(node::PodStatusWord(status), "CrashLoopBackOff");
  const std::string table = node::FormatGetPods({status});
  EXPECT_TRUE(Contains(table, "default     web    1/2     CrashLoopBackOff")) << table;
  const std::string described = node::FormatDescribePod(status, {});
  EXPECT_TRUE(Contains(described, "Container ID:   comet://" + kube + ":web")) << described;

  // Logs, and errors naming the call.
  auto logs = client->GetLogs(kube, "web");
  ASSERT_TRUE(logs) << logs.error().ToString();
  EXPECT_EQ(logs->lines, std::vector<std::string>{"hello from web"});
  EXPECT_FALSE(logs->truncated);
  auto both = client->GetLogs(kube, "", 0, 1);
  ASSERT_TRUE(both);
  EXPECT_GE(both->lines.size(), 3u);  // set up, hello from web, boom
  auto missing = client->GetLogs(kube, "nope");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(Contains(missing.error().ToString(), "GetLogs: NOT_FOUND"))
      << missing.error().ToString();
  auto gone = client->InspectPod("00000000-0000-4000-8000-000000000000");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ENOENT) << gone.error().ToString();
  EXPECT_TRUE(Contains(gone.error().ToString(), "InspectPod: NOT_FOUND"));
}

TEST_F(NodeClientTest, LogsStopAtTheBound) {
  const std::string uuid = RunDetached(ShellApp("talker", std::string("seq 1 50; ") + kSleeper));
  ASSERT_FALSE(uuid.empty());
  ASSERT_NO_FATAL_FAILURE(StartService());
  node::ApiClientOptions options;
  options.max_log_lines = 20;
  auto client = node::ApiClient::Connect(address(), options);
  ASSERT_TRUE(client);
  ASSERT_TRUE(WaitUntil([&] {
    auto logs = client->GetLogs(uuid, "talker", 5);
    return logs && logs->lines == std::vector<std::string>{"46", "47", "48", "49", "50"};
  }));
  auto logs = client->GetLogs(uuid, "talker");
  ASSERT_TRUE(logs) << logs.error().ToString();
  EXPECT_TRUE(logs->truncated);
  ASSERT_EQ(logs->lines.size(), 20u);
  EXPECT_EQ(logs->lines.front(), "1");
  EXPECT_EQ(logs->lines.back(), "20");
}

TEST_F(NodeClientTest, OneClientOutlivesKilledAndRestartedServices) {
  const std::string pod = RunDetached(Concat({KubeAnnotations(), ShellApp("web", kSleeper)}));
  ASSERT_FALSE(pod.empty());
  ASSERT_NO_FATAL_FAILURE(StartService());
  const std::string port = Port();
  auto client = node::ApiClient::Connect("127.0.0.1:" + port);
  ASSERT_TRUE(client);
  auto pods = client->ListPods();
  ASSERT_TRUE(pods) << pods.error().ToString();
  ASSERT_EQ(pods->size(), 1u);

  // Killed: calls fail, quickly, naming the call and UNAVAILABLE.
  ASSERT_NO_FATAL_FAILURE(KillService());
  const auto start = std::chrono::steady_clock::now();
  pods = client->ListPods();
  ASSERT_FALSE(pods);
  EXPECT_TRUE(Contains(pods.error().ToString(), "ListPods: UNAVAILABLE"))
      << pods.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

  // Back on the same port: the same client answers on its first call.
  ASSERT_NO_FATAL_FAILURE(StartService({"--listen=127.0.0.1:" + port}));
  pods = client->ListPods();
  ASSERT_TRUE(pods) << pods.error().ToString();
  ASSERT_EQ(pods->size(), 1u);
  EXPECT_EQ(pods->front().id(), pod);
  EXPECT_EQ(pods->front().state(), v1alpha::POD_STATE_RUNNING);

  // Killed and restarted with no call in between: the next call reconnects.
  ASSERT_NO_FATAL_FAILURE(KillService());
  ASSERT_NO_FATAL_FAILURE(StartService({"--listen=127.0.0.1:" + port}));
  auto inspected = client->InspectPod(pod);
  ASSERT_TRUE(inspected) << inspected.error().ToString();
  EXPECT_EQ(inspected->state(), v1alpha::POD_STATE_RUNNING);
  auto info = client->GetInfo();
  ASSERT_TRUE(info) << info.error().ToString();

  // The service's deaths touched no pod.
  EXPECT_EQ(Status(pod)["state"], "running");
}

}  // namespace
}  // namespace comet::e2e::api
