// Tests of ComputePodStatus and GroupByKubePod on hand-built v1alpha.Pod messages shaped as the
// api-service sends them for pods `comet play` made.
#include "node/pod_status.h"

#include <gtest/gtest.h>

namespace comet::node {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
// 2026-11-29T10:00:00Z
constexpr int64_t kT0 = 1795946400 * kSecond;
const std::string kUuid1 = "11111111-1111-4111-8111-111111111111";
const std::string kUuid2 = "22222222-2222-4222-8222-222222222222";
const std::string kUuid3 = "33333333-3333-4333-8333-333333333333";
const std::string kDigest = "sha256:" + std::string(64, 'b');

void Put(google::protobuf::RepeatedPtrField<v1alpha::KeyValue>* out, const std::string& key,
         const std::string& value) {
  v1alpha::KeyValue* kv = out->Add();
  kv->set_key(key);
  kv->set_value(value);
}

// An api Pod of the Kubernetes pod default/web (uid 1234...), QoS Burstable, label app=web, one
// YAML annotation, comet's own pod annotations.
v1alpha::Pod KubePod(const std::string& id, v1alpha::PodState state, int64_t created_at) {
  v1alpha::Pod pod;
  pod.set_id(id);
  pod.set_state(state);
  pod.set_created_at(created_at);
  if (state == v1alpha::POD_STATE_RUNNING || state == v1alpha::POD_STATE_EXITED) {
    pod.set_started_at(created_at + kSecond);
  }
  Put(pod.mutable_annotations(), "comet.dev/qos-class", "Burstable");
  Put(pod.mutable_annotations(), "comet.dev/seccomp", "unconfined");
  Put(pod.mutable_annotations(), "io.kubernetes.label/app", "web");
  Put(pod.mutable_annotations(), "io.kubernetes.pod.name", "web");
  Put(pod.mutable_annotations(), "io.kubernetes.pod.namespace", "default");
  Put(pod.mutable_annotations(), "io.kubernetes.pod.uid", "1234-5678");
  Put(pod.mutable_annotations(), "note", "hello");
  Put(pod.mutable_annotations(), "rkt.kubernetes.io/managed-by-kubelet", "true");
  return pod;
}

// Every member has a default so that designated initializers may leave any out.
struct AppSpec {
  std::string name{};
  bool init = false;
  std::string state{};  // comet.dev/state; empty: never started
  int exit_code = -1;
  int restarts = 0;
  std::string reason{};
  std::string message{};
  std::string started{};
  std::string finished{};
  int previous_exit = -1;
};

v1alpha::App& AddApp(v1alpha::Pod& pod, const AppSpec& spec) {
  v1alpha::App* app = pod.add_apps();
  app->set_name(spec.name);
  app->mutable_image()->set_id(kDigest);
  app->mutable_image()->set_name("docker.io/library/busybox");
  app->mutable_image()->set_version("1.36");
  const bool live = pod.state() == v1alpha::POD_STATE_RUNNING;
  if (spec.state == "running" || spec.state == "backoff") {
    app->set_state(live ? v1alpha::APP_STATE_RUNNING : v1alpha::APP_STATE_UNDEFINED);
  } else if (!spec.state.empty()) {
    app->set_state(v1alpha::APP_STATE_EXITED);
  }
  if (spec.exit_code >= 0) {
    app->set_exit_code(spec.exit_code);
  }
  auto* notes = app->mutable_annotations();
  if (spec.init) {
    Put(notes, "comet.dev/init", "true");
  }
  if (spec.previous_exit >= 0) {
    Put(notes, "comet.dev/previous-exit-code", std::to_string(spec.previous_exit));
    Put(notes, "comet.dev/previous-finished-at", "2026-11-29T10:00:20Z");
    Put(notes, "comet.dev/previous-started-at", "2026-11-29T10:00:15Z");
  }
  if (!spec.state.empty()) {
    if (!spec.finished.empty()) {
      Put(notes, "comet.dev/finished-at", spec.finished);
    }
    if (!spec.message.empty()) {
      Put(notes, "comet.dev/message", spec.message);
    }
    if (!spec.reason.empty()) {
      Put(notes, "comet.dev/reason", spec.reason);
    }
    Put(notes, "comet.dev/restarts", std::to_string(spec.restarts));
    if (!spec.started.empty()) {
      Put(notes, "comet.dev/started-at", spec.started);
    }
    Put(notes, "comet.dev/state", spec.state);
  }
  Put(notes, "io.kubernetes.container.name", spec.name);
  return *app;
}

// The appc PodManifest the api-service sends: setup without resources, web with cpu 250m/500m
// and memory 64Mi/128Mi (request/limit).
constexpr const char* kManifest = R"({"acVersion":"0.8.11","acKind":"PodManifest","apps":[
  {"name":"setup","image":{"name":"docker.io/library/busybox"},"app":{"user":"0","group":"0"}},
  {"name":"web","image":{"name":"docker.io/library/busybox"},"app":{"user":"0","group":"0",
   "isolators":[{"name":"resource/cpu","value":{"request":"250m","limit":"500m"}},
                {"name":"resource/memory","value":{"request":"67108864","limit":"134217728"}},
                {"name":"os/linux/oom-score-adj","value":900}]}}],
  "volumes":[],"isolators":[],"annotations":[],"ports":[]})";

// A running attempt: setup completed, web running after two restarts (the previous exit 1).
v1alpha::Pod RunningPod(const std::string& id = kUuid1, int64_t created = kT0) {
  v1alpha::Pod pod = KubePod(id, v1alpha::POD_STATE_RUNNING, created);
  pod.set_manifest(kManifest);
  AddApp(pod, {.name = "setup",
               .init = true,
               .state = "exited",
               .exit_code = 0,
               .reason = "Completed",
               .started = "2026-11-29T10:00:01Z",
               .finished = "2026-11-29T10:00:02Z"});
  AddApp(pod, {.name = "web",
               .state = "running",
               .exit_code = 1,
               .restarts = 2,
               .started = "2026-11-29T10:00:30.5Z",
               .previous_exit = 1});
  v1alpha::Network* network = pod.add_networks();
  network->set_name("default");
  network->set_ipv4("10.88.0.7");
  network->set_ipv6("fd00::7");
  return pod;
}

PodStatusContext Context() {
  PodStatusContext context;
  context.node_name = "node1";
  context.host_ip = "192.168.1.10";
  return context;
}

TEST(PodStatus, RunningPod) {
  const KubePodStatus status = ComputePodStatus({RunningPod()}, Context());
  EXPECT_EQ(status.namespace_name, "default");
  EXPECT_EQ(status.name, "web");
  EXPECT_EQ(status.uid, "1234-5678");
  EXPECT_EQ(status.pod_id, kUuid1);
  EXPECT_EQ(status.attempts, 1);
  EXPECT_EQ(status.node, "node1");
  EXPECT_EQ(status.phase, PodPhase::kRunning);
  EXPECT_STREQ(PodPhaseName(status.phase), "Running");
  EXPECT_EQ(status.qos_class, "Burstable");
  EXPECT_EQ(status.pod_ips, (std::vector<std::string>{"10.88.0.7", "fd00::7"}));
  EXPECT_EQ(status.created_at_ns, kT0);
  EXPECT_EQ(status.started_at_ns, kT0 + kSecond);
  EXPECT_EQ(status.labels, (std::map<std::string, std::string>{{"app", "web"}}));
  // The YAML's annotations only: comet's and the identity ones are not the user's.
  EXPECT_EQ(status.annotations, (std::map<std::string, std::string>{{"note", "hello"}}));

  ASSERT_EQ(status.init_containers.size(), 1u);
  const KubeContainerStatus& setup = status.init_containers[0];
  EXPECT_EQ(setup.name, "setup");
  EXPECT_TRUE(setup.init);
  EXPECT_EQ(setup.state.kind, ContainerState::Kind::kTerminated);
  EXPECT_EQ(setup.state.reason, "Completed");
  EXPECT_EQ(setup.state.exit_code, 0);
  EXPECT_EQ(setup.state.started_at_ns, kT0 + kSecond);
  EXPECT_EQ(setup.state.finished_at_ns, kT0 + 2 * kSecond);
  EXPECT_TRUE(setup.ready);
  EXPECT_EQ(setup.cpu_limit_millis, 0);

  ASSERT_EQ(status.containers.size(), 1u);
  const KubeContainerStatus& web = status.containers[0];
  EXPECT_EQ(web.image, "docker.io/library/busybox:1.36");
  EXPECT_EQ(web.image_id, kDigest);
  EXPECT_EQ(web.container_id, "comet://" + kUuid1 + ":web");
  EXPECT_EQ(web.state.kind, ContainerState::Kind::kRunning);
  EXPECT_EQ(web.state.started_at_ns, kT0 + 30 * kSecond + kSecond / 2);
  ASSERT_TRUE(web.last_state);
  EXPECT_EQ(web.last_state->kind, ContainerState::Kind::kTerminated);
  EXPECT_EQ(web.last_state->exit_code, 1);
  EXPECT_EQ(web.last_state->reason, "Error");
  EXPECT_EQ(web.last_state->started_at_ns, kT0 + 15 * kSecond);
  EXPECT_EQ(web.last_state->finished_at_ns, kT0 + 20 * kSecond);
  EXPECT_TRUE(web.ready);
  EXPECT_EQ(web.restart_count, 2);
  EXPECT_EQ(web.cpu_limit_millis, 500);
  EXPECT_EQ(web.cpu_request_millis, 250);
  EXPECT_EQ(web.memory_limit_bytes, 128 << 20);
  EXPECT_EQ(web.memory_request_bytes, 64 << 20);

  ASSERT_EQ(status.conditions.size(), 4u);
  for (const PodCondition& condition : status.conditions) {
    EXPECT_TRUE(condition.status) << condition.type;
  }
  EXPECT_EQ(status.conditions[0].type, "Initialized");
  EXPECT_EQ(status.conditions[1].type, "Ready");
  EXPECT_EQ(status.conditions[2].type, "ContainersReady");
  EXPECT_EQ(status.conditions[3].type, "PodScheduled");
}

TEST(PodStatus, ReadinessProbeAndHostNetwork) {
  PodStatusContext context = Context();
  context.readiness["web"] = false;
  context.host_network = true;
  const KubePodStatus status = ComputePodStatus({RunningPod()}, context);
  EXPECT_FALSE(status.containers[0].ready);
  EXPECT_TRUE(status.init_containers[0].ready);
  EXPECT_FALSE(status.conditions[1].status);  // Ready
  EXPECT_FALSE(status.conditions[2].status);  // ContainersReady
  EXPECT_EQ(status.phase, PodPhase::kRunning);
  EXPECT_EQ(status.pod_ips, std::vector<std::string>{"192.168.1.10"});
}

TEST(PodStatus, CrashLoopingContainer) {
  v1alpha::Pod pod = KubePod(kUuid1, v1alpha::POD_STATE_RUNNING, kT0);
  AddApp(pod, {.name = "web",
               .state = "backoff",
               .exit_code = 2,
               .restarts = 4,
               .reason = "Error",
               .message = "back-off 80000 ms restarting the app",
               .started = "2026-11-29T10:01:00Z",
               .finished = "2026-11-29T10:01:01Z",
               .previous_exit = 2});
  PodStatusContext context = Context();
  context.restart_policy = "Always";
  const KubePodStatus status = ComputePodStatus({pod}, context);
  ASSERT_EQ(status.containers.size(), 1u);
  const KubeContainerStatus& web = status.containers[0];
  EXPECT_EQ(web.state.kind, ContainerState::Kind::kWaiting);
  EXPECT_EQ(web.state.reason, "CrashLoopBackOff");
  EXPECT_EQ(web.state.message, "back-off 80000 ms restarting the app");
  ASSERT_TRUE(web.last_state);  // the run that just ended, not the one before
  EXPECT_EQ(web.last_state->exit_code, 2);
  EXPECT_EQ(web.last_state->reason, "Error");
  EXPECT_EQ(web.last_state->finished_at_ns, kT0 + 61 * kSecond);
  EXPECT_FALSE(web.ready);
  EXPECT_EQ(web.restart_count, 4);
  EXPECT_EQ(web.cpu_limit_millis, 0);  // no manifest (listed without detail)
  // The kubelet: a restarting container is "stopped"; with Always the pod is Running.
  EXPECT_EQ(status.phase, PodPhase::kRunning);
  EXPECT_FALSE(status.conditions[1].status);
  context.restart_policy = "Never";
  EXPECT_EQ(ComputePodStatus({pod}, context).phase, PodPhase::kFailed);
}

TEST(PodStatus, ExitedPodSucceededOrFailed) {
  v1alpha::Pod pod = KubePod(kUuid1, v1alpha::POD_STATE_EXITED, kT0);
  AddApp(pod,
         {.name = "setup", .init = true, .state = "exited", .exit_code = 0, .reason = "Completed"});
  AddApp(pod, {.name = "job",
               .state = "exited",
               .exit_code = 0,
               .reason = "Completed",
               .started = "2026-11-29T10:00:02Z",
               .finished = "2026-11-29T10:00:07Z"});
  KubePodStatus status = ComputePodStatus({pod}, Context());
  EXPECT_EQ(status.phase, PodPhase::kSucceeded);
  EXPECT_EQ(status.containers[0].state.kind, ContainerState::Kind::kTerminated);
  EXPECT_EQ(status.containers[0].state.reason, "Completed");
  EXPECT_FALSE(status.containers[0].ready);
  EXPECT_TRUE(status.pod_ips.empty());  // networks are listed only while a pod runs

  pod.mutable_apps(1)->set_exit_code(3);
  pod.mutable_apps(1)->mutable_annotations(1)->set_value("Error");  // comet.dev/reason
  ASSERT_EQ(pod.apps(1).annotations(1).key(), "comet.dev/reason");
  status = ComputePodStatus({pod}, Context());
  EXPECT_EQ(status.phase, PodPhase::kFailed);
  EXPECT_EQ(status.containers[0].state.exit_code, 3);
  EXPECT_EQ(status.containers[0].state.reason, "Error");
  // With Always the agent starts it again: still Running.
  PodStatusContext context = Context();
  context.restart_policy = "Always";
  EXPECT_EQ(ComputePodStatus({pod}, context).phase, PodPhase::kRunning);
}

TEST(PodStatus, PendingWhilePreparedOrInitializing) {
  v1alpha::Pod prepared = KubePod(kUuid1, v1alpha::POD_STATE_PREPARED, kT0);
  AddApp(prepared, {.name = "web"});
  KubePodStatus status = ComputePodStatus({prepared}, Context());
  EXPECT_EQ(status.phase, PodPhase::kPending);
  EXPECT_EQ(status.containers[0].state.kind, ContainerState::Kind::kWaiting);
  EXPECT_EQ(status.containers[0].state.reason, "ContainerCreating");
  EXPECT_TRUE(status.conditions[0].status);  // Initialized: no init containers

  v1alpha::Pod init = KubePod(kUuid1, v1alpha::POD_STATE_RUNNING, kT0);
  AddApp(init,
         {.name = "first", .init = true, .state = "exited", .exit_code = 0, .reason = "Completed"});
  AddApp(init,
         {.name = "second", .init = true, .state = "running", .started = "2026-11-29T10:00:03Z"});
  AddApp(init, {.name = "web"});
  status = ComputePodStatus({init}, Context());
  EXPECT_EQ(status.phase, PodPhase::kPending);
  ASSERT_EQ(status.init_containers.size(), 2u);
  EXPECT_EQ(status.init_containers[1].state.kind, ContainerState::Kind::kRunning);
  EXPECT_FALSE(status.init_containers[1].ready);
  EXPECT_EQ(status.containers[0].state.reason, "PodInitializing");
  EXPECT_FALSE(status.conditions[0].status);  // Initialized
}

TEST(PodStatus, KilledSupervisorLeavesTheContainerUnknown) {
  // The api-service reports the pod exited (its lock is free) while the status still says
  // running: the supervisor was killed.
  v1alpha::Pod pod = KubePod(kUuid1, v1alpha::POD_STATE_EXITED, kT0);
  AddApp(pod, {.name = "web", .state = "running", .started = "2026-11-29T10:00:03Z"});
  const KubePodStatus status = ComputePodStatus({pod}, Context());
  EXPECT_EQ(status.containers[0].state.kind, ContainerState::Kind::kTerminated);
  EXPECT_EQ(status.containers[0].state.reason, "ContainerStatusUnknown");
  EXPECT_EQ(status.containers[0].state.exit_code, 137);
  EXPECT_EQ(status.phase, PodPhase::kFailed);
}

TEST(PodStatus, StartErrorIsTerminatedWith128) {
  v1alpha::Pod pod = KubePod(kUuid1, v1alpha::POD_STATE_EXITED, kT0);
  AddApp(pod, {.name = "web",
               .state = "exited",
               .reason = "StartError",
               .message = "starting app web: exec: /nope: No such file or directory"});
  const KubePodStatus status = ComputePodStatus({pod}, Context());
  EXPECT_EQ(status.containers[0].state.reason, "StartError");
  EXPECT_EQ(status.containers[0].state.exit_code, 128);
  EXPECT_EQ(status.containers[0].state.message,
            "starting app web: exec: /nope: No such file or directory");
}

TEST(PodStatus, AttemptsAddUpRestartsAndTheNewestIsCurrent) {
  // Two earlier comet pods of default/web that exited, then the running one (given out of
  // order): the newest by created_at is current, the oldest dates the pod.
  v1alpha::Pod first = KubePod(kUuid3, v1alpha::POD_STATE_EXITED, kT0 - 100 * kSecond);
  AddApp(first,
         {.name = "setup", .init = true, .state = "exited", .exit_code = 0, .reason = "Completed"});
  AddApp(first,
         {.name = "web", .state = "exited", .exit_code = 1, .restarts = 1, .reason = "Error"});
  v1alpha::Pod second = KubePod(kUuid2, v1alpha::POD_STATE_EXITED, kT0 - 50 * kSecond);
  AddApp(second,
         {.name = "setup", .init = true, .state = "exited", .exit_code = 0, .reason = "Completed"});
  AddApp(second, {.name = "web",
                  .state = "exited",
                  .exit_code = 137,
                  .reason = "OOMKilled",
                  .started = "2026-11-29T09:59:20Z",
                  .finished = "2026-11-29T09:59:25Z"});
  v1alpha::Pod current = KubePod(kUuid1, v1alpha::POD_STATE_RUNNING, kT0);
  AddApp(current,
         {.name = "setup", .init = true, .state = "exited", .exit_code = 0, .reason = "Completed"});
  AddApp(current, {.name = "web", .state = "running", .started = "2026-11-29T10:00:02Z"});
  const KubePodStatus status = ComputePodStatus({second, current, first}, Context());
  EXPECT_EQ(status.pod_id, kUuid1);
  EXPECT_EQ(status.attempts, 3);
  EXPECT_EQ(status.created_at_ns, kT0 - 100 * kSecond);
  EXPECT_EQ(status.phase, PodPhase::kRunning);
  const KubeContainerStatus& web = status.containers[0];
  // 1 in the first attempt, +1 for each later attempt, 0 in the current one.
  EXPECT_EQ(web.restart_count, 3);
  EXPECT_EQ(status.init_containers[0].restart_count, 2);
  ASSERT_TRUE(web.last_state);  // how the previous attempt ended
  EXPECT_EQ(web.last_state->reason, "OOMKilled");
  EXPECT_EQ(web.last_state->exit_code, 137);
  EXPECT_EQ(web.last_state->finished_at_ns, kT0 - 35 * kSecond);

  auto groups = GroupByKubePod({current, first, second});
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups["default/web"].size(), 3u);
  EXPECT_EQ(groups["default/web"][0].id(), kUuid3);  // oldest first
  EXPECT_EQ(groups["default/web"][2].id(), kUuid1);
}

TEST(PodStatus, GroupingLeavesOutPodsThatAreNotKubernetesPods) {
  v1alpha::Pod plain;
  plain.set_id(kUuid2);
  v1alpha::Pod other = KubePod(kUuid3, v1alpha::POD_STATE_RUNNING, kT0);
  other.mutable_annotations(4)->set_value("kube-system");  // io.kubernetes.pod.namespace
  ASSERT_EQ(other.annotations(4).key(), "io.kubernetes.pod.namespace");
  auto groups = GroupByKubePod({plain, RunningPod(), other});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups["default/web"].size(), 1u);
  EXPECT_EQ(groups["kube-system/web"].size(), 1u);
}

TEST(PodStatus, BadManifestMeansNoResources) {
  v1alpha::Pod pod = RunningPod();
  pod.set_manifest("{not json");
  EXPECT_EQ(ComputePodStatus({pod}, Context()).containers[0].cpu_limit_millis, 0);
  pod.set_manifest(R"({"apps":[{"app":{"isolators":[{"name":"resource/cpu","value":7}]}}]})");
  EXPECT_EQ(ComputePodStatus({pod}, Context()).containers[0].cpu_limit_millis, 0);
}

}  // namespace
}  // namespace comet::node
