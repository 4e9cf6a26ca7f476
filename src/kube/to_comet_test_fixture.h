// The fixture and builders of the ToPodDraft tests (to_comet_test.cc, security_convert_test.cc,
// volumes_convert_test.cc): a minimal Pod, a node whose resolv.conf lives in a temp dir.
#ifndef COMET_KUBE_TO_COMET_TEST_FIXTURE_H_
#define COMET_KUBE_TO_COMET_TEST_FIXTURE_H_

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kube/objects.h"
#include "kube/to_comet.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::kube::fixture {

using Strings = std::vector<std::string>;

inline Container MakeContainer(std::string name, std::string image = "busybox:1.36") {
  Container c;
  c.name = std::move(name);
  c.image = std::move(image);
  return c;
}

inline Volume MakeVolume(std::string name, VolumeSourceKind kind) {
  Volume v;
  v.name = std::move(name);
  v.kind = kind;
  return v;
}

inline ContainerPort Port(std::string name, int32_t container_port, int32_t host_port = 0,
                          std::string host_ip = "", std::string protocol = "TCP") {
  ContainerPort port;
  port.name = std::move(name);
  port.container_port = container_port;
  port.host_port = host_port;
  port.host_ip = std::move(host_ip);
  port.protocol = std::move(protocol);
  return port;
}

inline SeccompProfile Profile(std::string type, std::string localhost = "") {
  SeccompProfile profile;
  profile.type = std::move(type);
  profile.localhost_profile = std::move(localhost);
  return profile;
}

inline Pod MakePod() {
  Pod pod;
  pod.metadata.name = "web";
  pod.metadata.namespace_ = "shop";
  pod.metadata.uid = "5f0c3a5e-0000-4000-8000-000000000001";
  pod.spec.containers = {MakeContainer("app")};
  pod.spec.dns_policy = "Default";  // no "no cluster DNS" warning in every test
  return pod;
}

class ToPodDraftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-kube-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
    node_.node_name = "node-1";
    node_.host_ip = "192.0.2.1";
    node_.memory_bytes = 10ULL << 30;
    node_.cpu_millis = 8000;
    node_.resolv_conf = dir_->path() + "/resolv.conf";
    ASSERT_TRUE(os::WriteFile(node_.resolv_conf,
                              "# host\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n"
                              "search corp.example\noptions ndots:1 edns0\n"));
  }

  Result<PodDraft> Convert(const Pod& pod) { return ToPodDraft(pod, objects_, node_); }

  PodDraft ConvertOk(const Pod& pod) {
    auto draft = Convert(pod);
    EXPECT_TRUE(draft) << draft.error().ToString();
    return draft ? std::move(*draft) : PodDraft{};
  }

  std::string ConvertError(const Pod& pod) {
    auto draft = Convert(pod);
    EXPECT_FALSE(draft);
    return draft ? std::string() : draft.error().message();
  }

  std::optional<os::TempDir> dir_;
  NodeInfo node_;
  Objects objects_;
};

}  // namespace comet::kube::fixture

#endif  // COMET_KUBE_TO_COMET_TEST_FIXTURE_H_
