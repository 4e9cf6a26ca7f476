// Tests of the kubectl-style text: the exact `get pods` table and `describe pod` output for a
// running pod, a crash-looping one and a completed one, kubectl's STATUS words and ages.
#include "node/describe.h"

#include <gtest/gtest.h>

namespace comet::node {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMinute = 60 * kSecond;
// 2026-11-29T10:00:00Z, a Sunday.
constexpr int64_t kT0 = 1795946400 * kSecond;
constexpr int64_t kNow = kT0 + 10 * kMinute;
const std::string kUuid = "11111111-1111-4111-8111-111111111111";
const std::string kDigest = "sha256:" + std::string(64, 'b');

ContainerState Running(int64_t started) {
  ContainerState state;
  state.kind = ContainerState::Kind::kRunning;
  state.started_at_ns = started;
  return state;
}

ContainerState Terminated(int exit_code, std::string reason, int64_t started, int64_t finished) {
  ContainerState state;
  state.kind = ContainerState::Kind::kTerminated;
  state.exit_code = exit_code;
  state.reason = std::move(reason);
  state.started_at_ns = started;
  state.finished_at_ns = finished;
  return state;
}

ContainerState Waiting(std::string reason) {
  ContainerState state;
  state.reason = std::move(reason);
  return state;
}

KubeContainerStatus Container(const std::string& name, ContainerState state, bool ready) {
  KubeContainerStatus c;
  c.name = name;
  c.image = "docker.io/library/busybox:1.36";
  c.image_id = kDigest;
  c.container_id = "comet://" + kUuid + ":" + name;
  c.state = std::move(state);
  c.ready = ready;
  return c;
}

KubePodStatus Pod(const std::string& name, PodPhase phase) {
  KubePodStatus pod;
  pod.namespace_name = "default";
  pod.name = name;
  pod.pod_id = kUuid;
  pod.node = "node1";
  pod.host_ip = "192.168.1.10";
  pod.phase = phase;
  pod.qos_class = "BestEffort";
  pod.created_at_ns = kT0;
  pod.conditions = {{"Initialized", true},
                    {"Ready", phase == PodPhase::kRunning},
                    {"ContainersReady", phase == PodPhase::kRunning},
                    {"PodScheduled", true}};
  return pod;
}

// web: an init container done, web running after 2 restarts, with limits and requests.
KubePodStatus RunningPod() {
  KubePodStatus pod = Pod("web", PodPhase::kRunning);
  pod.qos_class = "Burstable";
  pod.pod_ips = {"10.88.0.7", "fd00::7"};
  pod.labels = {{"app", "web"}, {"tier", "front"}};
  pod.annotations = {{"note", "hello"}};
  KubeContainerStatus setup =
      Container("setup", Terminated(0, "Completed", kT0 + kSecond, kT0 + 2 * kSecond), true);
  setup.init = true;
  pod.init_containers = {setup};
  KubeContainerStatus web = Container("web", Running(kT0 + 30 * kSecond), true);
  web.last_state = Terminated(1, "Error", kT0 + 15 * kSecond, kT0 + 20 * kSecond);
  web.restart_count = 2;
  web.cpu_limit_millis = 500;
  web.cpu_request_millis = 250;
  web.memory_limit_bytes = 128 << 20;
  web.memory_request_bytes = 64 << 20;
  pod.containers = {web};
  return pod;
}

KubePodStatus CrashLoopingPod() {
  KubePodStatus pod = Pod("crasher", PodPhase::kRunning);
  pod.conditions[1].status = false;
  pod.conditions[2].status = false;
  pod.pod_ips = {"10.88.0.8"};
  KubeContainerStatus c = Container("crasher", Waiting("CrashLoopBackOff"), false);
  c.state.message = "back-off 80000 ms restarting the app";
  c.last_state = Terminated(2, "Error", kT0 + 8 * kMinute, kT0 + 8 * kMinute + kSecond);
  c.restart_count = 5;
  pod.containers = {c};
  return pod;
}

KubePodStatus CompletedPod() {
  KubePodStatus pod = Pod("job", PodPhase::kSucceeded);
  pod.containers = {
      Container("job", Terminated(0, "Completed", kT0 + kSecond, kT0 + 5 * kSecond), false)};
  return pod;
}

TEST(FormatGetPods, KubectlsTable) {
  KubePodStatus init = Pod("init", PodPhase::kPending);
  KubeContainerStatus first = Container("first", Running(kT0), false);
  first.init = true;
  KubeContainerStatus second = Container("second", Waiting("PodInitializing"), false);
  second.init = true;
  init.init_containers = {first, second};
  init.containers = {Container("app", Waiting("PodInitializing"), false)};
  KubePodStatus failed = CompletedPod();
  failed.name = "failed";
  failed.phase = PodPhase::kFailed;
  failed.containers[0].state = Terminated(3, "Error", kT0, kT0 + kSecond);
  KubePodStatus stopping = RunningPod();
  stopping.name = "stopping";
  stopping.terminating = true;
  KubePodStatus prepared = Pod("prepared", PodPhase::kPending);
  prepared.created_at_ns = kNow - 5 * kSecond;
  prepared.node.clear();
  EXPECT_EQ(
      FormatGetPods(
          {RunningPod(), CrashLoopingPod(), CompletedPod(), failed, init, stopping, prepared},
          kNow),
      "NAMESPACE   NAME       READY   STATUS             RESTARTS        AGE   IP          NODE\n"
      "default     web        1/1     Running            2 (9m40s ago)   10m   10.88.0.7   node1\n"
      "default     crasher    0/1     CrashLoopBackOff   5 (119s ago)    10m   10.88.0.8   node1\n"
      "default     job        0/1     Completed          0               10m   <none>      node1\n"
      "default     failed     0/1     Error              0               10m   <none>      node1\n"
      "default     init       0/1     Init:0/2           0               10m   <none>      node1\n"
      "default     stopping   1/1     Terminating        2 (9m40s ago)   10m   10.88.0.7   node1\n"
      "default     prepared   0/0     Pending            0               5s    <none>      "
      "<none>\n");
}

TEST(PodStatusWord, KubectlsRules) {
  KubePodStatus pod = Pod("p", PodPhase::kPending);
  KubeContainerStatus init = Container("init", Terminated(1, "Error", kT0, kT0), false);
  init.init = true;
  pod.init_containers = {init};
  pod.containers = {Container("app", Waiting("PodInitializing"), false)};
  EXPECT_EQ(PodStatusWord(pod), "Init:Error");
  pod.init_containers[0].state = Waiting("CrashLoopBackOff");
  EXPECT_EQ(PodStatusWord(pod), "Init:CrashLoopBackOff");
  pod.init_containers[0].state = Terminated(0, "Completed", kT0, kT0);
  pod.containers[0].state = Waiting("ContainerCreating");
  EXPECT_EQ(PodStatusWord(pod), "ContainerCreating");
  pod.containers[0].state = Terminated(137, "", kT0, kT0);
  EXPECT_EQ(PodStatusWord(pod), "ExitCode:137");
  // One container completed while another still runs: Running when the pod is Ready.
  pod.phase = PodPhase::kRunning;
  pod.containers = {Container("a", Running(kT0), true),
                    Container("b", Terminated(0, "Completed", kT0, kT0), false)};
  pod.conditions = {{"Ready", true}};
  EXPECT_EQ(PodStatusWord(pod), "Running");
  pod.conditions = {{"Ready", false}};
  EXPECT_EQ(PodStatusWord(pod), "NotReady");
}

TEST(HumanDuration, KubectlsAges) {
  EXPECT_EQ(HumanDuration(-5 * kSecond), "<invalid>");
  EXPECT_EQ(HumanDuration(-kSecond / 2), "0s");
  EXPECT_EQ(HumanDuration(45 * kSecond), "45s");
  EXPECT_EQ(HumanDuration(119 * kSecond), "119s");
  EXPECT_EQ(HumanDuration(200 * kSecond), "3m20s");
  EXPECT_EQ(HumanDuration(5 * kMinute), "5m");
  EXPECT_EQ(HumanDuration(15 * kMinute + 10 * kSecond), "15m");
  constexpr int64_t kHour = 60 * kMinute;
  constexpr int64_t kDay = 24 * kHour;
  EXPECT_EQ(HumanDuration(5 * kHour + 10 * kMinute), "5h10m");
  EXPECT_EQ(HumanDuration(20 * kHour), "20h");
  EXPECT_EQ(HumanDuration(2 * kDay + 3 * kHour + 5 * kMinute), "2d3h");
  EXPECT_EQ(HumanDuration(40 * kDay), "40d");
  EXPECT_EQ(HumanDuration((2 * 365 + 30) * kDay), "2y30d");
  EXPECT_EQ(HumanDuration(kDay * 365 * 9), "9y");
}

TEST(FormatDescribePod, Running) {
  const std::vector<Event> events = {
      {"Normal", "Started", "Started container web", kT0 + 30 * kSecond, "kubelet"},
      {"Normal", "Pulled", "Container image \"busybox:1.36\" already present on machine",
       kT0 + 29 * kSecond, "kubelet"},
      {"Warning", "BackOff", "Back-off restarting failed container web", kT0 + 10 * kSecond,
       "kubelet"},
      {"Warning", "BackOff", "Back-off restarting failed container web", kT0 + 25 * kSecond,
       "kubelet"},
  };
  EXPECT_EQ(FormatDescribePod(RunningPod(), events, kNow),
            R"(Name:         web
Namespace:    default
Node:         node1/192.168.1.10
Start Time:   Sun, 29 Nov 2026 10:00:00 +0000
Labels:       app=web
              tier=front
Annotations:  note=hello
Status:       Running
IP:           10.88.0.7
IPs:
  IP:  10.88.0.7
  IP:  fd00::7
Init Containers:
  setup:
    Container ID:   comet://11111111-1111-4111-8111-111111111111:setup
    Image:          docker.io/library/busybox:1.36
    Image ID:       sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
      Started:      Sun, 29 Nov 2026 10:00:01 +0000
      Finished:     Sun, 29 Nov 2026 10:00:02 +0000
    Ready:          True
    Restart Count:  0
Containers:
  web:
    Container ID:   comet://11111111-1111-4111-8111-111111111111:web
    Image:          docker.io/library/busybox:1.36
    Image ID:       sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
    State:          Running
      Started:      Sun, 29 Nov 2026 10:00:30 +0000
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
      Started:      Sun, 29 Nov 2026 10:00:15 +0000
      Finished:     Sun, 29 Nov 2026 10:00:20 +0000
    Ready:          True
    Restart Count:  2
    Limits:
      cpu:     500m
      memory:  128Mi
    Requests:
      cpu:     250m
      memory:  64Mi
Conditions:
  Type              Status
  Initialized       True
  Ready             True
  ContainersReady   True
  PodScheduled      True
QoS Class:          Burstable
Events:
  Type     Reason   Age                    From     Message
  ----     ------   ----                   ----     -------
  Warning  BackOff  9m35s (x2 over 9m50s)  kubelet  Back-off restarting failed container web
  Normal   Pulled   9m31s                  kubelet  Container image "busybox:1.36" already present on machine
  Normal   Started  9m30s                  kubelet  Started container web
)");
}

TEST(FormatDescribePod, CrashLooping) {
  EXPECT_EQ(FormatDescribePod(CrashLoopingPod(), {}, kNow),
            R"(Name:         crasher
Namespace:    default
Node:         node1/192.168.1.10
Start Time:   Sun, 29 Nov 2026 10:00:00 +0000
Labels:       <none>
Annotations:  <none>
Status:       Running
IP:           10.88.0.8
IPs:
  IP:  10.88.0.8
Containers:
  crasher:
    Container ID:   comet://11111111-1111-4111-8111-111111111111:crasher
    Image:          docker.io/library/busybox:1.36
    Image ID:       sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    2
      Started:      Sun, 29 Nov 2026 10:08:00 +0000
      Finished:     Sun, 29 Nov 2026 10:08:01 +0000
    Ready:          False
    Restart Count:  5
Conditions:
  Type              Status
  Initialized       True
  Ready             False
  ContainersReady   False
  PodScheduled      True
QoS Class:          BestEffort
Events:             <none>
)");
}

TEST(FormatDescribePod, Completed) {
  KubePodStatus pod = CompletedPod();
  pod.node.clear();
  EXPECT_EQ(
      FormatDescribePod(pod, {{"Normal", "Completed", "", kT0 + 5 * kSecond, "kubelet"}}, kNow),
      R"(Name:         job
Namespace:    default
Node:         <none>
Start Time:   Sun, 29 Nov 2026 10:00:00 +0000
Labels:       <none>
Annotations:  <none>
Status:       Succeeded
IP:
IPs:          <none>
Containers:
  job:
    Container ID:   comet://11111111-1111-4111-8111-111111111111:job
    Image:          docker.io/library/busybox:1.36
    Image ID:       sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
      Started:      Sun, 29 Nov 2026 10:00:01 +0000
      Finished:     Sun, 29 Nov 2026 10:00:05 +0000
    Ready:          False
    Restart Count:  0
Conditions:
  Type              Status
  Initialized       True
  Ready             False
  ContainersReady   False
  PodScheduled      True
QoS Class:          BestEffort
Events:
  Type    Reason     Age    From     Message
  ----    ------     ----   ----     -------
  Normal  Completed  9m55s  kubelet
)");
}

}  // namespace
}  // namespace comet::node
