// Table-driven tests of rkt's PodFilter semantics: each field alone, AND within a filter, OR
// across filters, annotations all-of, cgroup prefixes on component boundaries, validation.
#include "api/pod_filter.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::api {
namespace {

using ::testing::HasSubstr;

constexpr const char* kUuid = "0b3c6e2a-7f41-4c1e-9d7a-2f5e8c9b1a00";
constexpr const char* kOther = "11111111-2222-4333-8444-555555555555";
constexpr const char* kImage = "sha256:aaaa";

v1alpha::Pod SamplePod() {
  v1alpha::Pod pod;
  pod.set_id(kUuid);
  pod.set_state(v1alpha::POD_STATE_RUNNING);
  pod.set_cgroup("/comet/pod-x");
  v1alpha::App* app = pod.add_apps();
  app->set_name("web");
  app->mutable_image()->set_id(kImage);
  app = pod.add_apps();
  app->set_name("sidecar");
  app->mutable_image()->set_id("sha256:bbbb");
  for (auto [key, value] : {std::pair{"k8s/managed", "true"}, std::pair{"team", "a"}}) {
    v1alpha::KeyValue* kv = pod.add_annotations();
    kv->set_key(key);
    kv->set_value(value);
  }
  pod.add_networks()->set_name("default");
  return pod;
}

v1alpha::KeyValue Kv(const std::string& key, const std::string& value) {
  v1alpha::KeyValue kv;
  kv.set_key(key);
  kv.set_value(value);
  return kv;
}

struct FilterCase {
  std::string name;
  std::function<void(v1alpha::PodFilter&)> fill;
  bool matches;
};

TEST(PodFilterTest, EachField) {
  const std::vector<FilterCase> cases = {
      {"empty", [](v1alpha::PodFilter&) {}, true},
      {"id", [](v1alpha::PodFilter& f) { f.add_ids(kUuid); }, true},
      {"id upper case",
       [](v1alpha::PodFilter& f) { f.add_ids("0B3C6E2A-7F41-4C1E-9D7A-2F5E8C9B1A00"); }, true},
      {"any id",
       [](v1alpha::PodFilter& f) {
         f.add_ids(kOther);
         f.add_ids(kUuid);
       },
       true},
      {"other id", [](v1alpha::PodFilter& f) { f.add_ids(kOther); }, false},
      {"state", [](v1alpha::PodFilter& f) { f.add_states(v1alpha::POD_STATE_RUNNING); }, true},
      {"any state",
       [](v1alpha::PodFilter& f) {
         f.add_states(v1alpha::POD_STATE_EXITED);
         f.add_states(v1alpha::POD_STATE_RUNNING);
       },
       true},
      {"other state", [](v1alpha::PodFilter& f) { f.add_states(v1alpha::POD_STATE_EXITED); },
       false},
      {"app name", [](v1alpha::PodFilter& f) { f.add_app_names("sidecar"); }, true},
      {"other app name", [](v1alpha::PodFilter& f) { f.add_app_names("db"); }, false},
      {"image id", [](v1alpha::PodFilter& f) { f.add_image_ids(kImage); }, true},
      {"image id prefix", [](v1alpha::PodFilter& f) { f.add_image_ids("sha256:aa"); }, false},
      {"network", [](v1alpha::PodFilter& f) { f.add_network_names("default"); }, true},
      {"other network", [](v1alpha::PodFilter& f) { f.add_network_names("bridge"); }, false},
      {"annotation", [](v1alpha::PodFilter& f) { *f.add_annotations() = Kv("team", "a"); }, true},
      {"all annotations",
       [](v1alpha::PodFilter& f) {
         *f.add_annotations() = Kv("team", "a");
         *f.add_annotations() = Kv("k8s/managed", "true");
       },
       true},
      {"one annotation missing",
       [](v1alpha::PodFilter& f) {
         *f.add_annotations() = Kv("team", "a");
         *f.add_annotations() = Kv("k8s/managed", "false");
       },
       false},
      {"annotation value differs",
       [](v1alpha::PodFilter& f) { *f.add_annotations() = Kv("team", "b"); }, false},
      {"cgroup", [](v1alpha::PodFilter& f) { f.add_cgroups("/comet/pod-x"); }, true},
      {"cgroup child is not equal",
       [](v1alpha::PodFilter& f) { f.add_cgroups("/comet/pod-x/web"); }, false},
      {"sub cgroup itself", [](v1alpha::PodFilter& f) { f.add_pod_sub_cgroups("/comet/pod-x"); },
       true},
      {"sub cgroup child",
       [](v1alpha::PodFilter& f) { f.add_pod_sub_cgroups("/comet/pod-x/web/x"); }, true},
      {"sub cgroup trailing slash",
       [](v1alpha::PodFilter& f) { f.add_pod_sub_cgroups("/comet/pod-x/"); }, true},
      {"sub cgroup not on a boundary",
       [](v1alpha::PodFilter& f) { f.add_pod_sub_cgroups("/comet/pod-xy/web"); }, false},
      {"sub cgroup parent", [](v1alpha::PodFilter& f) { f.add_pod_sub_cgroups("/comet"); }, false},
      {"AND: all fields match",
       [](v1alpha::PodFilter& f) {
         f.add_ids(kUuid);
         f.add_app_names("web");
         *f.add_annotations() = Kv("team", "a");
       },
       true},
      {"AND: one field fails",
       [](v1alpha::PodFilter& f) {
         f.add_ids(kUuid);
         f.add_app_names("db");
       },
       false},
  };
  const v1alpha::Pod pod = SamplePod();
  for (const FilterCase& c : cases) {
    v1alpha::PodFilter filter;
    c.fill(filter);
    PodFilters filters;
    *filters.Add() = filter;
    ASSERT_TRUE(ValidatePodFilters(filters)) << c.name;
    EXPECT_EQ(PodMatchesFilter(pod, filter), c.matches) << c.name;
  }
}

TEST(PodFilterTest, FiltersAreOred) {
  const v1alpha::Pod pod = SamplePod();
  PodFilters filters;
  EXPECT_TRUE(PodMatchesAny(pod, filters));  // no filter: everything
  filters.Add()->add_ids(kOther);
  EXPECT_FALSE(PodMatchesAny(pod, filters));
  filters.Add()->add_app_names("web");
  EXPECT_TRUE(PodMatchesAny(pod, filters));
}

TEST(PodFilterTest, PodWithoutCgroupMatchesNoCgroupFilter) {
  v1alpha::Pod pod = SamplePod();
  pod.clear_cgroup();
  v1alpha::PodFilter filter;
  filter.add_cgroups("");
  EXPECT_FALSE(PodMatchesFilter(pod, filter));
  filter.Clear();
  filter.add_pod_sub_cgroups("/comet/pod-x");
  EXPECT_FALSE(PodMatchesFilter(pod, filter));
}

TEST(PodFilterTest, ValidationNamesTheField) {
  PodFilters filters;
  filters.Add()->add_ids(kUuid);
  v1alpha::PodFilter* second = filters.Add();
  second->add_ids(kOther);
  second->add_ids("0b3c6e2a");  // a prefix is not a full uuid
  auto status = ValidatePodFilters(filters);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), EINVAL);
  EXPECT_THAT(status.error().message(), HasSubstr("filters[1].ids[1]"));

  PodFilters states;
  states.Add()->add_states(static_cast<v1alpha::PodState>(42));
  status = ValidatePodFilters(states);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("filters[0].states[0]"));
}

TEST(PodFilterTest, CgroupPrefix) {
  EXPECT_TRUE(IsCgroupPrefix("/a/b", "/a/b"));
  EXPECT_TRUE(IsCgroupPrefix("/a/b", "/a/b/c"));
  EXPECT_FALSE(IsCgroupPrefix("/a/b", "/a/bc"));
  EXPECT_FALSE(IsCgroupPrefix("/a/b", "/a"));
  EXPECT_FALSE(IsCgroupPrefix("", "/a"));
  EXPECT_TRUE(IsCgroupPrefix("/", "/a"));
}

TEST(PodFilterTest, NormalizeUuid) {
  EXPECT_EQ(NormalizeUuid("0B3C6E2A-7F41-4C1E-9D7A-2F5E8C9B1A00"), kUuid);
  EXPECT_EQ(NormalizeUuid("../../etc"), std::nullopt);
  EXPECT_EQ(NormalizeUuid(""), std::nullopt);
}

}  // namespace
}  // namespace comet::api
