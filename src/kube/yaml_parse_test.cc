#include "kube/yaml_parse.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A ConfigMap, a Secret and a Pod using every feature the parser reads.
constexpr const char* kRealistic = R"yaml(# The web shop's front end.
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: shop
  labels: {app: web}
data:
  nginx.conf: |
    server { listen 80; }
  mode: production
binaryData:
  blob: AAEC/w==
immutable: true
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  namespace: shop
type: kubernetes.io/basic-auth
data:
  password: czNjcjN0     # "s3cr3t"
  username: YWRtaW4=     # "admin", replaced by stringData
stringData:
  username: root
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  uid: 0b5e1c9e-0000-4000-8000-000000000001
  labels:
    app: web
    app.kubernetes.io/version: "1.0"
  annotations:
    example.com/note: hello
  creationTimestamp: null
  resourceVersion: "42"
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 10
  activeDeadlineSeconds: 3600
  hostname: web-0
  subdomain: shop
  shareProcessNamespace: true
  hostIPC: true
  dnsPolicy: None
  dnsConfig:
    nameservers: [10.0.0.10, "fd00::10"]
    searches: [shop.svc.cluster.local]
    options:
    - {name: ndots, value: "2"}
    - name: rotate
  hostAliases:
  - ip: 10.1.2.3
    hostnames: [db, db.local]
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    runAsNonRoot: true
    supplementalGroups: [4000, 4001]
    fsGroup: 2000
    seccompProfile: {type: RuntimeDefault}
    sysctls:
    - {name: net.ipv4.ip_local_port_range, value: "1024 65535"}
  priorityClassName: high
  serviceAccountName: web-sa
  nodeName: node-1
  schedulerName: default-scheduler
  tolerations: [{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}]
  enableServiceLinks: true
  initContainers:
  - name: init
    image: busybox:1.36
    command: [sh, -c, "echo init > /work/ready"]
    volumeMounts:
    - {name: work, mountPath: /work}
  - name: sidecar
    image: busybox:1.36
    restartPolicy: Always
    readinessProbe:
      exec: {command: ["true"]}
  containers:
  - name: app
    image: nginx:1.25
    imagePullPolicy: IfNotPresent
    command: ["/docker-entrypoint.sh"]
    args: [nginx, -g, "daemon off;"]
    workingDir: /usr/share/nginx
    ports:
    - {name: http, containerPort: 80}
    - containerPort: 8443
      hostPort: 8443
      hostIP: 127.0.0.1
      protocol: UDP
    envFrom:
    - configMapRef: {name: web-config}
      prefix: CFG_
    - secretRef: {name: web-secret, optional: true}
    env:
    - {name: PLAIN, value: "x $(CFG_mode)"}
    - name: EMPTY
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: APP_LABEL
      valueFrom: {fieldRef: {apiVersion: v1, fieldPath: "metadata.labels['app']"}}
    - name: MEM_LIMIT
      valueFrom: {resourceFieldRef: {containerName: app, resource: limits.memory, divisor: 1Mi}}
    - name: MODE
      valueFrom: {configMapKeyRef: {name: web-config, key: mode}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: web-secret, key: password, optional: false}}
    resources:
      requests: {cpu: 250m, memory: 64Mi}
      limits: {cpu: 1, memory: 128Mi, nvidia.com/gpu: 1}
    volumeMounts:
    - {name: config, mountPath: /etc/nginx/conf.d, readOnly: true}
    - {name: secret, mountPath: /etc/secret}
    - {name: work, mountPath: /work, subPath: app/data}
    - {name: host, mountPath: /host/log}
    - {name: cache, mountPath: /cache}
    livenessProbe:
      httpGet:
        path: /healthz
        port: http
        scheme: HTTPS
        httpHeaders: [{name: X-Probe, value: "1"}]
      initialDelaySeconds: 5
      periodSeconds: 3
    readinessProbe:
      tcpSocket: {port: 80}
      successThreshold: 2
      timeoutSeconds: 0
    startupProbe:
      exec: {command: [cat, /tmp/started]}
      failureThreshold: 30
    lifecycle:
      postStart:
        exec: {command: [sh, -c, "echo started > /tmp/started"]}
      preStop:
        sleep: {seconds: 5}
    securityContext:
      runAsUser: 101
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}
      seccompProfile: {type: Localhost, localhostProfile: profiles/nginx.json}
    stdin: true
    stdinOnce: true
    tty: true
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
  volumes:
  - name: config
    configMap:
      name: web-config
      items: [{key: nginx.conf, path: default.conf, mode: 0600}]
  - name: secret
    secret: {secretName: web-secret, optional: true, defaultMode: 0400}
  - name: work
    emptyDir: {}
  - name: cache
    emptyDir: {medium: Memory, sizeLimit: 64Mi}
  - name: host
    hostPath: {path: /var/log, type: Directory}
status:
  phase: Pending
)yaml";

Result<Objects> Parse(std::string_view text, std::vector<std::string>* warnings = nullptr) {
  return ParseKubeYaml(text, "pod.yaml", warnings);
}

std::string ErrorOf(std::string_view text) {
  auto objects = Parse(text);
  return objects ? std::string("(parsed)") : objects.error().ToString();
}

TEST(YamlParseTest, RealisticFileReadsEveryField) {
  std::vector<std::string> warnings;
  auto objects = Parse(kRealistic, &warnings);
  ASSERT_TRUE(objects) << objects.error().ToString();
  EXPECT_THAT(warnings, IsEmpty());  // what the API server writes back is silent

  ASSERT_EQ(objects->config_maps.size(), 1U);
  const ConfigMap& config = objects->config_maps[0];
  EXPECT_EQ(config.metadata.name, "web-config");
  EXPECT_EQ(config.metadata.namespace_, "shop");
  EXPECT_EQ(config.data.at("nginx.conf"), "server { listen 80; }\n");
  EXPECT_EQ(config.data.at("mode"), "production");
  EXPECT_EQ(config.binary_data.at("blob"), std::string("\0\1\2\xff", 4));

  ASSERT_EQ(objects->secrets.size(), 1U);
  const Secret& secret = objects->secrets[0];
  EXPECT_EQ(secret.type, "kubernetes.io/basic-auth");
  EXPECT_EQ(secret.data.at("password"), "s3cr3t");
  EXPECT_EQ(secret.data.at("username"), "root");

  ASSERT_EQ(objects->pods.size(), 1U);
  const Pod& pod = objects->pods[0];
  EXPECT_EQ(pod.source, "pod.yaml: document 3 (Pod web)");
  EXPECT_EQ(pod.metadata.name, "web");
  EXPECT_EQ(pod.metadata.namespace_, "shop");
  EXPECT_EQ(pod.metadata.uid, "0b5e1c9e-0000-4000-8000-000000000001");
  EXPECT_EQ(pod.metadata.labels.at("app.kubernetes.io/version"), "1.0");
  EXPECT_EQ(pod.metadata.annotations.at("example.com/note"), "hello");

  const PodSpec& spec = pod.spec;
  EXPECT_EQ(spec.restart_policy, "OnFailure");
  EXPECT_EQ(spec.termination_grace_period_seconds, 10);
  EXPECT_EQ(spec.active_deadline_seconds, 3600);
  EXPECT_EQ(spec.hostname, "web-0");
  EXPECT_EQ(spec.subdomain, "shop");
  EXPECT_TRUE(spec.share_process_namespace);
  EXPECT_TRUE(spec.host_ipc);
  EXPECT_FALSE(spec.host_network);
  EXPECT_FALSE(spec.host_pid);
  EXPECT_EQ(spec.dns_policy, "None");
  ASSERT_TRUE(spec.dns_config);
  EXPECT_THAT(spec.dns_config->nameservers, ElementsAre("10.0.0.10", "fd00::10"));
  EXPECT_THAT(spec.dns_config->searches, ElementsAre("shop.svc.cluster.local"));
  ASSERT_EQ(spec.dns_config->options.size(), 2U);
  EXPECT_EQ(spec.dns_config->options[0].value, "2");
  EXPECT_EQ(spec.dns_config->options[1].name, "rotate");
  ASSERT_EQ(spec.host_aliases.size(), 1U);
  EXPECT_THAT(spec.host_aliases[0].hostnames, ElementsAre("db", "db.local"));
  ASSERT_TRUE(spec.security_context);
  EXPECT_EQ(spec.security_context->run_as_user, 1000);
  EXPECT_EQ(spec.security_context->run_as_group, 3000);
  EXPECT_EQ(spec.security_context->run_as_non_root, true);
  EXPECT_THAT(spec.security_context->supplemental_groups, ElementsAre(4000, 4001));
  EXPECT_EQ(spec.security_context->fs_group, 2000);
  EXPECT_EQ(spec.security_context->seccomp_profile->type, "RuntimeDefault");
  EXPECT_EQ(spec.security_context->sysctls.at("net.ipv4.ip_local_port_range"), "1024 65535");
  EXPECT_EQ(spec.priority_class_name, "high");
  EXPECT_EQ(spec.service_account_name, "web-sa");
  EXPECT_EQ(spec.node_name, "node-1");

  ASSERT_EQ(spec.init_containers.size(), 2U);
  EXPECT_EQ(spec.init_containers[0].name, "init");
  EXPECT_EQ(spec.init_containers[0].restart_policy, "");
  EXPECT_EQ(spec.init_containers[1].restart_policy, "Always");
  EXPECT_TRUE(spec.init_containers[1].readiness_probe);

  ASSERT_EQ(spec.containers.size(), 1U);
  const Container& app = spec.containers[0];
  EXPECT_EQ(app.image, "nginx:1.25");
  EXPECT_EQ(app.image_pull_policy, "IfNotPresent");
  EXPECT_EQ(app.command, std::vector<std::string>{"/docker-entrypoint.sh"});
  EXPECT_EQ(app.args, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(app.working_dir, "/usr/share/nginx");
  ASSERT_EQ(app.ports.size(), 2U);
  EXPECT_EQ(app.ports[0].name, "http");
  EXPECT_EQ(app.ports[0].container_port, 80);
  EXPECT_EQ(app.ports[0].protocol, "TCP");
  EXPECT_EQ(app.ports[0].host_port, 0);
  EXPECT_EQ(app.ports[1].host_port, 8443);
  EXPECT_EQ(app.ports[1].host_ip, "127.0.0.1");
  EXPECT_EQ(app.ports[1].protocol, "UDP");
  ASSERT_EQ(app.env_from.size(), 2U);
  EXPECT_EQ(app.env_from[0].prefix, "CFG_");
  EXPECT_EQ(app.env_from[0].config_map_ref->name, "web-config");
  EXPECT_TRUE(app.env_from[1].secret_ref->optional);
  ASSERT_EQ(app.env.size(), 7U);
  EXPECT_EQ(app.env[0].value, "x $(CFG_mode)");
  EXPECT_EQ(app.env[1].name, "EMPTY");
  EXPECT_FALSE(app.env[1].value_from);
  EXPECT_EQ(app.env[2].value_from->field_ref->field_path, "metadata.name");
  EXPECT_EQ(app.env[3].value_from->field_ref->field_path, "metadata.labels['app']");
  EXPECT_EQ(app.env[4].value_from->resource_field_ref->container_name, "app");
  EXPECT_EQ(app.env[4].value_from->resource_field_ref->resource, "limits.memory");
  EXPECT_EQ(app.env[4].value_from->resource_field_ref->divisor, "1Mi");
  EXPECT_EQ(app.env[5].value_from->config_map_key_ref->key, "mode");
  EXPECT_EQ(app.env[6].value_from->secret_key_ref->name, "web-secret");
  EXPECT_FALSE(app.env[6].value_from->secret_key_ref->optional);
  EXPECT_EQ(app.resources.requests.at("cpu"), "250m");
  EXPECT_EQ(app.resources.limits.at("cpu"), "1");  // a YAML number, kept as its text
  EXPECT_EQ(app.resources.limits.at("nvidia.com/gpu"), "1");
  ASSERT_EQ(app.volume_mounts.size(), 5U);
  EXPECT_TRUE(app.volume_mounts[0].read_only);
  EXPECT_EQ(app.volume_mounts[2].sub_path, "app/data");

  ASSERT_TRUE(app.liveness_probe);
  const HttpGetAction& http = *app.liveness_probe->handler.http_get;
  EXPECT_EQ(http.path, "/healthz");
  EXPECT_EQ(http.port, "http");
  EXPECT_EQ(http.scheme, "HTTPS");
  ASSERT_EQ(http.headers.size(), 1U);
  EXPECT_EQ(http.headers[0].value, "1");
  EXPECT_EQ(app.liveness_probe->initial_delay_seconds, 5);
  EXPECT_EQ(app.liveness_probe->period_seconds, 3);
  EXPECT_EQ(app.liveness_probe->timeout_seconds, 1);
  EXPECT_EQ(app.liveness_probe->failure_threshold, 3);
  ASSERT_TRUE(app.readiness_probe);
  EXPECT_EQ(app.readiness_probe->handler.tcp_socket->port, "80");
  EXPECT_EQ(app.readiness_probe->success_threshold, 2);
  EXPECT_EQ(app.readiness_probe->timeout_seconds, 1);  // 0 is the default
  EXPECT_EQ(app.startup_probe->handler.exec->command,
            (std::vector<std::string>{"cat", "/tmp/started"}));
  EXPECT_EQ(app.startup_probe->failure_threshold, 30);
  ASSERT_TRUE(app.lifecycle);
  EXPECT_TRUE(app.lifecycle->post_start->exec);
  EXPECT_EQ(app.lifecycle->pre_stop->sleep_seconds, 5);

  ASSERT_TRUE(app.security_context);
  EXPECT_EQ(app.security_context->run_as_user, 101);
  EXPECT_EQ(app.security_context->allow_privilege_escalation, false);
  EXPECT_EQ(app.security_context->read_only_root_filesystem, true);
  EXPECT_FALSE(app.security_context->privileged);
  EXPECT_THAT(app.security_context->capabilities->add, ElementsAre("NET_BIND_SERVICE"));
  EXPECT_THAT(app.security_context->capabilities->drop, ElementsAre("ALL"));
  EXPECT_EQ(app.security_context->seccomp_profile->localhost_profile, "profiles/nginx.json");
  EXPECT_TRUE(app.stdin);
  EXPECT_TRUE(app.stdin_once);
  EXPECT_TRUE(app.tty);
  EXPECT_EQ(app.termination_message_path, "/dev/termination-log");

  ASSERT_EQ(spec.volumes.size(), 5U);
  const Volume& config_volume = spec.volumes[0];
  EXPECT_EQ(config_volume.kind, VolumeSourceKind::kConfigMap);
  EXPECT_EQ(config_volume.source_name, "web-config");
  ASSERT_EQ(config_volume.items.size(), 1U);
  EXPECT_EQ(config_volume.items[0].mode, 0600);  // YAML 1.1 octal
  EXPECT_EQ(config_volume.default_mode, 0644);   // the API server's default
  EXPECT_EQ(spec.volumes[1].kind, VolumeSourceKind::kSecret);
  EXPECT_EQ(spec.volumes[1].default_mode, 0400);
  EXPECT_TRUE(spec.volumes[1].optional);
  EXPECT_EQ(spec.volumes[2].kind, VolumeSourceKind::kEmptyDir);
  EXPECT_EQ(spec.volumes[2].medium, "");
  EXPECT_EQ(spec.volumes[3].medium, "Memory");
  EXPECT_EQ(spec.volumes[3].size_limit, "64Mi");
  EXPECT_EQ(spec.volumes[4].kind, VolumeSourceKind::kHostPath);
  EXPECT_EQ(spec.volumes[4].path, "/var/log");
  EXPECT_EQ(spec.volumes[4].host_path_type, "Directory");
}

TEST(YamlParseTest, DefaultsAreTheApiServers) {
  auto objects = Parse(R"(apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers:
  - name: c
    image: busybox
    ports: [{containerPort: 80}]
    livenessProbe: {httpGet: {port: 80}}
  volumes:
  - name: h
    hostPath: {path: /srv}
)");
  ASSERT_TRUE(objects) << objects.error().ToString();
  const Pod& pod = objects->pods[0];
  EXPECT_EQ(pod.metadata.namespace_, "default");
  EXPECT_EQ(pod.spec.restart_policy, "Always");
  EXPECT_EQ(pod.spec.dns_policy, "ClusterFirst");
  EXPECT_EQ(pod.spec.termination_grace_period_seconds, 30);
  const Container& c = pod.spec.containers[0];
  EXPECT_EQ(c.image_pull_policy, "");
  EXPECT_FALSE(c.command);
  EXPECT_FALSE(c.args);
  EXPECT_EQ(c.ports[0].protocol, "TCP");
  EXPECT_EQ(c.termination_message_path, "/dev/termination-log");
  const Probe& probe = *c.liveness_probe;
  EXPECT_EQ(probe.handler.http_get->path, "/");
  EXPECT_EQ(probe.handler.http_get->scheme, "HTTP");
  EXPECT_EQ(probe.handler.http_get->port, "80");
  EXPECT_EQ(probe.timeout_seconds, 1);
  EXPECT_EQ(probe.period_seconds, 10);
  EXPECT_EQ(probe.success_threshold, 1);
  EXPECT_EQ(probe.failure_threshold, 3);
  EXPECT_EQ(pod.spec.volumes[0].host_path_type, "");
}

// The seed of rktnetes' `mount-dne` test: a hostPath that does not exist on the host.
TEST(YamlParseTest, RktnetesMountDneSeedParses) {
  auto objects = Parse(R"(apiVersion: v1
kind: Pod
metadata:
  name: mount-dne
spec:
  restartPolicy: Never
  containers:
  - name: test-container
    image: busybox
    command: ["/bin/sh", "-c", "ls -A /test"]
    volumeMounts:
    - mountPath: /test
      name: test-volume
  volumes:
  - name: test-volume
    hostPath:
      path: /does/not/exist
)");
  ASSERT_TRUE(objects) << objects.error().ToString();
  ASSERT_EQ(objects->pods.size(), 1U);
  EXPECT_EQ(objects->pods[0].spec.volumes[0].path, "/does/not/exist");
  EXPECT_EQ(objects->pods[0].spec.containers[0].volume_mounts[0].mount_path, "/test");
}

TEST(YamlParseTest, DeploymentRunsItsTemplateOnceWithMergedLabels) {
  std::vector<std::string> warnings;
  auto objects = Parse(R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {team: shop, app: old}
  annotations: {deployment.kubernetes.io/revision: "3"}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: server
        image: nginx
)",
                       &warnings);
  ASSERT_TRUE(objects) << objects.error().ToString();
  ASSERT_EQ(objects->pods.size(), 1U);
  const Pod& pod = objects->pods[0];
  EXPECT_EQ(pod.metadata.name, "web");
  EXPECT_EQ(pod.source, "pod.yaml: document 1 (Deployment web)");
  EXPECT_EQ(pod.metadata.labels.at("team"), "shop");
  EXPECT_EQ(pod.metadata.labels.at("app"), "web");  // the template's wins
  EXPECT_EQ(pod.metadata.annotations.at("deployment.kubernetes.io/revision"), "3");
  EXPECT_EQ(pod.spec.restart_policy, "Always");
  EXPECT_THAT(warnings, ElementsAre("pod.yaml: document 1 (Deployment web): spec.replicas: 3 "
                                    "replicas asked, comet runs one pod"));
}

TEST(YamlParseTest, OtherWorkloadsRunTheirTemplates) {
  std::vector<std::string> warnings;
  auto objects = Parse(R"(apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  template:
    spec:
      containers: [{name: db, image: postgres}]
  volumeClaimTemplates: [{metadata: {name: data}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    spec:
      containers: [{name: agent, image: agent}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  template:
    spec:
      containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: c, image: busybox}]
---
apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: old}
spec:
  template:
    spec:
      containers: [{name: c, image: busybox}]
)",
                       &warnings);
  ASSERT_TRUE(objects) << objects.error().ToString();
  ASSERT_EQ(objects->pods.size(), 5U);
  EXPECT_EQ(objects->pods[0].metadata.name, "db");
  EXPECT_EQ(objects->pods[4].metadata.name, "old");
  EXPECT_THAT(warnings,
              ElementsAre("pod.yaml: document 1 (StatefulSet db): spec.volumeClaimTemplates: "
                          "persistent volumes are not supported, ignored",
                          "pod.yaml: document 5 (Deployment old): apiVersion extensions/v1beta1 "
                          "is deprecated, read as apps/v1"));
}

TEST(YamlParseTest, JobsAndCronJobs) {
  std::vector<std::string> warnings;
  auto objects = Parse(R"(apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backoffLimit: 4
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: migrate, args: [up]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, labels: {kind: cron}}
spec:
  schedule: "0 3 * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    metadata: {labels: {job: nightly}}
    spec:
      backoffLimit: 1
      template:
        metadata: {labels: {pod: nightly}}
        spec:
          restartPolicy: OnFailure
          containers: [{name: backup, image: backup}]
)",
                       &warnings);
  ASSERT_TRUE(objects) << objects.error().ToString();
  ASSERT_EQ(objects->pods.size(), 2U);
  EXPECT_EQ(objects->pods[0].spec.restart_policy, "Never");
  const Pod& cron = objects->pods[1];
  EXPECT_EQ(cron.metadata.name, "nightly");
  EXPECT_EQ(cron.spec.restart_policy, "OnFailure");
  EXPECT_EQ(cron.metadata.labels.size(), 3U);
  EXPECT_EQ(cron.spec.containers[0].image, "backup");
  EXPECT_THAT(warnings, ElementsAre("pod.yaml: document 2 (CronJob nightly): spec.schedule: "
                                    "\"0 3 * * *\" not followed, the job's pod runs once, now"));

  EXPECT_EQ(ErrorOf(R"(apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
    spec:
      containers: [{name: c, image: busybox}]
)"),
            "pod.yaml: document 1 (Job j): spec.template.spec.restartPolicy: must be OnFailure or "
            "Never for a Job (Always is the default)");
  EXPECT_EQ(ErrorOf(R"(apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Always
          containers: [{name: c, image: busybox}]
)"),
            "pod.yaml: document 1 (CronJob cj): spec.jobTemplate.spec.template.spec.restartPolicy: "
            "must be OnFailure or Never for a CronJob (Always is the default)");
  EXPECT_EQ(ErrorOf(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
)"),
            "pod.yaml: document 1 (Deployment d): spec.template.spec.restartPolicy: \"Never\": "
            "must be Always for a Deployment");
}

TEST(YamlParseTest, WarnsAboutUnsupportedFieldsAndKindsByPath) {
  std::vector<std::string> warnings;
  auto objects = Parse(R"(apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
---
---
apiVersion: v1
kind: Pod
metadata: {name: web, managedFields: []}
spec:
  affinity: {nodeAffinity: {}}
  nodeSelector: {disk: ssd}
  tolerations: []
  imagePullSecrets: [{name: registry}]
  containers:
  - name: c
    image: busybox
    imagee: typo
    resources: {claims: [{name: gpu}]}
    volumeMounts: [{name: v, mountPath: /v, mountPropagation: HostToContainer}]
    livenessProbe: {grpc: {port: 9000}}
    securityContext: {seLinuxOptions: {level: "s0:c1"}}
  volumes: [{name: v, emptyDir: {}}]
status: {phase: Running}
)",
                       &warnings);
  ASSERT_TRUE(objects) << objects.error().ToString();
  EXPECT_THAT(
      warnings,
      ElementsAre(
          "pod.yaml: document 1 (Service web): kind Service is not supported, skipped",
          "pod.yaml: document 3 (Pod web): spec.containers[0].resources.claims: not supported, "
          "ignored",
          "pod.yaml: document 3 (Pod web): spec.containers[0].volumeMounts[0].mountPropagation: "
          "not supported, ignored",
          "pod.yaml: document 3 (Pod web): spec.containers[0].livenessProbe.grpc: gRPC probes "
          "are not supported, probe ignored",
          "pod.yaml: document 3 (Pod web): spec.containers[0].securityContext.seLinuxOptions: "
          "not supported, ignored",
          "pod.yaml: document 3 (Pod web): spec.containers[0].imagee: not supported, ignored",
          "pod.yaml: document 3 (Pod web): spec.affinity: not supported, ignored",
          "pod.yaml: document 3 (Pod web): spec.nodeSelector: not supported, ignored",
          "pod.yaml: document 3 (Pod web): spec.imagePullSecrets: not supported, ignored"));
  ASSERT_EQ(objects->pods.size(), 1U);
  EXPECT_FALSE(objects->pods[0].spec.containers[0].liveness_probe);
}

TEST(YamlParseTest, GenerateNameGetsARandomSuffix) {
  auto objects = Parse(R"(apiVersion: v1
kind: Pod
metadata: {generateName: web-}
spec:
  containers: [{name: c, image: busybox}]
)");
  ASSERT_TRUE(objects) << objects.error().ToString();
  const std::string& name = objects->pods[0].metadata.name;
  ASSERT_EQ(name.size(), 9U) << name;
  EXPECT_EQ(name.substr(0, 4), "web-");
  EXPECT_EQ(name.substr(4).find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos);
  EXPECT_EQ(objects->pods[0].metadata.generate_name, "web-");
}

TEST(YamlParseTest, ReadsJson) {
  auto objects = Parse(R"({
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "json-pod", "labels": {"emoji": "x"}},
  "spec": {
    "containers": [{
      "name": "c", "image": "busybox", "command": ["echo", "\ud83d\ude00"],
      "ports": [{"containerPort": 8080}],
      "resources": {"limits": {"cpu": 0.5, "memory": 134217728}}
    }],
    "volumes": [{"name": "v", "secret": {"secretName": "s", "defaultMode": 256}}]
  }
}
{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}}
)");
  ASSERT_TRUE(objects) << objects.error().ToString();
  ASSERT_EQ(objects->pods.size(), 1U);
  const Container& c = objects->pods[0].spec.containers[0];
  EXPECT_EQ((*c.command)[1], "\xF0\x9F\x98\x80");
  EXPECT_EQ(c.ports[0].container_port, 8080);
  EXPECT_EQ(c.resources.limits.at("cpu"), "0.5");
  EXPECT_EQ(c.resources.limits.at("memory"), "134217728");
  EXPECT_EQ(objects->pods[0].spec.volumes[0].default_mode, 0400);
  EXPECT_EQ(objects->secrets[0].data.at("k"), "v");
  EXPECT_EQ(ErrorOf("{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": 5}}"),
            "pod.yaml: document 1 (Pod 5): metadata.name: expected a string, got number 5 (quote "
            "it)");
}

TEST(YamlParseTest, DuplicateNamesInOneNamespaceAreErrors) {
  const std::string pod =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
      "spec: {containers: [{name: c, image: busybox}]}\n";
  EXPECT_EQ(ErrorOf(pod + "---\n" + pod),
            "pod.yaml: document 2 (Pod web): pod \"default/web\" is already defined by pod.yaml: "
            "document 1 (Pod web)");
  auto other_namespace = Parse(pod + "---\n" +
                               "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: b}\n"
                               "spec: {containers: [{name: c, image: busybox}]}\n");
  EXPECT_TRUE(other_namespace) << other_namespace.error().ToString();
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n"
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"),
            "pod.yaml: document 2 (ConfigMap c): configmap \"default/c\" is already defined by "
            "pod.yaml: document 1 (ConfigMap c)");
}

TEST(YamlParseTest, ErrorsNameTheDocumentAndField) {
  EXPECT_EQ(ErrorOf(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - {name: a, image: busybox}
  - {name: b}
)"),
            "pod.yaml: document 2 (Pod web): spec.containers[1].image: required");
}

TEST(YamlParseTest, SyntaxErrorsNameTheFileAndLine) {
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: Pod\n\tmetadata: {}\n"),
            "pod.yaml: line 3, column 1: illegal tab when looking for indentation");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"web"),
            "pod.yaml: line 4, column 9: unterminated quoted string");
  EXPECT_EQ(ErrorOf("kind: [unclosed\n"),
            "pod.yaml: line 2, column 1: end of sequence flow not found");
  EXPECT_THAT(ErrorOf("\x7f\x45\x4c\x46\x02\x01"), HasSubstr("pod.yaml: line 1, column 1: "));
  EXPECT_EQ(ErrorOf("just a string\n"),
            "pod.yaml: document 1: line 1, column 1: expected a mapping (a Kubernetes object), "
            "got \"just a string\"");
  EXPECT_EQ(ErrorOf("- a\n- b\n"),
            "pod.yaml: document 1: line 1, column 1: expected a mapping (a Kubernetes object), "
            "got a list");
}

TEST(YamlParseTest, EmptyStreamsHaveNoObjects) {
  for (const char* text : {"", "---\n", "# nothing\n", "---\n---\n...\n"}) {
    auto objects = Parse(text);
    ASSERT_TRUE(objects) << text << ": " << objects.error().ToString();
    EXPECT_TRUE(objects->pods.empty());
  }
}

TEST(YamlParseTest, AliasBombsAndHugeInputsAreRejected) {
  // Each container aliases a list of 1000 env vars: 2000 containers would be 2 million reads.
  std::string bomb = "apiVersion: v1\nkind: Pod\nmetadata: {name: bomb}\nspec:\n  x: &env [";
  for (int i = 0; i < 1000; ++i) {
    bomb += (i > 0 ? ", " : "") + std::string("{name: E, value: v}");
  }
  bomb += "]\n  containers:\n";
  for (int i = 0; i < 2000; ++i) {
    bomb += "  - {name: c" + std::to_string(i) + ", image: i, env: *env}\n";
  }
  EXPECT_THAT(ErrorOf(bomb), HasSubstr("more than 1000000 nodes read (aliases expanding?)"));
  EXPECT_EQ(ErrorOf(std::string((8 << 20) + 1, ' ')),
            "pod.yaml: 8388609 bytes, more than the limit of 8388608 bytes");
  EXPECT_EQ(ErrorOf("a: " + std::string(1000, '[')),
            "pod.yaml: line 1, column 68: nested deeper than 64 levels");
}

}  // namespace
}  // namespace comet::kube
