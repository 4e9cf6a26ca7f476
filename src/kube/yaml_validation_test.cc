// The API server's basic checks, one defect at a time: each error names the exact field.
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "kube/yaml_parse.h"

namespace comet::kube {
namespace {

std::string ErrorOf(const std::string& text) {
  auto objects = ParseKubeYaml(text, "pod.yaml", nullptr);
  return objects ? std::string("(parsed)") : objects.error().ToString();
}

// A Pod named web whose spec is `spec` (YAML at indentation 2).
std::string PodWith(const std::string& spec) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n" + spec;
}

// A Pod with one container "c" whose extra fields are `fields` (at indentation 4), and `rest`
// after the containers list (volumes...).
std::string ContainerWith(const std::string& fields, const std::string& rest = "") {
  return PodWith("  containers:\n  - name: c\n    image: busybox\n" + fields + rest);
}

constexpr const char* kPrefix = "pod.yaml: document 1 (Pod web): ";

struct Case {
  std::string yaml;
  std::string error;  // after kPrefix
};

void ExpectErrors(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorOf(c.yaml), kPrefix + c.error) << c.yaml;
  }
}

TEST(YamlValidationTest, DocumentAndMetadata) {
  EXPECT_EQ(ErrorOf("kind: Pod\nmetadata: {name: web}\n"),
            "pod.yaml: document 1 (Pod web): apiVersion: required");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nmetadata: {name: web}\n"),
            "pod.yaml: document 1: kind: required");
  EXPECT_EQ(ErrorOf("apiVersion: v2\nkind: Pod\nmetadata: {name: web}\n"),
            "pod.yaml: document 1 (Pod web): apiVersion: \"v2\": not supported for kind Pod "
            "(want v1)");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: Pod\nspec: {}\n"),
            "pod.yaml: document 1 (Pod): metadata.name: required (or generateName)");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: Pod\nmetadata: {name: Web_1}\n"),
            "pod.yaml: document 1 (Pod Web_1): metadata.name: \"Web_1\": must be a DNS-1123 "
            "subdomain (at most 253 lowercase letters, digits, '-' and '.', starting and ending "
            "with a letter or digit)");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: Pod\nmetadata: {name: " + std::string(254, 'a') + "}\n"),
            "pod.yaml: document 1 (Pod " + std::string(253, 'a') + "...): metadata.name: \"" +
                std::string(80, 'a') +
                "...\": must be a DNS-1123 subdomain (at most 253 lowercase letters, digits, "
                "'-' and '.', starting and ending with a letter or digit)");
  ExpectErrors({
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: Shop}\n",
       "metadata.namespace: \"Shop\": must be a DNS-1123 label (at most 63 lowercase letters, "
       "digits and '-', starting and ending with a letter or digit)"},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {\"a b\": x}}\n",
       "metadata.labels: \"a b\": must be a qualified name (at most 63 letters, digits, '-', '_' "
       "and '.', starting and ending with a letter or digit, with an optional DNS subdomain "
       "prefix and '/')"},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: \"-x\"}}\n",
       "metadata.labels.app: \"-x\": must be a label value (empty, or at most 63 letters, "
       "digits, '-', '_' and '.', starting and ending with a letter or digit)"},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {version: 1.0}}\n",
       "metadata.labels.version: expected a string, got number 1.0 (quote it)"},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n", "spec: required"},
      {PodWith("  containers: []\n"), "spec.containers: required (at least one container)"},
  });
}

TEST(YamlValidationTest, Containers) {
  ExpectErrors({
      {PodWith("  containers:\n  - name: a\n    image: busybox\n  - name: b\n"),
       "spec.containers[1].image: required"},
      {PodWith("  containers:\n  - image: busybox\n"), "spec.containers[0].name: required"},
      {PodWith("  containers:\n  - {name: App, image: busybox}\n"),
       "spec.containers[0].name: \"App\": must be a DNS-1123 label (at most 63 lowercase "
       "letters, digits and '-', starting and ending with a letter or digit)"},
      {PodWith("  initContainers:\n  - {name: a, image: busybox}\n  containers:\n"
               "  - {name: a, image: busybox}\n"),
       "spec.containers[0].name: \"a\": duplicate container name"},
      {ContainerWith("    imagePullPolicy: Sometimes\n"),
       "spec.containers[0].imagePullPolicy: \"Sometimes\": must be one of \"Always\", "
       "\"IfNotPresent\", \"Never\""},
      {PodWith("  containers:\n  - {name: c, image: \"busy box\"}\n"),
       "spec.containers[0].image: must not contain whitespace"},
      {ContainerWith("    command: [sleep, 3600]\n"),
       "spec.containers[0].command[1]: expected a string, got number 3600 (quote it)"},
      {ContainerWith("    command: sleep 3600\n"),
       "spec.containers[0].command: expected a list, got \"sleep 3600\""},
      {ContainerWith("    tty: sometimes\n"),
       "spec.containers[0].tty: expected a boolean, got \"sometimes\""},
      {ContainerWith("    restartPolicy: Always\n"),
       "spec.containers[0].restartPolicy: may only be set on init containers (sidecars)"},
      {PodWith("  initContainers:\n  - name: i\n    image: busybox\n    livenessProbe:\n"
               "      exec: {command: [\"true\"]}\n  containers:\n  - {name: c, image: b}\n"),
       "spec.initContainers[0].livenessProbe: may not be set on init containers (but sidecars: "
       "restartPolicy Always)"},
      {PodWith("  initContainers:\n  - {name: i, image: b, restartPolicy: Never}\n"
               "  containers:\n  - {name: c, image: b}\n"),
       R"(spec.initContainers[0].restartPolicy: "Never": must be one of "Always")"},
  });
}

TEST(YamlValidationTest, Ports) {
  ExpectErrors({
      {ContainerWith("    ports:\n    - containerPort: abc\n"),
       "spec.containers[0].ports[0].containerPort: expected an integer, got \"abc\""},
      {ContainerWith("    ports:\n    - containerPort: \"80\"\n"),
       "spec.containers[0].ports[0].containerPort: expected an integer, got \"80\""},
      {ContainerWith("    ports:\n    - {containerPort: 70000}\n"),
       "spec.containers[0].ports[0].containerPort: 70000: must be between 1 and 65535"},
      {ContainerWith("    ports:\n    - {containerPort: 3000000000}\n"),
       "spec.containers[0].ports[0].containerPort: 3000000000 is out of range [-2147483648, "
       "2147483647]"},
      {ContainerWith("    ports:\n    - {name: http}\n"),
       "spec.containers[0].ports[0].containerPort: required"},
      {ContainerWith("    ports:\n    - {containerPort: 80, hostPort: -1}\n"),
       "spec.containers[0].ports[0].hostPort: -1: must be between 1 and 65535"},
      {ContainerWith("    ports:\n    - {containerPort: 80, protocol: HTTP}\n"),
       "spec.containers[0].ports[0].protocol: \"HTTP\": must be one of \"TCP\", \"UDP\", "
       "\"SCTP\""},
      {ContainerWith("    ports:\n    - {containerPort: 80, name: HTTP_PORT}\n"),
       "spec.containers[0].ports[0].name: \"HTTP_PORT\": must be an IANA service name (at most "
       "15 lowercase letters, digits and '-', with a letter, no \"--\", not starting or ending "
       "with '-')"},
      {ContainerWith("    ports:\n    - {containerPort: 80, name: web}\n"
                     "    - {containerPort: 81, name: web}\n"),
       "spec.containers[0].ports[1].name: \"web\": duplicate port name"},
      {ContainerWith("    ports:\n    - {containerPort: 80, hostIP: localhost}\n"),
       "spec.containers[0].ports[0].hostIP: \"localhost\": must be an IP address"},
      {PodWith("  hostNetwork: true\n  containers:\n  - name: c\n    image: b\n"
               "    ports: [{containerPort: 80, hostPort: 8080}]\n"),
       "spec.containers[0].ports[0].hostPort: must equal containerPort with hostNetwork"},
      {PodWith("  containers:\n  - {name: a, image: b, ports: [{containerPort: 80, hostPort: "
               "80}]}\n  - {name: c, image: b, ports: [{containerPort: 81, hostPort: 80}]}\n"),
       "spec.containers[1].ports[0].hostPort: 80/TCP: taken by another port of the pod"},
  });
}

TEST(YamlValidationTest, Env) {
  ExpectErrors({
      {ContainerWith("    env:\n    - {value: x}\n"), "spec.containers[0].env[0].name: required"},
      {ContainerWith("    env:\n    - {name: \"A=B\"}\n"),
       "spec.containers[0].env[0].name: \"A=B\": must be printable ASCII without '='"},
      {ContainerWith("    env:\n    - {name: PORT, value: 8080}\n"),
       "spec.containers[0].env[0].value: expected a string, got a number (quote it)"},
      {ContainerWith("    env:\n    - name: X\n      valueFrom: {}\n"),
       "spec.containers[0].env[0].valueFrom: must have one of fieldRef, resourceFieldRef, "
       "configMapKeyRef or secretKeyRef"},
      {ContainerWith("    env:\n    - name: X\n      valueFrom:\n"
                     "        fieldRef: {fieldPath: metadata.name}\n"
                     "        secretKeyRef: {name: s, key: k}\n"),
       "spec.containers[0].env[0].valueFrom: must have only one of fieldRef, resourceFieldRef, "
       "configMapKeyRef and secretKeyRef"},
      {ContainerWith("    env:\n    - name: X\n      value: v\n      valueFrom:\n"
                     "        fieldRef: {fieldPath: metadata.name}\n"),
       "spec.containers[0].env[0].valueFrom: may not be set when value is not empty"},
      {ContainerWith("    env:\n    - name: X\n      valueFrom:\n"
                     "        fieldRef: {fieldPath: spec.containers}\n"),
       "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: \"spec.containers\": not a "
       "field an environment variable can read"},
      {ContainerWith("    env:\n    - name: X\n      valueFrom:\n"
                     "        configMapKeyRef: {name: cm}\n"),
       "spec.containers[0].env[0].valueFrom.configMapKeyRef.key: required"},
      {ContainerWith("    env:\n    - name: X\n      valueFrom:\n"
                     "        resourceFieldRef: {resource: limits.gpu}\n"),
       "spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: \"limits.gpu\": not a "
       "resource an environment variable can read"},
      {ContainerWith("    env:\n    - name: X\n      valueFrom:\n"
                     "        resourceFieldRef: {resource: limits.cpu, divisor: 0}\n"),
       "spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: \"0\": must be positive"},
      {ContainerWith("    env:\n    - name: X\n      valueFrom:\n"
                     "        resourceFieldRef: {resource: limits.cpu, containerName: other}\n"),
       "spec.containers[0].env[0].valueFrom.resourceFieldRef.containerName: container \"other\" "
       "not found"},
      {ContainerWith("    envFrom:\n    - prefix: P_\n"),
       "spec.containers[0].envFrom[0]: must have exactly one of configMapRef and secretRef"},
  });
}

TEST(YamlValidationTest, Resources) {
  ExpectErrors({
      {ContainerWith("    resources:\n      limits: {cpu: lots}\n"),
       "spec.containers[0].resources.limits.cpu: \"lots\": not a valid quantity"},
      {ContainerWith("    resources:\n      limits: {memory: -1Gi}\n"),
       "spec.containers[0].resources.limits.memory: \"-1Gi\": must not be negative"},
      {ContainerWith("    resources:\n      requests: {memory: 1Gi}\n"
                     "      limits: {memory: 512Mi}\n"),
       "spec.containers[0].resources.requests.memory: \"1Gi\": must be less than or equal to the "
       "memory limit \"512Mi\""},
      {ContainerWith("    resources:\n      requests: {cpu: 2}\n      limits: {cpu: 1500m}\n"),
       "spec.containers[0].resources.requests.cpu: \"2\": must be less than or equal to the cpu "
       "limit \"1500m\""},
      {ContainerWith("    resources:\n      limits: {gpu: 1}\n"),
       "spec.containers[0].resources.limits.gpu: must be cpu, memory, ephemeral-storage, "
       "hugepages-<size> or a resource with a domain (nvidia.com/gpu)"},
      {ContainerWith("    resources:\n      limits: {memory: [1]}\n"),
       "spec.containers[0].resources.limits.memory: expected a quantity, got a list"},
  });
}

TEST(YamlValidationTest, Probes) {
  ExpectErrors({
      {ContainerWith("    livenessProbe: {periodSeconds: 5}\n"),
       "spec.containers[0].livenessProbe: must have one of exec, httpGet or tcpSocket"},
      {ContainerWith("    livenessProbe:\n      exec: {command: [\"true\"]}\n"
                     "      tcpSocket: {port: 80}\n"),
       "spec.containers[0].livenessProbe: must have only one handler"},
      {ContainerWith("    readinessProbe:\n      httpGet: {path: /}\n"),
       "spec.containers[0].readinessProbe.httpGet.port: required"},
      {ContainerWith("    readinessProbe:\n      httpGet: {port: 0}\n"),
       "spec.containers[0].readinessProbe.httpGet.port: 0: must be between 1 and 65535"},
      {ContainerWith("    readinessProbe:\n      tcpSocket: {port: Web}\n"),
       "spec.containers[0].readinessProbe.tcpSocket.port: \"Web\": must be an IANA service name "
       "(at most 15 lowercase letters, digits and '-', with a letter, no \"--\", not starting or "
       "ending with '-')"},
      {ContainerWith("    readinessProbe:\n      httpGet: {port: 80, scheme: FTP}\n"),
       "spec.containers[0].readinessProbe.httpGet.scheme: \"FTP\": must be one of \"HTTP\", "
       "\"HTTPS\""},
      {ContainerWith("    livenessProbe:\n      exec: {command: [\"true\"]}\n"
                     "      successThreshold: 2\n"),
       "spec.containers[0].livenessProbe.successThreshold: 2: must be 1 for liveness and startup "
       "probes"},
      {ContainerWith("    readinessProbe:\n      exec: {command: [\"true\"]}\n"
                     "      periodSeconds: -1\n"),
       "spec.containers[0].readinessProbe.periodSeconds: -1: must not be negative"},
      {ContainerWith("    readinessProbe:\n      exec: {}\n"),
       "spec.containers[0].readinessProbe.exec.command: required"},
      {ContainerWith("    lifecycle:\n      preStop: {}\n"),
       "spec.containers[0].lifecycle.preStop: must have one of exec, httpGet, tcpSocket or "
       "sleep"},
      {ContainerWith("    lifecycle:\n      postStart: {sleep: {seconds: -5}}\n"),
       "spec.containers[0].lifecycle.postStart.sleep.seconds: must not be negative"},
  });
}

TEST(YamlValidationTest, VolumesAndMounts) {
  ExpectErrors({
      {ContainerWith("", "  volumes:\n  - name: v\n    hostPath: {path: var/log}\n"),
       "spec.volumes[0].hostPath.path: must be absolute"},
      {ContainerWith("", "  volumes:\n  - name: v\n    hostPath: {path: /var/../etc}\n"),
       "spec.volumes[0].hostPath.path: must not contain \"..\""},
      {ContainerWith("", "  volumes:\n  - name: v\n    hostPath: {path: /x, type: Dir}\n"),
       "spec.volumes[0].hostPath.type: \"Dir\": must be one of \"\", \"DirectoryOrCreate\", "
       "\"Directory\", \"FileOrCreate\", \"File\", \"Socket\", \"CharDevice\", \"BlockDevice\""},
      {ContainerWith("",
                     "  volumes:\n  - {name: a, emptyDir: {}}\n  - {name: b, emptyDir: {}}\n"
                     "  - name: c\n    persistentVolumeClaim: {claimName: data}\n"),
       "spec.volumes[2]: volume type persistentVolumeClaim is not supported"},
      {ContainerWith("", "  volumes:\n  - name: nf\n    nfs: {server: s, path: /}\n"),
       "spec.volumes[0]: volume type nfs is not supported"},
      {ContainerWith("", "  volumes:\n  - name: p\n    projected: {sources: []}\n"),
       "spec.volumes[0]: volume type projected is not supported"},
      {ContainerWith("", "  volumes:\n  - name: d\n    downwardAPI: {items: []}\n"),
       "spec.volumes[0]: volume type downwardAPI is not supported"},
      {ContainerWith("", "  volumes:\n  - name: v\n"),
       "spec.volumes[0]: must have a volume type: hostPath, emptyDir, configMap or secret"},
      {ContainerWith("", "  volumes:\n  - name: v\n    emptyDir: {}\n    hostPath: {path: /x}\n"),
       "spec.volumes[0]: must have only one volume type"},
      {ContainerWith("", "  volumes:\n  - {name: v, emptyDir: {}}\n  - {name: v, emptyDir: {}}\n"),
       "spec.volumes[1].name: \"v\": duplicate volume name"},
      {ContainerWith("", "  volumes:\n  - {name: V, emptyDir: {}}\n"),
       "spec.volumes[0].name: \"V\": must be a DNS-1123 label (at most 63 lowercase letters, "
       "digits and '-', starting and ending with a letter or digit)"},
      {ContainerWith("", "  volumes:\n  - {name: v, emptyDir: {medium: Disk}}\n"),
       R"(spec.volumes[0].emptyDir.medium: "Disk": must be one of "", "Memory")"},
      {ContainerWith("", "  volumes:\n  - {name: v, emptyDir: {sizeLimit: huge}}\n"),
       "spec.volumes[0].emptyDir.sizeLimit: \"huge\": not a valid quantity"},
      {ContainerWith("", "  volumes:\n  - {name: v, configMap: {name: c, defaultMode: 01777}}\n"),
       "spec.volumes[0].configMap.defaultMode: 01777: must be a file mode between 0 and 0777"},
      {ContainerWith("", "  volumes:\n  - {name: v, configMap: {items: []}}\n"),
       "spec.volumes[0].configMap.name: required"},
      {ContainerWith("",
                     "  volumes:\n  - name: v\n    secret:\n      secretName: s\n"
                     "      items: [{key: k, path: ../escape}]\n"),
       R"(spec.volumes[0].secret.items[0].path: "../escape": must not contain "..")"},
      {ContainerWith("    volumeMounts:\n    - {name: missing, mountPath: /m}\n"),
       "spec.containers[0].volumeMounts[0].name: volume \"missing\" not found"},
      {ContainerWith("    volumeMounts:\n    - {name: v, mountPath: m}\n",
                     "  volumes:\n  - {name: v, emptyDir: {}}\n"),
       "spec.containers[0].volumeMounts[0].mountPath: must be absolute"},
      {ContainerWith("    volumeMounts:\n    - {name: v, mountPath: /m, subPath: a/../../b}\n",
                     "  volumes:\n  - {name: v, emptyDir: {}}\n"),
       R"(spec.containers[0].volumeMounts[0].subPath: "a/../../b": must not contain "..")"},
      {ContainerWith("    volumeMounts:\n    - {name: v, mountPath: /m, subPath: /abs}\n",
                     "  volumes:\n  - {name: v, emptyDir: {}}\n"),
       "spec.containers[0].volumeMounts[0].subPath: \"/abs\": must be a relative path"},
      {ContainerWith("    volumeMounts:\n    - {name: v, mountPath: /m}\n"
                     "    - {name: v, mountPath: /m}\n",
                     "  volumes:\n  - {name: v, emptyDir: {}}\n"),
       "spec.containers[0].volumeMounts[1].mountPath: \"/m\": mounted twice"},
  });
}

TEST(YamlValidationTest, PodFields) {
  ExpectErrors({
      {PodWith("  restartPolicy: Sometimes\n  containers: [{name: c, image: b}]\n"),
       R"(spec.restartPolicy: "Sometimes": must be one of "Always", "OnFailure", "Never")"},
      {PodWith("  dnsPolicy: Cluster\n  containers: [{name: c, image: b}]\n"),
       "spec.dnsPolicy: \"Cluster\": must be one of \"ClusterFirst\", "
       "\"ClusterFirstWithHostNet\", \"Default\", \"None\""},
      {PodWith("  dnsPolicy: None\n  containers: [{name: c, image: b}]\n"),
       "spec.dnsConfig: nameservers required when dnsPolicy is None"},
      {PodWith("  dnsConfig: {nameservers: [dns.local]}\n  containers: [{name: c, image: b}]\n"),
       "spec.dnsConfig.nameservers[0]: \"dns.local\": must be an IP address"},
      {PodWith("  terminationGracePeriodSeconds: -1\n  containers: [{name: c, image: b}]\n"),
       "spec.terminationGracePeriodSeconds: must not be negative"},
      {PodWith("  terminationGracePeriodSeconds: thirty\n  containers: [{name: c, image: b}]\n"),
       "spec.terminationGracePeriodSeconds: expected an integer, got \"thirty\""},
      {PodWith("  hostPID: true\n  shareProcessNamespace: true\n"
               "  containers: [{name: c, image: b}]\n"),
       "spec.shareProcessNamespace: may not be true with hostPID"},
      {PodWith("  hostname: Web.Local\n  containers: [{name: c, image: b}]\n"),
       "spec.hostname: \"Web.Local\": must be a DNS-1123 label (at most 63 lowercase letters, "
       "digits and '-', starting and ending with a letter or digit)"},
      {PodWith("  hostAliases: [{ip: nowhere, hostnames: [a]}]\n"
               "  containers: [{name: c, image: b}]\n"),
       "spec.hostAliases[0].ip: \"nowhere\": must be an IP address"},
      {PodWith("  securityContext: {runAsUser: -1}\n  containers: [{name: c, image: b}]\n"),
       "spec.securityContext.runAsUser: -1: must be between 0 and 2147483647"},
      {PodWith("  containers:\n  - name: c\n    image: b\n    securityContext:\n"
               "      privileged: true\n      allowPrivilegeEscalation: false\n"),
       "spec.containers[0].securityContext: allowPrivilegeEscalation false and privileged true "
       "cannot go together"},
      {PodWith("  containers:\n  - name: c\n    image: b\n    securityContext:\n"
               "      seccompProfile: {type: Localhost}\n"),
       "spec.containers[0].securityContext.seccompProfile.localhostProfile: required when type "
       "is Localhost"},
      {PodWith("  containers:\n  - name: c\n    image: b\n    securityContext:\n"
               "      seccompProfile: {type: Strict}\n"),
       "spec.containers[0].securityContext.seccompProfile.type: \"Strict\": must be one of "
       "\"RuntimeDefault\", \"Unconfined\", \"Localhost\""},
      {PodWith("  containers: {name: c}\n"), "spec.containers: expected a list, got a mapping"},
      {PodWith("  containers: [c]\n"), "spec.containers[0]: expected a mapping, got \"c\""},
  });
}

TEST(YamlValidationTest, ConfigMapsAndSecrets) {
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {pw: \"c3Ny*\"}\n"),
            "pod.yaml: document 1 (Secret s): data.pw: base64: byte 4: not a base64 character");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
                    "binaryData: {b: \"QQ\"}\n"),
            "pod.yaml: document 1 (ConfigMap c): binaryData.b: base64: truncated: 2 characters "
            "left over (want a multiple of 4)");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
                    "data: {k: a}\nbinaryData: {k: QQ==}\n"),
            "pod.yaml: document 1 (ConfigMap c): binaryData.k: also set in data");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {\"a/b\": x}\n"),
            "pod.yaml: document 1 (ConfigMap c): data: \"a/b\": must be a valid key (at most 253 "
            "letters, digits, '-', '_' and '.', not \".\", \"..\" or starting with \"..\")");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {port: 80}\n"),
            "pod.yaml: document 1 (ConfigMap c): data.port: expected a string, got number 80 "
            "(quote it)");
  // Secret values are never shown.
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
                    "stringData: {pin: 12345}\n"),
            "pod.yaml: document 1 (Secret s): stringData.pin: expected a string, got a number "
            "(quote it)");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"),
            "pod.yaml: document 1 (ConfigMap): metadata.name: required (or generateName)");
}

}  // namespace
}  // namespace comet::kube
