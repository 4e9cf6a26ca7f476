// Tests of the appc PodManifest / ImageManifest JSON. Every output is decoded and checked against
// the rules appc's Go schema applies when the kubelet's rkt runtime unmarshals it (CheckPod,
// CheckImage), then field by field.
#include "api/appc_manifest.h"

#include <algorithm>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace comet::api {
namespace {

using Json = nlohmann::json;

bool AcNameOk(const std::string& name) {
  if (name.empty() || name.front() == '-' || name.back() == '-') {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    // appc's regexp also refuses "--"; we squeeze them.
    if (!ok || (c == '-' && i > 0 && name[i - 1] == '-')) {
      return false;
    }
  }
  return true;
}

bool AcIdSeparator(char c) {
  return c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

bool AcIdOk(const std::string& name) {
  if (name.empty() || AcIdSeparator(name.front()) || AcIdSeparator(name.back())) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || AcIdSeparator(c);
  });
}

bool EnvNameOk(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

void CheckNameValues(const Json& list, const char* what, bool labels) {
  ASSERT_TRUE(list.is_array()) << what;
  std::set<std::string> seen;
  for (const Json& item : list) {
    ASSERT_TRUE(item.at("name").is_string()) << what;
    ASSERT_TRUE(item.at("value").is_string()) << what;
    const std::string name = item["name"];
    EXPECT_TRUE(AcIdOk(name)) << what << ": " << name;
    EXPECT_TRUE(seen.insert(name).second) << what << ": duplicate " << name;
    if (labels) {
      EXPECT_NE(name, "name");
    }
    if (name == "created") {
      const std::string value = item["value"];
      EXPECT_EQ(value.size() > 10 ? value[10] : ' ', 'T') << value;
    }
  }
}

void CheckIsolators(const Json& isolators) {
  static const std::set<std::string> kKnown = {"resource/cpu",
                                               "resource/memory",
                                               "os/linux/cpu-shares",
                                               "os/linux/oom-score-adj",
                                               "os/linux/capabilities-retain-set",
                                               "os/linux/capabilities-remove-set"};
  ASSERT_TRUE(isolators.is_array());
  for (const Json& isolator : isolators) {
    const std::string name = isolator.at("name");
    EXPECT_TRUE(kKnown.contains(name)) << name;  // unknown ones make the schema fail
    const Json& value = isolator.at("value");
    if (name.starts_with("resource/")) {
      EXPECT_TRUE(value.at("limit").is_string());
    } else if (name.starts_with("os/linux/capabilities")) {
      EXPECT_FALSE(value.at("set").empty());
    } else {
      EXPECT_TRUE(value.is_number_integer());
    }
  }
}

// What appc's types.App checks.
void CheckApp(const Json& app) {
  ASSERT_TRUE(app.is_object());
  if (app.contains("exec")) {  // appc: optional, but exec[0] absolute when given
    ASSERT_TRUE(app.at("exec").is_array());
    ASSERT_FALSE(app["exec"].empty());
    EXPECT_EQ(app["exec"][0].get<std::string>().front(), '/');
    for (const Json& arg : app["exec"]) {
      EXPECT_TRUE(arg.is_string());
    }
  }
  EXPECT_FALSE(app.at("user").get<std::string>().empty());
  EXPECT_FALSE(app.at("group").get<std::string>().empty());
  if (app.contains("workingDirectory")) {
    EXPECT_TRUE(app["workingDirectory"].get<std::string>().starts_with('/'));
  }
  std::set<std::string> env;
  for (const Json& var : app.value("environment", Json::array())) {
    const std::string name = var.at("name");
    EXPECT_TRUE(EnvNameOk(name)) << name;
    EXPECT_TRUE(env.insert(name).second) << "duplicate env " << name;
    EXPECT_TRUE(var.at("value").is_string());
  }
  for (const Json& point : app.value("mountPoints", Json::array())) {
    EXPECT_TRUE(AcNameOk(point.at("name"))) << point.dump();
    EXPECT_FALSE(point.at("path").get<std::string>().empty());
  }
  for (const Json& port : app.value("ports", Json::array())) {
    EXPECT_TRUE(AcNameOk(port.at("name"))) << port.dump();
    const uint64_t number = port.at("port");
    EXPECT_GE(number, 1u);
    EXPECT_LE(number + port.at("count").get<uint64_t>(), 65536u);
  }
  CheckIsolators(app.value("isolators", Json::array()));
  if (app.contains("userAnnotations")) {
    for (const auto& [key, value] : app["userAnnotations"].items()) {
      EXPECT_TRUE(value.is_string()) << key;
    }
  }
}

// Parses `text` (which fails on bytes that are not UTF-8) and checks what appc's
// schema.PodManifest checks on unmarshal, and the spec's required fields.
Json CheckPod(const std::string& text) {
  Json pod = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(pod.is_discarded()) << text.substr(0, 200);
  if (pod.is_discarded()) {
    return pod;
  }
  EXPECT_EQ(pod.at("acKind"), "PodManifest");
  EXPECT_EQ(pod.at("acVersion"), "0.8.11");
  EXPECT_TRUE(pod.at("isolators").is_array());
  EXPECT_TRUE(pod.at("ports").is_array());
  CheckNameValues(pod.at("annotations"), "pod annotations", false);
  std::set<std::string> volumes;
  for (const Json& volume : pod.at("volumes")) {
    const std::string name = volume.at("name");
    EXPECT_TRUE(AcNameOk(name)) << name;
    EXPECT_TRUE(volumes.insert(name).second) << "duplicate volume " << name;
    const std::string kind = volume.at("kind");
    if (kind == "host") {
      EXPECT_TRUE(volume.at("source").get<std::string>().starts_with('/'));
      EXPECT_FALSE(volume.contains("mode") || volume.contains("uid") || volume.contains("gid"));
    } else {
      EXPECT_EQ(kind, "empty");
      EXPECT_FALSE(volume.contains("source"));
    }
  }
  std::set<std::string> apps;
  for (const Json& app : pod.at("apps")) {
    const std::string name = app.at("name");
    EXPECT_TRUE(AcNameOk(name)) << name;
    EXPECT_TRUE(apps.insert(name).second) << "duplicate app " << name;
    const Json& image = app.at("image");
    if (image.contains("id")) {
      EXPECT_TRUE(image["id"].get<std::string>().starts_with("sha512-"));  // types.Hash
    }
    if (image.contains("name")) {
      EXPECT_TRUE(AcIdOk(image["name"])) << image.dump();
    }
    CheckNameValues(image.value("labels", Json::array()), "image labels", true);
    CheckApp(app.at("app"));
    for (const Json& mount : app.value("mounts", Json::array())) {
      EXPECT_TRUE(volumes.contains(mount.at("volume"))) << mount.dump();
      EXPECT_FALSE(mount.at("path").get<std::string>().empty());
    }
    CheckNameValues(app.value("annotations", Json::array()), "app annotations", false);
  }
  return pod;
}

Json CheckImage(const std::string& text) {
  Json image = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(image.is_discarded()) << text.substr(0, 200);
  if (image.is_discarded()) {
    return image;
  }
  EXPECT_EQ(image.at("acKind"), "ImageManifest");
  EXPECT_EQ(image.at("acVersion"), "0.8.11");
  EXPECT_TRUE(AcIdOk(image.at("name"))) << image["name"];
  CheckNameValues(image.at("labels"), "labels", true);
  std::string os;
  for (const Json& label : image["labels"]) {
    if (label["name"] == "os") {
      os = label["value"];
      EXPECT_TRUE(os == "linux" || os == "freebsd" || os == "darwin") << os;
    }
  }
  CheckApp(image.at("app"));
  CheckNameValues(image.at("annotations"), "annotations", false);
  return image;
}

// The value of `name` in a [{name, value}] list, or "<none>".
std::string Get(const Json& list, const std::string& name) {
  for (const Json& item : list) {
    if (item["name"] == name) {
      return item["value"];
    }
  }
  return "<none>";
}

pod::PodManifest KubeletPod() {
  pod::PodManifest manifest;
  manifest.uuid = "0f7e5f4c-1111-4222-8333-444455556666";
  manifest.annotations = {
      {"rkt.kubernetes.io/managed-by-kubelet", "true"},
      {"io.kubernetes.pod.uid", "d3b07384-d113-4ec4-9a2b-5c7e2b5e6a70"},
      {"io.kubernetes.pod.name", "web-1"},
      {"io.kubernetes.pod.namespace", "default"},
      {"io.kubernetes.container.name", "POD"},
      {"rkt.kubernetes.io/restart-count", "2"},
      {"Team Name", "Payments"},  // not an AC Identifier
      {"created", "yesterday"},   // the schema wants RFC 3339 here
  };
  pod::Volume data;
  data.name = "data";
  data.kind = pod::VolumeKind::kHost;
  data.source = "/srv/data";
  data.read_only = true;
  pod::Volume scratch;
  scratch.name = "scratch_1";
  scratch.mode = 01777;
  scratch.uid = 1000;
  manifest.volumes = {data, scratch};

  pod::App init;
  init.name = "setup";
  init.init = true;
  init.image = "docker.io/library/busybox:1.36";
  init.image_id = "sha256:" + std::string(64, 'a');
  init.exec = {"/bin/sh", "-c", "true"};
  pod::App web;
  web.name = "web.server";
  web.image = "localhost:5000/team/web@sha256:" + std::string(64, 'b');
  web.image_id = "sha512-" + std::string(128, 'c');
  web.exec = {"/usr/bin/web", "--port=8080"};
  web.env = {"PATH=/usr/bin", "HOME=/root", "PATH=/bin", "1BAD=x", "=empty", "NOEQUALS"};
  web.working_dir = "/srv";
  web.user = "1000";
  web.group = "";
  web.supplementary_gids = {10, 20};
  web.read_only_rootfs = true;
  web.caps_retain = {"CAP_NET_BIND_SERVICE"};
  web.resources.cpu_millis = 750;
  web.resources.memory_bytes = 128 << 20;
  web.resources.oom_score_adj = 500;
  web.mounts = {{"data", "/data", true, ""},
                {"scratch_1", "/tmp/a", false, ""},
                {"scratch_1", "/tmp/b", false, ""},
                {"missing", "/x", false, ""}};
  web.annotations = {{"rkt.kubernetes.io/container-hash", "1234567890"},
                     {"io.kubernetes.container.name", "web"},
                     {"rkt.kubernetes.io/termination-message-path", "/var/lib/kubelet/x"}};
  manifest.apps = {init, web};
  return manifest;
}

TEST(AppcManifestTest, SanitizeAcName) {
  EXPECT_EQ(SanitizeAcName("web"), "web");
  EXPECT_EQ(SanitizeAcName("web.server_1"), "web-server-1");
  EXPECT_EQ(SanitizeAcName("--A..b--"), "a-b");
  EXPECT_EQ(SanitizeAcName("80/tcp"), "80-tcp");
  EXPECT_EQ(SanitizeAcName("caf\xc3\xa9"), "caf");  // one character, one '-', then trimmed
  EXPECT_EQ(SanitizeAcName("..."), "");
  EXPECT_EQ(SanitizeAcName(""), "");
}

TEST(AppcManifestTest, SanitizeAcIdentifier) {
  // Valid names, the kubelet's above all, come back unchanged.
  for (const char* name : {"rkt.kubernetes.io/managed-by-kubelet", "io.kubernetes.pod.uid",
                           "docker.io/library/busybox", "a~b_c"}) {
    EXPECT_EQ(SanitizeAcIdentifier(name), name);
  }
  EXPECT_EQ(SanitizeAcIdentifier("localhost:5000/a/b"), "localhost_5000/a/b");
  EXPECT_EQ(SanitizeAcIdentifier("Team Name"), "team_name");
  EXPECT_EQ(SanitizeAcIdentifier("sha256:abc"), "sha256_abc");
  EXPECT_EQ(SanitizeAcIdentifier("/x/"), "x");
  EXPECT_EQ(SanitizeAcIdentifier("a\xc3\xa9z"), "a_z");     // one UTF-8 character, one '_'
  EXPECT_EQ(SanitizeAcIdentifier("a\xff\xfez"), "a__z");    // one per bad byte, as Go's
  EXPECT_EQ(SanitizeAcIdentifier("\xf0\x9f\x98\x80"), "");  // nothing valid left
}

TEST(AppcManifestTest, PodManifestForTheKubelet) {
  Json pod = CheckPod(AppcPodManifest(KubeletPod()));
  ASSERT_FALSE(pod.is_discarded());
  // Every annotation convertRktPod and makePodManifest read, verbatim.
  const Json& annotations = pod["annotations"];
  EXPECT_EQ(Get(annotations, "rkt.kubernetes.io/managed-by-kubelet"), "true");
  EXPECT_EQ(Get(annotations, "io.kubernetes.pod.uid"), "d3b07384-d113-4ec4-9a2b-5c7e2b5e6a70");
  EXPECT_EQ(Get(annotations, "io.kubernetes.pod.name"), "web-1");
  EXPECT_EQ(Get(annotations, "io.kubernetes.pod.namespace"), "default");
  EXPECT_EQ(Get(annotations, "io.kubernetes.container.name"), "POD");
  EXPECT_EQ(Get(annotations, "rkt.kubernetes.io/restart-count"), "2");
  // The others are not lost: sanitized, and verbatim in userAnnotations.
  EXPECT_EQ(Get(annotations, "team_name"), "Payments");
  EXPECT_EQ(Get(annotations, "created"), "<none>");
  EXPECT_EQ(pod["userAnnotations"]["Team Name"], "Payments");
  EXPECT_EQ(pod["userAnnotations"]["created"], "yesterday");
  EXPECT_EQ(Get(annotations, kAppcMutableAnnotation), "<none>");

  // Apps in the manifest's order: apps[i] is Pod.apps[i].
  ASSERT_EQ(pod["apps"].size(), 2u);
  const Json& setup = pod["apps"][0];
  EXPECT_EQ(setup["name"], "setup");
  EXPECT_EQ(setup["image"]["name"], "docker.io/library/busybox");
  EXPECT_EQ(Get(setup["image"]["labels"], "version"), "1.36");
  EXPECT_FALSE(setup["image"].contains("id"));  // an OCI digest is no appc Image ID
  EXPECT_EQ(Get(setup["annotations"], kAppcImageIdAnnotation), "sha256:" + std::string(64, 'a'));
  EXPECT_EQ(setup["app"]["exec"], Json({"/bin/sh", "-c", "true"}));
  EXPECT_EQ(setup["app"]["user"], "0");
  EXPECT_EQ(setup["app"]["group"], "0");
  EXPECT_EQ(setup["app"]["workingDirectory"], "/");

  const Json& web = pod["apps"][1];
  EXPECT_EQ(web["name"], "web-server");
  EXPECT_EQ(web["image"]["name"], "localhost_5000/team/web");
  EXPECT_FALSE(web["image"].contains("labels"));  // no tag
  EXPECT_EQ(web["image"]["id"], "sha512-" + std::string(128, 'c'));
  EXPECT_EQ(Get(web["annotations"], kAppcImageIdAnnotation), "<none>");
  EXPECT_EQ(Get(web["annotations"], "rkt.kubernetes.io/container-hash"), "1234567890");
  EXPECT_EQ(Get(web["annotations"], "io.kubernetes.container.name"), "web");
  EXPECT_EQ(Get(web["annotations"], "rkt.kubernetes.io/termination-message-path"),
            "/var/lib/kubelet/x");
  const Json& app = web["app"];
  EXPECT_EQ(app["exec"], Json({"/usr/bin/web", "--port=8080"}));
  EXPECT_EQ(app["user"], "1000");
  EXPECT_EQ(app["group"], "1000");
  EXPECT_EQ(app["supplementaryGIDs"], Json({10, 20}));
  EXPECT_EQ(app["workingDirectory"], "/srv");
  // A later PATH overrides in place; names appc refuses are left out.
  EXPECT_EQ(app["environment"], Json::parse(R"([{"name":"PATH","value":"/bin"},
                                                {"name":"HOME","value":"/root"}])"));
  EXPECT_EQ(web["readOnlyRootFS"], true);
  EXPECT_EQ(app["mountPoints"], Json::parse(R"([
      {"name":"data","path":"/data","readOnly":true},
      {"name":"scratch-1","path":"/tmp/a","readOnly":false},
      {"name":"scratch-1-2","path":"/tmp/b","readOnly":false}])"));
  EXPECT_EQ(web["mounts"], Json::parse(R"([{"volume":"data","path":"/data"},
      {"volume":"scratch-1","path":"/tmp/a"},{"volume":"scratch-1","path":"/tmp/b"}])"));
  EXPECT_EQ(app["isolators"], Json::parse(R"([
      {"name":"resource/cpu","value":{"request":"750m","limit":"750m"}},
      {"name":"resource/memory","value":{"request":"134217728","limit":"134217728"}},
      {"name":"os/linux/oom-score-adj","value":500},
      {"name":"os/linux/capabilities-retain-set","value":{"set":["CAP_NET_BIND_SERVICE"]}}])"));

  EXPECT_EQ(pod["volumes"], Json::parse(R"([
      {"name":"data","kind":"host","source":"/srv/data","readOnly":true,"recursive":true},
      {"name":"scratch-1","kind":"empty","readOnly":false,"mode":"1777","uid":1000,"gid":0}])"));
}

TEST(AppcManifestTest, AppNamesStayUnique) {
  pod::PodManifest manifest;
  for (const char* name : {"a.b", "a-b", "a_b", "..."}) {
    pod::App app;
    app.name = name;
    app.exec = {"/x"};
    manifest.apps.push_back(app);
  }
  Json pod = CheckPod(AppcPodManifest(manifest));
  ASSERT_EQ(pod["apps"].size(), 4u);
  EXPECT_EQ(pod["apps"][0]["name"], "a-b");
  EXPECT_EQ(pod["apps"][1]["name"], "a-b-2");
  EXPECT_EQ(pod["apps"][2]["name"], "a-b-3");
  EXPECT_EQ(pod["apps"][3]["name"], "app");
}

TEST(AppcManifestTest, RelativeExecIsLeftOut) {
  // appc's schema refuses a relative exec[0] and with it the whole manifest.
  pod::PodManifest manifest;
  pod::App app;
  app.name = "shell";
  app.exec = {"sh", "-c", "true"};
  manifest.apps.push_back(app);
  Json pod = CheckPod(AppcPodManifest(manifest));
  ASSERT_EQ(pod["apps"].size(), 1u);
  EXPECT_FALSE(pod["apps"][0]["app"].contains("exec"));
  image::ImageConfig config;
  config.config.cmd = {"nginx"};
  Json image =
      CheckImage(AppcImageManifest({"docker.io/library/nginx", "1"}, "sha256:abc", config, {}));
  EXPECT_FALSE(image["app"].contains("exec"));
}

TEST(AppcManifestTest, MutablePodAndEmptyLists) {
  pod::PodManifest manifest;
  manifest.mutable_pod = true;
  Json pod = CheckPod(AppcPodManifest(manifest));
  EXPECT_EQ(pod["apps"], Json::array());
  EXPECT_EQ(pod["volumes"], Json::array());
  EXPECT_EQ(Get(pod["annotations"], kAppcMutableAnnotation), "true");
  EXPECT_FALSE(pod.contains("userAnnotations"));
}

TEST(AppcManifestTest, AnnotationsRoundTrip) {
  // Every annotation is either in `annotations` under its own name or in userAnnotations.
  pod::PodManifest manifest;
  manifest.annotations = {{"a", "1"},
                          {"A", "2"},
                          {"b.c/d", "3"},
                          {"homepage", "ftp://x"},
                          {"documentation", "https://example.com/doc?q=1#top"},
                          {"created", "2024-05-01T10:00:00.5Z"},
                          {"x y", "\x01\xff"},
                          {"", "empty"}};
  Json pod = CheckPod(AppcPodManifest(manifest));
  const Json& annotations = pod["annotations"];
  const Json& user = pod["userAnnotations"];
  for (const auto& [key, value] : manifest.annotations) {
    const bool direct = Get(annotations, key) != "<none>";
    EXPECT_NE(direct, user.contains(key)) << key;
  }
  EXPECT_EQ(Get(annotations, "a"), "1");  // the valid name wins over the sanitized "A"
  EXPECT_EQ(user["A"], "2");
  EXPECT_EQ(user["homepage"], "ftp://x");
  EXPECT_EQ(Get(annotations, "documentation"), "https://example.com/doc?q=1#top");
  EXPECT_EQ(Get(annotations, "created"), "2024-05-01T10:00:00.5Z");
  EXPECT_EQ(Get(annotations, "x_y"), "\x01\xef\xbf\xbd");  // U+FFFD for the bad byte
}

TEST(AppcManifestTest, ImageManifest) {
  image::ImageConfig config;
  config.os = "linux";
  config.architecture = "arm64";
  config.variant = "v8";
  config.created = "2024-05-01T10:00:00Z";
  config.author = "someone";
  config.config.entrypoint = {"/docker-entrypoint.sh"};
  config.config.cmd = {"nginx", "-g", "daemon off;"};
  config.config.env = {"PATH=/usr/bin", "NGINX_VERSION=1.25"};
  config.config.user = "101:102";
  config.config.working_dir = "/usr/share/nginx";
  config.config.exposed_ports = {"80/tcp", "53/udp", "8080", "0/tcp", "99999/tcp", "x/tcp"};
  config.config.volumes = {"/var/cache/nginx", "/data"};
  config.config.labels = {{"maintainer", "NGINX <x@y>"}};
  const std::string id = "sha256:" + std::string(64, 'd');
  Json image = CheckImage(AppcImageManifest({"localhost:5000/web/nginx", "1.25"}, id, config,
                                            {{"org.opencontainers.image.title", "nginx"}}));
  ASSERT_FALSE(image.is_discarded());
  EXPECT_EQ(image["name"], "localhost_5000/web/nginx");
  EXPECT_EQ(Get(image["labels"], "version"), "1.25");
  EXPECT_EQ(Get(image["labels"], "os"), "linux");
  EXPECT_EQ(Get(image["labels"], "arch"), "aarch64");
  const Json& app = image["app"];
  EXPECT_EQ(app["exec"], Json({"/docker-entrypoint.sh", "nginx", "-g", "daemon off;"}));
  EXPECT_EQ(app["user"], "101");
  EXPECT_EQ(app["group"], "102");
  EXPECT_EQ(app["workingDirectory"], "/usr/share/nginx");
  EXPECT_EQ(Get(app["environment"], "NGINX_VERSION"), "1.25");
  EXPECT_EQ(app["ports"], Json::parse(R"([
      {"name":"80-tcp","protocol":"tcp","port":80,"count":1,"socketActivated":false},
      {"name":"53-udp","protocol":"udp","port":53,"count":1,"socketActivated":false},
      {"name":"8080","protocol":"tcp","port":8080,"count":1,"socketActivated":false}])"));
  EXPECT_EQ(app["mountPoints"], Json::parse(R"([
      {"name":"volume-var-cache-nginx","path":"/var/cache/nginx"},
      {"name":"volume-data","path":"/data"}])"));
  EXPECT_EQ(app["userLabels"]["maintainer"], "NGINX <x@y>");
  const Json& annotations = image["annotations"];
  // The kubelet's setApp reads the exec from these two, as JSON arrays.
  EXPECT_EQ(Json::parse(Get(annotations, "appc.io/docker/entrypoint")),
            Json({"/docker-entrypoint.sh"}));
  EXPECT_EQ(Json::parse(Get(annotations, "appc.io/docker/cmd")),
            Json({"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(Get(annotations, "appc.io/docker/registryurl"), "localhost:5000");
  EXPECT_EQ(Get(annotations, "appc.io/docker/repository"), "web/nginx");
  EXPECT_EQ(Get(annotations, "created"), "2024-05-01T10:00:00Z");
  EXPECT_EQ(Get(annotations, "author"), "someone");
  EXPECT_EQ(Get(annotations, "org.opencontainers.image.title"), "nginx");
}

TEST(AppcManifestTest, ImageManifestDefaults) {
  image::ImageConfig config;  // no os, no process
  Json image = CheckImage(AppcImageManifest({}, "sha256:abc", config, {}));
  EXPECT_EQ(image["name"], "sha256_abc");
  EXPECT_EQ(image["labels"], Json::array());
  EXPECT_FALSE(image["app"].contains("exec"));
  EXPECT_EQ(image["app"]["user"], "0");
  EXPECT_EQ(image["app"]["group"], "0");
  EXPECT_EQ(image["annotations"], Json::array());
  EXPECT_EQ(CheckImage(AppcImageManifest({}, "", config, {}))["name"], "image");

  config.os = "linux";
  config.architecture = "arm";
  config.variant = "v7";
  config.config.user = "nobody";
  image = CheckImage(AppcImageManifest({"busybox", ""}, "sha256:abc", config, {}));
  EXPECT_EQ(Get(image["labels"], "arch"), "armv7l");
  EXPECT_EQ(Get(image["labels"], "version"), "<none>");
  EXPECT_EQ(image["app"]["group"], "nobody");
  EXPECT_EQ(Get(image["annotations"], "appc.io/docker/registryurl"), "<none>");

  config.os = "plan9";  // appc refuses os labels it does not know: left out
  config.config.user = ":";
  image = CheckImage(AppcImageManifest({"busybox", ""}, "sha256:abc", config, {}));
  EXPECT_EQ(Get(image["labels"], "os"), "<none>");
  EXPECT_EQ(image["app"]["user"], "0");
  EXPECT_EQ(image["app"]["group"], "0");
}

// Strings full of what JSON and appc refuse: bytes that are not UTF-8, controls, quotes.
std::string Hostile(size_t size) {
  std::string text;
  for (size_t i = 0; text.size() < size; ++i) {
    text.push_back(static_cast<char>(i * 37 % 256));
  }
  return text;
}

TEST(AppcManifestTest, HostilePodYieldsValidJson) {
  pod::PodManifest manifest;
  const std::string huge = Hostile(64 << 10);
  const std::string odd = "\xff\xfe\"\\\n\x01 Upper.Case__--";
  manifest.annotations = {{huge, huge}, {odd, odd}, {"created", odd}};
  pod::Volume volume;
  volume.name = odd;
  volume.kind = pod::VolumeKind::kHost;
  volume.source = "relative/path";  // refused by appc: left out
  pod::Volume other;
  other.name = huge;
  other.mode = 0xffffffff;
  manifest.volumes = {volume, other, other};
  for (const std::string& name : {huge, odd, std::string("\x80"), std::string()}) {
    pod::App app;
    app.name = name;
    app.image = odd;
    app.image.append(":").append(huge);
    app.image_id = odd;
    app.exec = {huge, odd};
    std::string odd_env = odd;
    odd_env.append("=").append(odd);
    app.env = {odd_env, "OK=" + huge, huge};
    app.user = "";
    app.group = odd;
    app.working_dir = odd;
    app.caps_retain = {odd};
    app.resources.cpu_shares = 1;  // out of appc's range: left out
    app.resources.oom_score_adj = 5000;
    app.mounts = {{odd, "/a", false, ""}, {huge, "", false, ""}, {huge, "/b", true, ""}};
    app.annotations = {{odd, huge}};
    manifest.apps.push_back(app);
  }
  Json pod = CheckPod(AppcPodManifest(manifest));
  ASSERT_FALSE(pod.is_discarded());
  EXPECT_EQ(pod["apps"].size(), 4u);
  EXPECT_EQ(pod["volumes"].size(), 1u);
  EXPECT_EQ(pod["apps"][0]["app"]["mountPoints"].size(), 1u);
  EXPECT_EQ(pod["apps"][0]["app"]["isolators"].size(), 1u);  // the capabilities only
}

TEST(AppcManifestTest, HostileImageYieldsValidJson) {
  const std::string huge = Hostile(64 << 10);
  const std::string odd = "\xff\"\\\n\x01:/Upper";
  image::ImageConfig config;
  config.os = odd;
  config.architecture = huge;
  config.created = odd;
  config.author = huge;
  config.config.entrypoint = {huge, odd};
  config.config.cmd = {odd};
  config.config.env = {huge, odd + "=1", "=", "A="};
  config.config.user = odd;
  config.config.working_dir = huge;
  config.config.exposed_ports = {huge, odd, "65535/" + odd, "65535/tcp", "65535/tcp"};
  config.config.volumes = {odd, huge, "", odd};
  config.config.labels = {{odd, huge}};
  for (const std::string& name : {huge, odd, std::string("\xc3"), std::string()}) {
    Json image = CheckImage(AppcImageManifest({name, odd}, odd, config, {{odd, huge}}));
    ASSERT_FALSE(image.is_discarded());
    EXPECT_EQ(image["app"]["ports"].size(), 3u);
    EXPECT_EQ(Get(image["app"]["environment"], "A"), "");
  }
}

}  // namespace
}  // namespace comet::api
