// api-service e2e: GetInfo, ListPods with every kind of filter, InspectPod, ListImages,
// InspectImage, and the status codes of bad requests, over pods made by the real `comet`.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "e2e/api/api_fixture.h"
#include "e2e/subprocess.h"

namespace comet::e2e::api {
namespace {

std::set<std::string> Ids(const v1alpha::ListPodsResponse& response) {
  std::set<std::string> ids;
  for (const v1alpha::Pod& pod : response.pods()) {
    ids.insert(pod.id());
  }
  return ids;
}

class ApiPodsTest : public ApiTest {
 protected:
  // ListPods with `filters`; expects OK.
  std::set<std::string> List(const std::vector<v1alpha::PodFilter>& filters, bool detail = false) {
    v1alpha::ListPodsRequest request;
    for (const v1alpha::PodFilter& filter : filters) {
      *request.add_filters() = filter;
    }
    request.set_detail(detail);
    v1alpha::ListPodsResponse response;
    grpc::Status status = stub_->ListPods(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return Ids(response);
  }

  v1alpha::Pod Inspect(const std::string& id) {
    v1alpha::InspectPodRequest request;
    request.set_id(id);
    v1alpha::InspectPodResponse response;
    grpc::Status status = stub_->InspectPod(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    return response.pod();
  }
};

TEST_F(ApiPodsTest, GetInfoNamesTheVersionAndDataDir) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  v1alpha::GetInfoResponse response;
  grpc::Status status = stub_->GetInfo(Context().get(), {}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string version = Trim(Ok({"--version"}));  // "comet version X"
  // rkt's last release, then comet's version; what the kubelet's rkt runtime accepts.
  const std::string comet_version = version.substr(std::string("comet version ").size());
  EXPECT_EQ(response.info().rkt_version(), "1.30.0+comet." + comet_version);
  EXPECT_EQ(response.info().api_version(), "1.0.0-alpha");
  EXPECT_EQ(response.info().appc_version(), "0.8.11");
  EXPECT_EQ(response.info().global_flags().dir(), data());
  EXPECT_EQ(response.info().global_flags().insecure_flags(), "");
}

TEST_F(ApiPodsTest, ListPodsSeesEveryStateAndFiltersAsRktDid) {
  const ThreePods pods = MakeThreePods();
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(StartService());
  EXPECT_EQ(List({}), (std::set<std::string>{pods.prepared, pods.running, pods.exited}));

  v1alpha::PodFilter running;
  running.add_states(v1alpha::POD_STATE_RUNNING);
  EXPECT_EQ(List({running}), std::set<std::string>{pods.running});
  v1alpha::PodFilter not_running;
  not_running.add_states(v1alpha::POD_STATE_PREPARED);
  not_running.add_states(v1alpha::POD_STATE_EXITED);
  EXPECT_EQ(List({not_running}), (std::set<std::string>{pods.prepared, pods.exited}));

  v1alpha::PodFilter by_id;
  by_id.add_ids(pods.exited);
  EXPECT_EQ(List({by_id}), std::set<std::string>{pods.exited});

  v1alpha::PodFilter by_app;
  by_app.add_app_names("sleeper");
  EXPECT_EQ(List({by_app}), std::set<std::string>{pods.running});

  v1alpha::PodFilter team;
  v1alpha::KeyValue* kv = team.add_annotations();
  kv->set_key("team");
  kv->set_value("api");
  EXPECT_EQ(List({team}), (std::set<std::string>{pods.running, pods.exited}));
  // Fields of one filter are AND-ed ...
  v1alpha::PodFilter team_exited = team;
  team_exited.add_states(v1alpha::POD_STATE_EXITED);
  EXPECT_EQ(List({team_exited}), std::set<std::string>{pods.exited});
  v1alpha::PodFilter nothing = by_id;
  nothing.add_states(v1alpha::POD_STATE_RUNNING);
  EXPECT_EQ(List({nothing}), std::set<std::string>{});
  // ... filters are OR-ed.
  EXPECT_EQ(List({running, by_id}), (std::set<std::string>{pods.running, pods.exited}));
  v1alpha::PodFilter role;
  kv = role.add_annotations();
  kv->set_key("role");
  kv->set_value("prepared");
  EXPECT_EQ(List({role, by_app}), (std::set<std::string>{pods.prepared, pods.running}));

  // The running pod's cgroup matches cgroups and pod_sub_cgroups filters.
  const v1alpha::Pod live = Inspect(pods.running);
  ASSERT_FALSE(live.cgroup().empty());
  v1alpha::PodFilter cgroup;
  cgroup.add_cgroups(live.cgroup());
  EXPECT_EQ(List({cgroup}), std::set<std::string>{pods.running});
  v1alpha::PodFilter sub;
  sub.add_pod_sub_cgroups(live.cgroup() + "/sleeper");
  EXPECT_EQ(List({sub}), std::set<std::string>{pods.running});
}

TEST_F(ApiPodsTest, DetailCarriesManifestsAndOnlyThen) {
  const ThreePods pods = MakeThreePods();
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(StartService());
  for (const bool detail : {false, true}) {
    v1alpha::ListPodsRequest request;
    request.set_detail(detail);
    v1alpha::ListPodsResponse response;
    ASSERT_TRUE(stub_->ListPods(Context().get(), request, &response).ok());
    ASSERT_EQ(response.pods_size(), 3);
    for (const v1alpha::Pod& pod : response.pods()) {
      EXPECT_EQ(pod.manifest().empty(), !detail) << pod.id() << " detail=" << detail;
    }
  }
}

TEST_F(ApiPodsTest, InspectPodOfEachStateAndBadIds) {
  const ThreePods pods = MakeThreePods();
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(StartService());
  const v1alpha::Pod prepared = Inspect(pods.prepared);
  EXPECT_EQ(prepared.state(), v1alpha::POD_STATE_PREPARED);
  EXPECT_EQ(prepared.networks_size(), 0);
  // An appc PodManifest, as rkt's clients (the kubelet) decode it.
  const nlohmann::json appc = nlohmann::json::parse(prepared.manifest(), nullptr, false);
  ASSERT_TRUE(appc.is_object()) << prepared.manifest();
  EXPECT_EQ(appc.value("acKind", ""), "PodManifest");
  ASSERT_TRUE(appc.contains("apps") && appc["apps"].is_array() && !appc["apps"].empty());
  EXPECT_TRUE(appc["apps"][0].contains("app")) << prepared.manifest();

  const v1alpha::Pod running = Inspect(pods.running);
  EXPECT_EQ(running.id(), pods.running);
  EXPECT_EQ(running.state(), v1alpha::POD_STATE_RUNNING);
  EXPECT_GT(running.pid(), 0);
  ASSERT_EQ(running.apps_size(), 1);
  EXPECT_EQ(running.apps(0).name(), "sleeper");
  EXPECT_EQ(running.apps(0).state(), v1alpha::APP_STATE_RUNNING);
  // Nanoseconds since the epoch: after 2020 in ns is > 1.5e18.
  EXPECT_GT(running.created_at(), int64_t{1500000000} * 1000000000);
  EXPECT_GE(running.started_at(), running.created_at());
  bool role_running = false;
  for (const v1alpha::KeyValue& kv : running.annotations()) {
    role_running |= kv.key() == "role" && kv.value() == "running";
  }
  EXPECT_TRUE(role_running);

  const v1alpha::Pod exited = Inspect(pods.exited);
  EXPECT_EQ(exited.state(), v1alpha::POD_STATE_EXITED);
  ASSERT_EQ(exited.apps_size(), 1);
  EXPECT_EQ(exited.apps(0).state(), v1alpha::APP_STATE_EXITED);
  EXPECT_EQ(exited.apps(0).exit_code(), 3);
  EXPECT_TRUE(exited.cgroup().empty());
  EXPECT_EQ(exited.networks_size(), 0);

  v1alpha::InspectPodRequest request;
  v1alpha::InspectPodResponse response;
  request.set_id("01234567-89ab-cdef-0123-456789abcdef");
  grpc::Status status = stub_->InspectPod(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  for (const char* bad : {"not-a-uuid", "../../etc/passwd", ""}) {
    request.set_id(bad);
    status = stub_->InspectPod(Context().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << bad << ": " << status.error_message();
    EXPECT_FALSE(status.error_message().empty());
  }
  v1alpha::ListPodsRequest list;
  list.add_filters()->add_ids("not-a-uuid");
  v1alpha::ListPodsResponse listed;
  status = stub_->ListPods(Context().get(), list, &listed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  // Still serving after the bad requests.
  v1alpha::GetInfoResponse info;
  EXPECT_TRUE(stub_->GetInfo(Context().get(), {}, &info).ok());
}

TEST_F(ApiPodsTest, ListImagesAndInspectImage) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  v1alpha::ListImagesRequest request;
  v1alpha::ListImagesResponse response;
  grpc::Status status = stub_->ListImages(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.images_size(), 1);
  const v1alpha::Image& image = response.images(0);
  EXPECT_EQ(image.name(), "docker.io/local/busybox");  // the normalized name, as comet lists it
  EXPECT_EQ(image.version(), "1");
  EXPECT_EQ(image.id().rfind("sha256:", 0), 0U) << image.id();
  EXPECT_EQ(image.base_format().type(), v1alpha::IMAGE_TYPE_OCI);
  EXPECT_GT(image.size(), 0);
  // Unix seconds, not nanoseconds: within a day of now.
  const int64_t now = ::time(nullptr);
  EXPECT_LE(std::abs(image.import_timestamp() - now), 86400) << image.import_timestamp();
  EXPECT_TRUE(image.manifest().empty());

  v1alpha::ListImagesRequest filtered;
  filtered.add_filters()->add_base_names("local/busybox");
  v1alpha::ListImagesResponse filtered_response;
  ASSERT_TRUE(stub_->ListImages(Context().get(), filtered, &filtered_response).ok());
  EXPECT_EQ(filtered_response.images_size(), 1);
  v1alpha::ListImagesRequest by_full_name;
  by_full_name.add_filters()->add_full_names(image.name() + ":" + image.version());
  ASSERT_TRUE(stub_->ListImages(Context().get(), by_full_name, &filtered_response).ok());
  EXPECT_EQ(filtered_response.images_size(), 1);
  by_full_name.mutable_filters(0)->set_full_names(0, image.name() + ":2");
  ASSERT_TRUE(stub_->ListImages(Context().get(), by_full_name, &filtered_response).ok());
  EXPECT_EQ(filtered_response.images_size(), 0);
  filtered.mutable_filters(0)->set_imported_after(now + 3600);
  ASSERT_TRUE(stub_->ListImages(Context().get(), filtered, &filtered_response).ok());
  EXPECT_EQ(filtered_response.images_size(), 0);

  v1alpha::InspectImageRequest inspect;
  inspect.set_id(image.id());
  v1alpha::InspectImageResponse inspected;
  status = stub_->InspectImage(Context().get(), inspect, &inspected);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(inspected.image().id(), image.id());
  const nlohmann::json image_appc =
      nlohmann::json::parse(inspected.image().manifest(), nullptr, false);
  ASSERT_TRUE(image_appc.is_object()) << inspected.image().manifest();
  EXPECT_EQ(image_appc.value("acKind", ""), "ImageManifest");
  // The tag as the appc `version` label, which the kubelet's image lookup filters on.
  v1alpha::ListImagesRequest kubelet;
  v1alpha::ImageFilter* query = kubelet.add_filters();
  query->add_keywords("local/busybox");
  v1alpha::KeyValue* version = query->add_labels();
  version->set_key("version");
  version->set_value("1");
  ASSERT_TRUE(stub_->ListImages(Context().get(), kubelet, &filtered_response).ok());
  EXPECT_EQ(filtered_response.images_size(), 1);
  version->set_value("2");
  ASSERT_TRUE(stub_->ListImages(Context().get(), kubelet, &filtered_response).ok());
  EXPECT_EQ(filtered_response.images_size(), 0);

  inspect.set_id("sha256:" + std::string(64, '0'));
  status = stub_->InspectImage(Context().get(), inspect, &inspected);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
}

}  // namespace
}  // namespace comet::e2e::api
