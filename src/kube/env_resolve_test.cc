// Tests of the env resolution (env_resolve.cc), the $(VAR) expansion (expand.cc) and the
// downward API (downward_api.cc): the kubelet's order and semantics.
#include "kube/env_resolve.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kube/downward_api.h"
#include "kube/expand.h"

namespace comet::kube {
namespace {

using Strings = std::vector<std::string>;

std::string Expand(std::string_view input) {
  const std::map<std::string, std::string, std::less<>> vars = {
      {"A", "a"}, {"B", "bee"}, {"EMPTY", ""}};
  return ExpandVars(input, vars).value_or("<too long>");
}

TEST(ExpandVarsTest, KubeletRules) {
  EXPECT_EQ(Expand("plain"), "plain");
  EXPECT_EQ(Expand("$(A)"), "a");
  EXPECT_EQ(Expand("x$(A)y$(B)z"), "xaybeez");
  EXPECT_EQ(Expand("$(EMPTY)-"), "-");
  EXPECT_EQ(Expand("$(UNKNOWN)"), "$(UNKNOWN)");  // kept as written
  EXPECT_EQ(Expand("$$(A)"), "$(A)");             // escaped
  EXPECT_EQ(Expand("$$$(A)"), "$a");
  EXPECT_EQ(Expand("$$"), "$");
  EXPECT_EQ(Expand("a$"), "a$");            // a trailing '$'
  EXPECT_EQ(Expand("$A"), "$A");            // no parenthesis: not a reference
  EXPECT_EQ(Expand("$(A"), "$(A");          // unclosed
  EXPECT_EQ(Expand("$($(A))"), "$($(A))");  // the name is "$(A", unknown
  EXPECT_EQ(Expand("$()"), "$()");
}

class EnvResolveTest : public ::testing::Test {
 protected:
  EnvResolveTest() {
    meta_.name = "web";
    meta_.namespace_ = "prod";
    meta_.uid = "0b5cbd1a-1111-4222-8333-444455556666";
    meta_.labels = {{"app", "shop"}};
    meta_.annotations = {{"team", "blue"}};
    spec_.service_account_name = "robot";
    spec_.node_name = "ignored-when-the-node-says";
    node_.node_name = "node-1";
    node_.host_ip = "192.0.2.10";
    node_.cpu_millis = 4000;
    node_.memory_bytes = 8ULL << 30;
    node_.ephemeral_storage_bytes = 100LL << 30;

    ConfigMap config;
    config.metadata.name = "cfg";
    config.metadata.namespace_ = "prod";
    config.data = {{"LEVEL", "debug"}, {"1BAD", "x"}, {"PORT", "8080"}};
    objects_.config_maps.push_back(config);
    ConfigMap elsewhere;
    elsewhere.metadata.name = "other-ns";
    elsewhere.metadata.namespace_ = "default";
    elsewhere.data = {{"K", "v"}};
    objects_.config_maps.push_back(elsewhere);
    Secret secret;
    secret.metadata.name = "creds";
    secret.metadata.namespace_ = "prod";
    secret.data = {{"PASSWORD", "hunter2"}, {"TOKEN", "t0k"}};
    objects_.secrets.push_back(secret);

    container_.name = "app";
    container_.image = "busybox";
  }

  EnvContext Context() {
    spec_.containers = {container_};
    return EnvContext{.meta = &meta_, .spec = &spec_, .objects = &objects_, .node = &node_};
  }

  Result<Strings> Resolve() {
    warnings_.clear();
    return ResolveEnv(Context(), container_, "spec.containers[0]", &warnings_);
  }

  static EnvVar Value(std::string name, std::string value) {
    return EnvVar{.name = std::move(name), .value = std::move(value), .value_from = {}};
  }
  static EnvVar FromField(std::string name, std::string path) {
    EnvVarSource source;
    source.field_ref = ObjectFieldSelector{std::move(path)};
    return EnvVar{.name = std::move(name), .value = "", .value_from = source};
  }
  static EnvVar FromResource(std::string name, std::string resource, std::string divisor = "",
                             std::string container = "") {
    EnvVarSource source;
    source.resource_field_ref = ResourceFieldSelector{.container_name = std::move(container),
                                                      .resource = std::move(resource),
                                                      .divisor = std::move(divisor)};
    return EnvVar{.name = std::move(name), .value = "", .value_from = source};
  }
  static EnvVar FromConfigMap(std::string name, std::string map, std::string key,
                              bool optional = false) {
    EnvVarSource source;
    source.config_map_key_ref =
        KeySelector{.name = std::move(map), .key = std::move(key), .optional = optional};
    return EnvVar{.name = std::move(name), .value = "", .value_from = source};
  }
  static EnvVar FromSecret(std::string name, std::string secret, std::string key,
                           bool optional = false) {
    EnvVarSource source;
    source.secret_key_ref =
        KeySelector{.name = std::move(secret), .key = std::move(key), .optional = optional};
    return EnvVar{.name = std::move(name), .value = "", .value_from = source};
  }

  ObjectMeta meta_;
  PodSpec spec_;
  Objects objects_;
  NodeInfo node_;
  Container container_;
  Strings warnings_;
};

TEST_F(EnvResolveTest, EnvFromFirstThenEnvInOrder) {
  EnvFromSource from_map;
  from_map.prefix = "CFG_";
  from_map.config_map_ref = KeySelector{.name = "cfg", .key = "", .optional = false};
  EnvFromSource from_secret;
  from_secret.secret_ref = KeySelector{.name = "creds", .key = "", .optional = false};
  container_.env_from = {from_map, from_secret};
  container_.env = {Value("Z", "last"), Value("CFG_LEVEL", "info"), Value("A", "first")};
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  // CFG_LEVEL keeps its place from envFrom, with env's value.
  EXPECT_EQ(*env, (Strings{"CFG_1BAD=x", "CFG_LEVEL=info", "CFG_PORT=8080", "PASSWORD=hunter2",
                           "TOKEN=t0k", "Z=last", "A=first"}));
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(EnvResolveTest, EnvFromSkipsInvalidKeysWithAWarning) {
  EnvFromSource from_map;
  from_map.config_map_ref = KeySelector{.name = "cfg", .key = "", .optional = false};
  container_.env_from = {from_map};
  objects_.config_maps[0].data["BAD=KEY"] = "x";
  objects_.config_maps[0].data["NUL"] = std::string("a\0b", 3);
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  // "1BAD" passes the API server's relaxed rule (printable ASCII without '=').
  EXPECT_EQ(*env, (Strings{"1BAD=x", "LEVEL=debug", "PORT=8080"}));
  EXPECT_EQ(warnings_, (Strings{"spec.containers[0].envFrom[0]: configmap \"cfg\": keys skipped, "
                                "not valid as environment variables: BAD=KEY, NUL"}));
}

TEST_F(EnvResolveTest, EnvFromMissingObjects) {
  EnvFromSource missing;
  missing.config_map_ref = KeySelector{.name = "nope", .key = "", .optional = true};
  container_.env_from = {missing};
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_TRUE(env->empty());

  container_.env_from[0].config_map_ref->optional = false;
  env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "spec.containers[0].envFrom[0].configMapRef: configmap "
            "\"nope\" not found in namespace \"prod\"");

  // Objects of another namespace are not the pod's.
  container_.env_from[0].config_map_ref->name = "other-ns";
  env = Resolve();
  ASSERT_FALSE(env);

  EnvFromSource secret;
  secret.secret_ref = KeySelector{.name = "nope", .key = "", .optional = false};
  container_.env_from = {secret};
  env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "spec.containers[0].envFrom[0].secretRef: secret \"nope\" "
            "not found in namespace \"prod\"");
}

TEST_F(EnvResolveTest, ValuesExpandAgainstEarlierEntries) {
  container_.env = {
      Value("HOST", "db"),        Value("URL", "postgres://$(HOST):$(PORT)/x"),  // PORT comes later
      Value("PORT", "5432"),      Value("ESCAPED", "$$(HOST)"),
      Value("SELF", "$(SELF)+1"), Value("HOST", "$(HOST)-2")};
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(*env, (Strings{"HOST=db-2", "URL=postgres://db:$(PORT)/x", "PORT=5432",
                           "ESCAPED=$(HOST)", "SELF=$(SELF)+1"}));
}

// Each entry doubling the one before: bounded per value instead of allocating 2^40 bytes.
TEST_F(EnvResolveTest, ExpansionIsBounded) {
  container_.env = {Value("V0", std::string(1024, 'x'))};
  for (int i = 1; i <= 40; ++i) {
    container_.env.push_back(
        Value("V" + std::to_string(i), fmt::format("$(V{})$(V{})", i - 1, i - 1)));
  }
  auto env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_NE(env.error().ToString().find("env[8].value: expands to more than"), std::string::npos)
      << env.error().ToString();
  EXPECT_FALSE(ExpandArgs({"$(A)$(A)"}, {"A=" + std::string(kMaxExpandedBytes / 2 + 1, 'a')},
                          "spec.containers[0].args"));
}

TEST_F(EnvResolveTest, ValueFromIsNotExpanded) {
  ConfigMap& config = objects_.config_maps[0];
  config.data["TEMPLATE"] = "$(LEVEL)";
  container_.env = {Value("LEVEL", "x"), FromConfigMap("T", "cfg", "TEMPLATE")};
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(*env, (Strings{"LEVEL=x", "T=$(LEVEL)"}));
}

TEST_F(EnvResolveTest, FieldRefs) {
  container_.env = {FromField("NAME", "metadata.name"),
                    FromField("NS", "metadata.namespace"),
                    FromField("UID", "metadata.uid"),
                    FromField("APP", "metadata.labels['app']"),
                    FromField("NOLABEL", "metadata.labels['missing']"),
                    FromField("TEAM", "metadata.annotations['team']"),
                    FromField("NODE", "spec.nodeName"),
                    FromField("SA", "spec.serviceAccountName"),
                    FromField("HOST_IP", "status.hostIP"),
                    FromField("HOST_IPS", "status.hostIPs")};
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(*env, (Strings{"NAME=web", "NS=prod", "UID=0b5cbd1a-1111-4222-8333-444455556666",
                           "APP=shop", "NOLABEL=", "TEAM=blue", "NODE=node-1", "SA=robot",
                           "HOST_IP=192.0.2.10", "HOST_IPS=192.0.2.10"}));
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(EnvResolveTest, PodIpIsUnknownBeforeStart) {
  container_.env = {Value("A", "1"), FromField("POD_IP", "status.podIP"),
                    FromField("POD_IPS", "status.podIPs")};
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(*env, (Strings{"A=1", "POD_IP=", "POD_IPS="}));
  EXPECT_EQ(warnings_,
            (Strings{"spec.containers[0].env[1] (status.podIP): the pod's IP is not known before "
                     "the pod starts; set to \"\"",
                     "spec.containers[0].env[2] (status.podIPs): the pod's IP is not known "
                     "before the pod starts; set to \"\""}));
}

TEST_F(EnvResolveTest, UnsupportedFieldRef) {
  container_.env = {FromField("X", "metadata.labels")};
  auto env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: "
            "\"metadata.labels\": not supported for env");
}

TEST_F(EnvResolveTest, ResourceFieldRefs) {
  container_.resources.limits = {{"cpu", "1500m"}, {"memory", "256Mi"}};
  container_.resources.requests = {{"cpu", "250m"}};
  container_.env = {FromResource("CPU_LIMIT", "limits.cpu"),               // 1.5 -> 2
                    FromResource("CPU_LIMIT_M", "limits.cpu", "1m"),       // 1500
                    FromResource("CPU_REQ", "requests.cpu"),               // 0.25 -> 1
                    FromResource("MEM_LIMIT", "limits.memory"),            // bytes
                    FromResource("MEM_LIMIT_MI", "limits.memory", "1Mi"),  // 256
                    FromResource("MEM_REQ_MI", "requests.memory", "1Mi"),  // defaulted: 256
                    FromResource("MEM_LIMIT_G", "limits.memory", "1G"),    // 0.27 -> 1
                    FromResource("EPH", "limits.ephemeral-storage", "1Gi"),
                    FromResource("EPH_REQ", "requests.ephemeral-storage")};
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(*env, (Strings{"CPU_LIMIT=2", "CPU_LIMIT_M=1500", "CPU_REQ=1", "MEM_LIMIT=268435456",
                           "MEM_LIMIT_MI=256", "MEM_REQ_MI=256", "MEM_LIMIT_G=1", "EPH=100",
                           "EPH_REQ=0"}));
}

TEST_F(EnvResolveTest, ResourceFieldRefLimitsDefaultToTheNode) {
  container_.env = {FromResource("CPU", "limits.cpu"), FromResource("MEM", "limits.memory", "1Gi"),
                    FromResource("CPU_REQ", "requests.cpu", "1m")};
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(*env, (Strings{"CPU=4", "MEM=8", "CPU_REQ=0"}));
}

TEST_F(EnvResolveTest, ResourceFieldRefOfAnotherContainer) {
  Container sidecar;
  sidecar.name = "side";
  sidecar.resources.limits = {{"memory", "64Mi"}};
  spec_.init_containers = {sidecar};
  container_.env = {FromResource("SIDE_MEM", "limits.memory", "1Mi", "side")};
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(*env, (Strings{"SIDE_MEM=64"}));

  container_.env = {FromResource("X", "limits.memory", "", "ghost")};
  env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "spec.containers[0].env[0].valueFrom.resourceFieldRef.containerName: no container "
            "named \"ghost\" in the pod");
}

TEST_F(EnvResolveTest, ResourceFieldRefErrors) {
  container_.env = {FromResource("X", "limits.hugepages-2Mi")};
  auto env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "spec.containers[0].env[0].valueFrom.resourceFieldRef."
            "resource: \"limits.hugepages-2Mi\": not supported");

  container_.env = {FromResource("X", "limits.cpu", "0")};
  env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "spec.containers[0].env[0].valueFrom.resourceFieldRef."
            "divisor: \"0\": must be positive");
}

TEST_F(EnvResolveTest, KeyRefs) {
  container_.env = {FromConfigMap("LEVEL", "cfg", "LEVEL"), FromSecret("PW", "creds", "PASSWORD"),
                    FromConfigMap("OPT", "cfg", "missing", true),
                    FromSecret("OPT2", "nope", "x", true), Value("AFTER", "$(PW)")};
  auto env = Resolve();
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(*env, (Strings{"LEVEL=debug", "PW=hunter2", "AFTER=hunter2"}));
}

TEST_F(EnvResolveTest, KeyRefErrorsNameTheFieldNotTheSecret) {
  container_.env = {Value("A", "1"), FromConfigMap("X", "nope", "k")};
  auto env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "spec.containers[0].env[1].valueFrom.configMapKeyRef: "
            "configmap \"nope\" not found in namespace \"prod\"");

  container_.env = {FromConfigMap("X", "cfg", "nokey")};
  env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "spec.containers[0].env[0].valueFrom.configMapKeyRef: key "
            "\"nokey\" not found in configmap \"cfg\"");

  container_.env = {FromSecret("X", "creds", "nokey")};
  env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "spec.containers[0].env[0].valueFrom.secretKeyRef: key "
            "\"nokey\" not found in secret \"creds\"");
  EXPECT_EQ(env.error().message().find("hunter2"), std::string::npos);

  container_.env = {FromSecret("X", "nope", "k")};
  env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "spec.containers[0].env[0].valueFrom.secretKeyRef: secret "
            "\"nope\" not found in namespace \"prod\"");
}

TEST_F(EnvResolveTest, InvalidNames) {
  container_.env = {Value("A=B", "1")};
  auto env = Resolve();
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message().rfind("spec.containers[0].env[0].name: ", 0), 0u)
      << env.error().message();
}

TEST(ExpandArgsTest, AgainstTheFinalEnv) {
  const Strings env = {"GREETING=hello", "WHO=world", "EMPTY="};
  EXPECT_EQ(
      ExpandArgs({"echo", "$(GREETING) $(WHO)", "$$(WHO)", "$(NOPE)", "[$(EMPTY)]"}, env, "args")
          .value_or(Strings{}),
      (Strings{"echo", "hello world", "$(WHO)", "$(NOPE)", "[]"}));
}

}  // namespace
}  // namespace comet::kube
