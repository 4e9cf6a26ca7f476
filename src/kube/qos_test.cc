// Tests of the QoS class and oom_score_adj rules (qos.cc) and of the resources conversion
// (resources_convert.cc): the kubelet's numbers.
#include <gtest/gtest.h>

#include "kube/resources_convert.h"
#include "kube/to_comet.h"

namespace comet::kube {
namespace {

Container WithResources(std::map<std::string, std::string> requests,
                        std::map<std::string, std::string> limits) {
  Container c;
  c.name = "c";
  c.image = "busybox";
  c.resources.requests = std::move(requests);
  c.resources.limits = std::move(limits);
  return c;
}

TEST(QosTest, NoResourcesIsBestEffort) {
  PodSpec spec;
  spec.containers = {WithResources({}, {}), WithResources({}, {})};
  EXPECT_EQ(PodQosClass(spec), QosClass::kBestEffort);
}

TEST(QosTest, ExtendedResourcesAloneStayBestEffort) {
  PodSpec spec;
  spec.containers = {WithResources({}, {{"nvidia.com/gpu", "1"}})};
  EXPECT_EQ(PodQosClass(spec), QosClass::kBestEffort);
}

TEST(QosTest, LimitsOnlyAreGuaranteed) {
  // Requests default to limits.
  PodSpec spec;
  spec.containers = {WithResources({}, {{"cpu", "500m"}, {"memory", "128Mi"}})};
  EXPECT_EQ(PodQosClass(spec), QosClass::kGuaranteed);
}

TEST(QosTest, EqualRequestsAndLimitsAreGuaranteed) {
  PodSpec spec;
  spec.containers = {WithResources({{"cpu", "0.5"}, {"memory", "128Mi"}},
                                   {{"cpu", "500m"}, {"memory", "134217728"}})};
  EXPECT_EQ(PodQosClass(spec), QosClass::kGuaranteed);
}

TEST(QosTest, LowerRequestIsBurstable) {
  PodSpec spec;
  spec.containers = {
      WithResources({{"cpu", "250m"}, {"memory", "128Mi"}}, {{"cpu", "1"}, {"memory", "128Mi"}})};
  EXPECT_EQ(PodQosClass(spec), QosClass::kBurstable);
}

TEST(QosTest, MissingMemoryLimitIsBurstable) {
  PodSpec spec;
  spec.containers = {WithResources({}, {{"cpu", "1"}})};
  EXPECT_EQ(PodQosClass(spec), QosClass::kBurstable);
}

TEST(QosTest, OneUnlimitedContainerMakesThePodBurstable) {
  PodSpec spec;
  spec.containers = {WithResources({}, {{"cpu", "1"}, {"memory", "1Gi"}}), WithResources({}, {})};
  EXPECT_EQ(PodQosClass(spec), QosClass::kBurstable);
}

TEST(QosTest, InitContainersCount) {
  PodSpec spec;
  spec.containers = {WithResources({}, {{"cpu", "1"}, {"memory", "1Gi"}})};
  spec.init_containers = {WithResources({{"memory", "64Mi"}}, {})};
  EXPECT_EQ(PodQosClass(spec), QosClass::kBurstable);

  spec.init_containers = {WithResources({}, {{"cpu", "100m"}, {"memory", "64Mi"}})};
  EXPECT_EQ(PodQosClass(spec), QosClass::kGuaranteed);

  // Only an init container has requests: not best effort any more.
  PodSpec only_init;
  only_init.containers = {WithResources({}, {})};
  only_init.init_containers = {WithResources({{"cpu", "100m"}}, {})};
  EXPECT_EQ(PodQosClass(only_init), QosClass::kBurstable);
}

TEST(QosTest, ZeroQuantitiesCountAsUnset) {
  PodSpec spec;
  spec.containers = {WithResources({{"cpu", "0"}, {"memory", "0"}}, {})};
  EXPECT_EQ(PodQosClass(spec), QosClass::kBestEffort);
}

TEST(QosTest, Names) {
  EXPECT_STREQ(QosClassName(QosClass::kGuaranteed), "Guaranteed");
  EXPECT_STREQ(QosClassName(QosClass::kBurstable), "Burstable");
  EXPECT_STREQ(QosClassName(QosClass::kBestEffort), "BestEffort");
}

TEST(OomScoreAdjTest, FixedClasses) {
  EXPECT_EQ(OomScoreAdj(QosClass::kGuaranteed, 1 << 30, 8ULL << 30), -997);
  EXPECT_EQ(OomScoreAdj(QosClass::kBestEffort, 0, 8ULL << 30), 1000);
}

TEST(OomScoreAdjTest, BurstableIsRelativeToCapacity) {
  const uint64_t capacity = 10ULL << 30;
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, 1ULL << 30, capacity), 900);  // 10 %
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, 5ULL << 30, capacity), 500);
  // 1000 * 3 / 7 = 428.57: truncated like the kubelet's int64 division.
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, 3, 7), 572);
}

TEST(OomScoreAdjTest, BurstableClamps) {
  const uint64_t capacity = 10ULL << 30;
  // No memory request: 1000 would tie with best effort, so 999.
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, 0, capacity), 999);
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, 1, capacity), 999);
  // All (or more than all) of the memory: above the guaranteed, so 2.
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, capacity, capacity), 2);
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, 2 * capacity, capacity), 2);
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, capacity - capacity / 1000, capacity), 2);
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, capacity - capacity / 200, capacity), 5);
  // Capacity unknown.
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, 1 << 20, 0), 999);
  // Requests past what 1000 * request holds in 64 bits.
  EXPECT_EQ(OomScoreAdj(QosClass::kBurstable, 1ULL << 62, 1ULL << 63), 500);
}

TEST(CpuSharesTest, KubeletMilliCpuToShares) {
  EXPECT_EQ(CpuShares(0), 2u);
  EXPECT_EQ(CpuShares(1), 2u);  // 1.024 -> 1 -> the minimum
  EXPECT_EQ(CpuShares(2), 2u);
  EXPECT_EQ(CpuShares(100), 102u);
  EXPECT_EQ(CpuShares(250), 256u);
  EXPECT_EQ(CpuShares(1000), 1024u);
  EXPECT_EQ(CpuShares(1500), 1536u);
  EXPECT_EQ(CpuShares(1000000000), 262144u);
}

TEST(ComputeResourcesTest, RequestsDefaultToLimits) {
  ResourceRequirements r;
  r.limits = {{"cpu", "2"}, {"memory", "1Gi"}};
  r.requests = {{"cpu", "100m"}};
  auto parsed = ParseComputeResources(r, "spec.containers[0].resources");
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->cpu_limit_millis, 2000);
  EXPECT_EQ(parsed->cpu_request_millis, 100);
  EXPECT_EQ(parsed->memory_limit_bytes, 1 << 30);
  EXPECT_EQ(parsed->memory_request_bytes, 1 << 30);
  EXPECT_FALSE(parsed->ephemeral_limit_bytes);
}

TEST(ComputeResourcesTest, ErrorsNameTheQuantity) {
  ResourceRequirements r;
  r.limits = {{"memory", "lots"}};
  auto parsed = ParseComputeResources(r, "spec.containers[1].resources");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message().rfind("spec.containers[1].resources.limits.memory: ", 0), 0u)
      << parsed.error().message();

  r.limits = {{"cpu", "1"}};
  r.requests = {{"cpu", "2"}};
  parsed = ParseComputeResources(r, "spec.containers[1].resources");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message(),
            "spec.containers[1].resources.requests.cpu: must be less than or equal to the cpu "
            "limit");
}

TEST(ExtendedResourcesTest, GpusAndVendorDevices) {
  ResourceRequirements r;
  r.limits = {{"nvidia.com/gpu", "2"},    {"example.com/fpga", "1"},    {"cpu", "1"},
              {"hugepages-2Mi", "100Mi"}, {"ephemeral-storage", "1Gi"}, {"squids", "3"}};
  std::vector<std::string> warnings;
  auto devices = ExtendedResources(r, "spec.containers[0].resources", &warnings);
  ASSERT_TRUE(devices) << devices.error().ToString();
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].kind, "example.com/fpga");
  EXPECT_EQ((*devices)[0].count, 1);
  EXPECT_EQ((*devices)[1].kind, "nvidia.com/gpu");
  EXPECT_EQ((*devices)[1].count, 2);
  EXPECT_EQ(warnings,
            (std::vector<std::string>{
                "spec.containers[0].resources.limits.ephemeral-storage: not supported, ignored",
                "spec.containers[0].resources.limits.hugepages-2Mi: not supported, ignored",
                "spec.containers[0].resources.limits.squids: unknown resource, ignored"}));
}

TEST(ExtendedResourcesTest, LegacyGpuName) {
  ResourceRequirements r;
  r.limits = {{"alpha.kubernetes.io/nvidia-gpu", "1"}};
  std::vector<std::string> warnings;
  auto devices = ExtendedResources(r, "resources", &warnings);
  ASSERT_TRUE(devices);
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].kind, "nvidia.com/gpu");
  EXPECT_EQ((*devices)[0].count, 1);
  EXPECT_TRUE(warnings.empty());
}

TEST(ExtendedResourcesTest, FractionalCountIsAnError) {
  ResourceRequirements r;
  r.limits = {{"nvidia.com/gpu", "500m"}};
  std::vector<std::string> warnings;
  auto devices = ExtendedResources(r, "resources", &warnings);
  ASSERT_FALSE(devices);
  EXPECT_EQ(devices.error().message(),
            "resources.limits.nvidia.com/gpu: \"500m\": must be a whole number");
}

}  // namespace
}  // namespace comet::kube
