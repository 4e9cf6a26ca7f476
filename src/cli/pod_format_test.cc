#include "cli/pod_format.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace comet::cli {
namespace {

using std::chrono::minutes;

const std::string kUuid = "0123abcd-4567-4def-8901-23456789abcd";

PodView TwoAppPod(std::chrono::system_clock::time_point now) {
  PodView pod;
  pod.uuid = kUuid;
  pod.name = "web";
  pod.state = "running";
  pod.created = FormatRfc3339Nano(now - minutes(5));
  pod.started = FormatRfc3339Nano(now - minutes(4));
  pod.pid = 4242;
  PodAppView nginx;
  nginx.name = "nginx";
  nginx.image = "docker.io/library/nginx:1";
  nginx.image_id = "sha256:" + std::string(64, 'e');
  nginx.state = "running";
  PodAppView init;
  init.name = "setup";
  init.image = "busybox";
  init.image_id = "sha256:" + std::string(64, 'b');
  init.state = "exited";
  init.exit_code = 0;
  pod.apps = {init, nginx};
  return pod;
}

TEST(PodFormat, TableOneRowPerAppLikeRkt) {
  const auto now = std::chrono::system_clock::now();
  PodView empty;
  empty.uuid = "ffff0000-0000-4000-8000-000000000000";
  empty.state = "embryo";
  const std::string table = FormatPodTable({TwoAppPod(now), empty}, {.now = now});
  const std::vector<std::string> lines = Split(table, '\n');
  ASSERT_EQ(lines.size(), 5U) << table;  // header, 2 apps, the empty pod, ""
  EXPECT_EQ(lines[0].find("UUID"), 0U);
  for (const char* column :
       {"APP", "IMAGE NAME", "IMAGE ID", "STATE", "CREATED", "STARTED", "NETWORKS"}) {
    EXPECT_NE(lines[0].find(column), std::string::npos) << column;
  }
  EXPECT_EQ(lines[1].find("0123abcd "), 0U) << table;
  EXPECT_EQ(lines[1].find(kUuid), std::string::npos);  // 8 characters unless --full
  EXPECT_NE(lines[1].find("setup"), std::string::npos);
  EXPECT_NE(lines[1].find("bbbbbbbbbbbb "), std::string::npos);
  EXPECT_NE(lines[1].find("running"), std::string::npos);
  EXPECT_NE(lines[1].find("5 minutes ago"), std::string::npos) << table;
  EXPECT_NE(lines[1].find("4 minutes ago"), std::string::npos) << table;
  // The second app's row leaves the pod's cells empty.
  EXPECT_EQ(lines[2].find_first_not_of(' '), lines[1].find("setup"));
  EXPECT_NE(lines[2].find("docker.io/library/nginx:1"), std::string::npos);
  EXPECT_EQ(lines[2].find("running"), std::string::npos);
  EXPECT_EQ(lines[3].find("ffff0000"), 0U);
  EXPECT_NE(lines[3].find("embryo"), std::string::npos);

  const std::string full =
      FormatPodTable({TwoAppPod(now)}, {.full = true, .no_legend = true, .now = now});
  EXPECT_EQ(full.find("UUID"), std::string::npos);
  EXPECT_EQ(full.find(kUuid), 0U);
  EXPECT_NE(full.find("sha256:" + std::string(64, 'e')), std::string::npos);
  EXPECT_NE(full.find(FormatRfc3339Nano(now - minutes(5))), std::string::npos);
}

TEST(PodFormat, ListJson) {
  const auto now = std::chrono::system_clock::now();
  const nlohmann::json json = nlohmann::json::parse(FormatPodListJson({TwoAppPod(now)}, false));
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 1U);
  const nlohmann::json& pod = json[0];
  EXPECT_EQ(pod["uuid"], kUuid);
  EXPECT_EQ(pod["name"], "web");
  EXPECT_EQ(pod["state"], "running");
  EXPECT_EQ(pod["created"], FormatRfc3339Nano(now - minutes(5)));
  EXPECT_TRUE(pod["networks"].is_array());
  ASSERT_EQ(pod["apps"].size(), 2U);
  EXPECT_EQ(pod["apps"][0]["name"], "setup");
  EXPECT_EQ(pod["apps"][0]["exit_code"], 0);
  EXPECT_EQ(pod["apps"][1]["image"], "docker.io/library/nginx:1");
  EXPECT_EQ(pod["apps"][1]["image_id"], "sha256:" + std::string(64, 'e'));
  EXPECT_TRUE(pod["apps"][1]["exit_code"].is_null());
  EXPECT_EQ(FormatPodListJson({}, false), "[]\n");
  PodView prepared;
  prepared.uuid = kUuid;
  prepared.state = "prepared";
  EXPECT_TRUE(nlohmann::json::parse(FormatPodListJson({prepared}, true))[0]["started"].is_null());
}

TEST(PodFormat, StatusKeyValueLikeRkt) {
  const auto now = std::chrono::system_clock::now();
  PodView pod = TwoAppPod(now);
  std::string status = FormatPodStatus(pod);
  EXPECT_EQ(status.find("state=running\n"), 0U) << status;
  EXPECT_NE(status.find("created=" + pod.created + "\n"), std::string::npos);
  EXPECT_NE(status.find("started=" + pod.started + "\n"), std::string::npos);
  EXPECT_NE(status.find("pid=4242\n"), std::string::npos);
  EXPECT_NE(status.find("exited=false\n"), std::string::npos);
  EXPECT_NE(status.find("app-setup=0\n"), std::string::npos);  // exited init container
  EXPECT_EQ(status.find("app-nginx="), std::string::npos);     // still running

  pod.state = "exited";
  pod.exited = true;
  pod.apps[1].state = "exited";
  pod.apps[1].exit_code = 137;
  status = FormatPodStatus(pod);
  EXPECT_NE(status.find("exited=true\n"), std::string::npos);
  EXPECT_NE(status.find("app-nginx=137\n"), std::string::npos);

  PodView prepared;
  prepared.state = "prepared";
  EXPECT_EQ(FormatPodStatus(prepared), "state=prepared\ncreated=\nstarted=\nexited=false\n");

  const nlohmann::json json = nlohmann::json::parse(FormatPodStatusJson(pod, true));
  EXPECT_EQ(json["pid"], 4242);
  EXPECT_EQ(json["exited"], true);
  EXPECT_EQ(json["apps"][1]["exit_code"], 137);
}

TEST(PodFormat, AppListAndStatus) {
  const auto now = std::chrono::system_clock::now();
  PodView pod = TwoAppPod(now);
  pod.apps[0].started = FormatRfc3339Nano(now - minutes(3));
  const std::string table = FormatAppTable(pod.apps, {.now = now});
  EXPECT_EQ(table.find("NAME"), 0U);
  EXPECT_NE(table.find("EXIT CODE"), std::string::npos);
  EXPECT_NE(table.find("setup"), std::string::npos);
  EXPECT_NE(table.find("3 minutes ago"), std::string::npos) << table;
  EXPECT_EQ(FormatAppTable(pod.apps, {.no_legend = true, .now = now}).find("NAME"),
            std::string::npos);
  const nlohmann::json list = nlohmann::json::parse(FormatAppListJson(pod.apps, false));
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0]["restarts"], 0);

  PodAppView app = pod.apps[1];
  app.pid = 99;
  app.restarts = 2;
  app.reason = "Error";
  const std::string status = FormatAppStatus(app);
  EXPECT_EQ(status.find("name=nginx\nstate=running\npid=99\n"), 0U) << status;
  EXPECT_NE(status.find("restarts=2\n"), std::string::npos);
  EXPECT_NE(status.find("reason=Error\n"), std::string::npos);
  EXPECT_EQ(status.find("exit_code="), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(FormatAppStatusJson(app, false))["pid"], 99);
}

TEST(PodFormat, TimeCell) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(PodTimeCell("", false, now), "");
  EXPECT_EQ(PodTimeCell("not a time", false, now), "not a time");
  const std::string when = FormatRfc3339Nano(now - minutes(2));
  EXPECT_EQ(PodTimeCell(when, false, now), "2 minutes ago");
  EXPECT_EQ(PodTimeCell(when, true, now), when);
}

}  // namespace
}  // namespace comet::cli
