// `comet play` end to end (issue 7): Kubernetes YAML run as comet pods by the real binaries —
// env from ConfigMaps, Secrets and the downward API, configMap/secret/emptyDir/hostPath volumes
// with subPath, init containers in order, QoS oom scores, hostPID/hostIPC, --attach -i --rm,
// --down/--replace, and bad YAML that leaves nothing behind. The tests that fix what rktnetes
// could not do (a missing hostPath, init containers, attach/-i/--rm, OOM score per QoS) each
// fail on a runtime without the feature.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <regex>

#include "e2e/pod/pod_fixture.h"

namespace comet::e2e::pod {
namespace {

class PlayTest : public PodTest {
 protected:
  // Writes `yaml` to a file in the temp dir; returns its path.
  std::string YamlFile(const std::string& yaml, const std::string& name = "pod.yaml") {
    std::string path = tmp() + "/" + name;
    std::ofstream(path) << yaml;
    return path;
  }
  // `comet play --net=none ARGS...`.
  ProcResult Play(std::vector<std::string> args, ProcOptions options = {}) {
    args.insert(args.begin(), {"play", "--net=none"});
    return Comet(std::move(args), std::move(options));
  }
  // The UUID in play's "Pod NAMESPACE/NAME UUID ..." line for `name`; "" when none.
  static std::string UuidOf(const std::string& out, const std::string& name) {
    const std::regex line("Pod default/" + name + " ([0-9a-f-]{36}) ");
    std::smatch match;
    return std::regex_search(out, match, line) ? match[1].str() : "";
  }
};

// The node's memory as the kubelet counts it (MemTotal), in bytes.
uint64_t MemTotalBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemTotal:") {
      return kib * 1024;
    }
    meminfo.ignore(256, '\n');
  }
  return 0;
}

int OwnOomScoreAdj() {
  return std::stoi(Trim(ReadFileOrEmpty("/proc/self/oom_score_adj")));
}

constexpr const char* kEnvAndVolumes = R"y(apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  greeting: hello-from-configmap
  app.conf: |
    mode=fast
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
type: Opaque
data:
  password: czNjcjN0          # "s3cr3t"
stringData:
  user: admin
---
apiVersion: v1
kind: Pod
metadata:
  name: env-pod
  labels:
    tier: web
spec:
  restartPolicy: Never
  volumes:
  - name: config
    configMap:
      name: settings
  - name: secret
    secret:
      secretName: creds
      defaultMode: 0400
  - name: scratch
    emptyDir: {}
  initContainers:
  - name: first
    image: local/busybox:1
    command: ["/bin/sh", "-c", "echo first >> /scratch/order"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
  - name: second
    image: local/busybox:1
    command: ["/bin/sh", "-c", "echo second >> /scratch/order"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
  containers:
  - name: main
    image: local/busybox:1
    command: ["/bin/sh", "-c"]
    args:
    - |
      echo "greeting=$GREETING pass=$PASS pod=$POD_NAME ns=$POD_NS tier=$TIER combo=$COMBO"
      echo "order=$(cat /scratch/order | tr '\n' ,)"
      echo "conf=$(cat /etc/config/app.conf)"
      echo "sub=$(cat /etc/app.conf)"
      echo "secret=$(cat /etc/secret/password) mode=$(stat -L -c %a /etc/secret/user)"
      echo "memlimit=$MEM_LIMIT"
    env:
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: settings, key: greeting}}
    - name: PASS
      valueFrom: {secretKeyRef: {name: creds, key: password}}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_NS
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: TIER
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}
    - name: COMBO
      value: "$(POD_NAME)-$(TIER)"
    - name: MEM_LIMIT
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
    resources:
      limits: {memory: 64Mi}
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: config, mountPath: /etc/config, readOnly: true}
    - {name: config, mountPath: /etc/app.conf, subPath: app.conf}
    - {name: secret, mountPath: /etc/secret}
)y";

TEST_F(PlayTest, EnvVolumesInitContainersAndSubPath) {
  const std::string file = YamlFile(kEnvAndVolumes);
  ProcResult r = Play({"--attach", "--rm", file});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out,
                       "greeting=hello-from-configmap pass=s3cr3t pod=env-pod ns=default "
                       "tier=web combo=env-pod-web"))
      << r.out;
  EXPECT_TRUE(Contains(r.out, "order=first,second,")) << r.out;
  EXPECT_TRUE(Contains(r.out, "conf=mode=fast")) << r.out;
  EXPECT_TRUE(Contains(r.out, "sub=mode=fast")) << r.out;
  EXPECT_TRUE(Contains(r.out, "secret=s3cr3t mode=400")) << r.out;
  EXPECT_TRUE(Contains(r.out, "memlimit=64")) << r.out;
  // The secret's value is nowhere in comet's own messages.
  EXPECT_FALSE(Contains(r.err, "s3cr3t")) << r.err;
  EXPECT_TRUE(PodDirs().empty()) << "--rm left the pod";
}

// rktnetes limit 1: a hostPath that does not exist made the pod fail. The seed's `mount-dne`
// Pod, as it was: its container sees an empty directory.
TEST_F(PlayTest, MissingHostPathIsCreatedAsAnEmptyDirectory) {
  const std::string path = "/does/not/exist";
  struct stat st {};
  const bool existed = ::stat("/does", &st) == 0;
  ASSERT_NE(::stat(path.c_str(), &st), 0) << path << " exists on this machine";
  const std::string file = YamlFile(R"y(apiVersion: v1
kind: Pod
metadata:
  name: mount-dne
spec:
  restartPolicy: Never
  containers:
  - name: test-container
    image: local/busybox:1
    command: ["/bin/sh", "-c", "echo entries=$(ls -A /test | wc -l); test -d /test && echo is-dir"]
    volumeMounts:
    - mountPath: /test
      name: test-volume
  volumes:
  - name: test-volume
    hostPath:
      path: /does/not/exist
)y");
  ProcResult r = Play({"--attach", "--rm", file});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "entries=0")) << r.out;
  EXPECT_TRUE(Contains(r.out, "is-dir")) << r.out;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755U);
  ::rmdir("/does/not/exist");
  ::rmdir("/does/not");
  if (!existed) {
    ::rmdir("/does");
  }
}

TEST_F(PlayTest, HostPathTypesAreCheckedOrCreated) {
  const std::string dir = HostDir("hp");
  const std::string file = YamlFile(R"y(apiVersion: v1
kind: Pod
metadata: {name: typed}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: local/busybox:1
    command: ["/bin/sh", "-c", "test -f /f && echo file-ok"]
    volumeMounts: [{name: f, mountPath: /f}]
  volumes:
  - name: f
    hostPath: {path: )y" + dir + R"y(/new/file, type: FileOrCreate}
)y");
  ProcResult r = Play({"--attach", "--rm", file});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "file-ok")) << r.out;
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/new/file").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));

  // type Directory on a missing path: an error naming the field, no pod, nothing created.
  const std::string missing = YamlFile(R"y(apiVersion: v1
kind: Pod
metadata: {name: strict}
spec:
  containers:
  - {name: c, image: local/busybox:1}
  volumes:
  - name: d
    hostPath: {path: )y" + dir + R"y(/absent, type: Directory}
)y",
                                       "strict.yaml");
  ProcResult bad = Play({missing});
  EXPECT_EQ(bad.exit_code, 254) << bad.Describe();
  EXPECT_TRUE(Contains(bad.err, "spec.volumes[0].hostPath")) << bad.err;
  EXPECT_NE(::stat((dir + "/absent").c_str(), &st), 0);
  EXPECT_TRUE(PodDirs().empty());
}

// rktnetes limit 6: QoS did not set the OOM score. BestEffort gets 1000, Burstable the
// kubelet's formula; Guaranteed's -997 is clamped to comet's own score where lowering needs
// CAP_SYS_RESOURCE, and play says so.
TEST_F(PlayTest, OomScoreFollowsQosClass) {
  const std::string yaml = R"y(apiVersion: v1
kind: Pod
metadata: {name: best-effort}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: local/busybox:1
    command: ["/bin/sh", "-c", "echo oom=$(cat /proc/self/oom_score_adj)"]
---
apiVersion: v1
kind: Pod
metadata: {name: burstable}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: local/busybox:1
    command: ["/bin/sh", "-c", "echo oom=$(cat /proc/self/oom_score_adj)"]
    resources:
      requests: {memory: 1Gi}
---
apiVersion: v1
kind: Pod
metadata: {name: guaranteed}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: local/busybox:1
    command: ["/bin/sh", "-c", "echo oom=$(cat /proc/self/oom_score_adj)"]
    resources:
      limits: {memory: 64Mi, cpu: 100m}
)y";
  ProcResult r = Play({YamlFile(yaml)});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "qos=BestEffort")) << r.out;
  EXPECT_TRUE(Contains(r.out, "qos=Burstable")) << r.out;
  EXPECT_TRUE(Contains(r.out, "qos=Guaranteed")) << r.out;
  const uint64_t total = MemTotalBytes();
  ASSERT_GT(total, 0U);
  const int64_t burstable =
      std::clamp<int64_t>(1000 - (1000 * (int64_t{1} << 30)) / static_cast<int64_t>(total), 2, 999);
  const int own = OwnOomScoreAdj();
  const std::map<std::string, int64_t> expected = {
      {"best-effort", 1000},
      {"burstable", std::max<int64_t>(burstable, own)},
      {"guaranteed", own}};  // -997 needs CAP_SYS_RESOURCE, which root lacks here
  for (const auto& [name, score] : expected) {
    const std::string uuid = UuidOf(r.out, name);
    ASSERT_FALSE(uuid.empty()) << name << ": " << r.out;
    EXPECT_EQ(Comet({"status", "--wait=20s", uuid}).exit_code, 0);
    ProcResult logs = Comet({"logs", uuid});
    EXPECT_TRUE(Contains(logs.out, "oom=" + std::to_string(score)))
        << name << " expected " << score << ": " << logs.out;
  }
  EXPECT_TRUE(Contains(r.err, "oom_score_adj -997 (QoS Guaranteed)")) << r.err;
}

// A container that plants a symlink in a shared volume cannot make another container's subPath
// mount lead outside the volume (CVE-2017-1002101's shape): the link resolves inside it.
TEST_F(PlayTest, SubPathSymlinkStaysInsideTheVolume) {
  const std::string outside = HostDir("outside");
  WriteFileOrDie(outside + "/host-secret", "leaked\n");
  const std::string yaml = R"y(apiVersion: v1
kind: Pod
metadata: {name: escape}
spec:
  restartPolicy: Never
  volumes:
  - {name: shared, emptyDir: {}}
  initContainers:
  - name: planter
    image: local/busybox:1
    command: ["/bin/sh", "-c", "ln -s )y" +
                           outside + R"y( /shared/link && echo planted"]
    volumeMounts: [{name: shared, mountPath: /shared}]
  containers:
  - name: victim
    image: local/busybox:1
    command: ["/bin/sh", "-c", "echo seen=$(ls -A /mnt | tr '\\n' ,)"]
    volumeMounts: [{name: shared, mountPath: /mnt, subPath: link}]
)y";
  ProcResult r = Play({"--attach", "--rm", YamlFile(yaml)});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "planted")) << r.out;
  EXPECT_TRUE(Contains(r.out, "seen=")) << r.out;
  EXPECT_FALSE(Contains(r.out, "host-secret")) << "the subPath followed the link out: " << r.out;
}

TEST_F(PlayTest, HostPidAndHostIpc) {
  const std::string yaml = R"y(apiVersion: v1
kind: Pod
metadata: {name: host-ns}
spec:
  restartPolicy: Never
  hostPID: true
  hostIPC: true
  containers:
  - name: c
    image: local/busybox:1
    command: ["/bin/sh", "-c", "echo pid=$(readlink /proc/self/ns/pid) ipc=$(readlink /proc/self/ns/ipc)"]
)y";
  ProcResult r = Play({"--attach", "--rm", YamlFile(yaml)});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  char pid_ns[64] = {};
  char ipc_ns[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/pid", pid_ns, sizeof(pid_ns) - 1), 0);
  ASSERT_GT(::readlink("/proc/self/ns/ipc", ipc_ns, sizeof(ipc_ns) - 1), 0);
  EXPECT_TRUE(Contains(r.out, std::string("pid=") + pid_ns)) << r.out;
  EXPECT_TRUE(Contains(r.out, std::string("ipc=") + ipc_ns)) << r.out;
}

// rktnetes limit 2: no attach, -i or --rm. A Kubernetes pod here takes the terminal's stdin and
// is gone afterwards.
TEST_F(PlayTest, AttachInteractiveRm) {
  const std::string yaml = R"y(apiVersion: v1
kind: Pod
metadata: {name: echo}
spec:
  restartPolicy: Never
  containers:
  - name: cat
    image: local/busybox:1
    command: ["/bin/sh", "-c", "read line; echo got:$line"]
    stdin: true
)y";
  ProcOptions options;
  options.stdin_data = "through-stdin\n";
  ProcResult r = Play({"--attach", "--rm", "-i", YamlFile(yaml)}, options);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "got:through-stdin")) << r.out;
  EXPECT_TRUE(PodDirs().empty());
}

TEST_F(PlayTest, DownReplaceAndDuplicates) {
  const std::string yaml = std::string(R"y(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: server
        image: local/busybox:1
        command: ["/bin/sh", "-c", ")y") +
                           kSleeper + R"y("]
)y";
  const std::string file = YamlFile(yaml);
  ProcResult first = Play({file});
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  const std::string uuid = UuidOf(first.out, "web");
  ASSERT_FALSE(uuid.empty()) << first.out;
  EXPECT_EQ(Comet({"status", "--wait-ready=10s", uuid}).exit_code, 0);
  EXPECT_EQ(PodDirs().size(), 1U) << "a Deployment's template runs once";

  ProcResult again = Play({file});
  EXPECT_EQ(again.exit_code, 254) << again.Describe();
  EXPECT_TRUE(Contains(again.err, "--replace")) << again.err;

  // A --replace whose YAML does not convert changes nothing: the running pod stays.
  const std::string broken = YamlFile(R"y(apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: server
    image: local/busybox:1
    env:
    - name: X
      valueFrom: {configMapKeyRef: {name: missing, key: k}}
)y",
                                      "broken.yaml");
  ProcResult bad_replace = Play({"--replace", broken});
  EXPECT_EQ(bad_replace.exit_code, 254) << bad_replace.Describe();
  EXPECT_EQ(Status(uuid)["state"], "running");

  ProcResult replaced = Play({"--replace", file});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.Describe();
  const std::string second = UuidOf(replaced.out, "web");
  ASSERT_FALSE(second.empty()) << replaced.out;
  EXPECT_NE(second, uuid);
  EXPECT_TRUE(Contains(replaced.out, "Removed pod default/web " + uuid)) << replaced.out;
  EXPECT_EQ(PodPath(uuid), "");

  ProcResult down = Play({"--down", file});
  EXPECT_EQ(down.exit_code, 0) << down.Describe();
  EXPECT_TRUE(Contains(down.out, "Removed pod default/web " + second)) << down.out;
  EXPECT_TRUE(PodDirs().empty());
}

TEST_F(PlayTest, BadYamlNamesTheFieldAndLeavesNothing) {
  const std::string bad_image = YamlFile(R"y(apiVersion: v1
kind: Pod
metadata: {name: broken}
spec:
  containers:
  - name: ok
    image: local/busybox:1
  - name: missing-image
)y");
  ProcResult r = Play({bad_image});
  EXPECT_EQ(r.exit_code, 254) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "spec.containers[1].image")) << r.err;

  const std::string unknown_ref = YamlFile(R"y(apiVersion: v1
kind: Pod
metadata: {name: dangling}
spec:
  containers:
  - name: c
    image: local/busybox:1
    env:
    - name: X
      valueFrom: {configMapKeyRef: {name: nowhere, key: k}}
)y",
                                           "dangling.yaml");
  r = Play({unknown_ref});
  EXPECT_EQ(r.exit_code, 254) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "nowhere")) << r.err;

  const std::string unsupported = YamlFile(R"y(apiVersion: v1
kind: Pod
metadata: {name: warned}
spec:
  restartPolicy: Never
  affinityTypo: {}
  containers:
  - name: c
    image: local/busybox:1
    command: ["true"]
)y",
                                           "warned.yaml");
  r = Play({"--attach", "--rm", unsupported});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "spec.affinityTypo")) << r.err;

  ProcResult garbage = Play({YamlFile("kind: [unclosed\n", "garbage.yaml")});
  EXPECT_EQ(garbage.exit_code, 254) << garbage.Describe();
  EXPECT_TRUE(Contains(garbage.err, "line")) << garbage.err;
  EXPECT_TRUE(PodDirs().empty());
}

}  // namespace
}  // namespace comet::e2e::pod
