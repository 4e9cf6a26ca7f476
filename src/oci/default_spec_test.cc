// Tests for DefaultSpec and FeaturesJson: the shapes `runc spec`/`runc features` users expect.
#include "oci/default_spec.h"

#include <unistd.h>

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "oci/features.h"
#include "oci/spec_json.h"

namespace comet::oci {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

bool HasNamespace(const Spec& s, const std::string& type) {
  return std::any_of(s.linux_config->namespaces.begin(), s.linux_config->namespaces.end(),
                     [&](const Namespace& n) { return n.type == type; });
}

const Mount& MountAt(const Spec& s, const std::string& destination) {
  auto it = std::find_if(s.mounts.begin(), s.mounts.end(),
                         [&](const Mount& m) { return m.destination == destination; });
  EXPECT_NE(it, s.mounts.end()) << destination;
  return *it;
}

TEST(DefaultSpec, Root) {
  Spec s = DefaultSpec(false);
  EXPECT_EQ(s.oci_version, kDefaultSpecVersion);
  ASSERT_TRUE(s.process.has_value());
  EXPECT_THAT(s.process->args, ElementsAre("sh"));
  EXPECT_TRUE(s.process->terminal);
  EXPECT_TRUE(s.process->no_new_privileges);
  EXPECT_THAT(s.process->capabilities->bounding,
              ElementsAre("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"));
  EXPECT_EQ(s.process->rlimits.at(0).type, "RLIMIT_NOFILE");
  EXPECT_EQ(s.root.path, "rootfs");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.hostname, "comet");
  for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
    EXPECT_TRUE(HasNamespace(s, ns)) << ns;
  }
  EXPECT_FALSE(HasNamespace(s, "user"));
  EXPECT_EQ(MountAt(s, "/sys").type, "sysfs");
  EXPECT_THAT(MountAt(s, "/dev/pts").options, Contains("gid=5"));
  EXPECT_EQ(MountAt(s, "/sys/fs/cgroup").type, "cgroup");
  EXPECT_THAT(s.linux_config->masked_paths, Contains("/proc/kcore"));
  EXPECT_THAT(s.linux_config->readonly_paths, Contains("/proc/sysrq-trigger"));
  ASSERT_TRUE(s.linux_config->resources.has_value());
  EXPECT_FALSE(s.linux_config->resources->devices.at(0).allow);
}

TEST(DefaultSpec, Rootless) {
  Spec s = DefaultSpec(true);
  EXPECT_TRUE(HasNamespace(s, "user"));
  EXPECT_FALSE(HasNamespace(s, "network"));
  const Linux& l = *s.linux_config;
  ASSERT_EQ(l.uid_mappings.size(), 1u);
  EXPECT_EQ(l.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(l.uid_mappings[0].host_id, geteuid());
  EXPECT_EQ(l.uid_mappings[0].size, 1u);
  EXPECT_EQ(l.gid_mappings.at(0).host_id, getegid());
  const Mount& sys = MountAt(s, "/sys");
  EXPECT_EQ(sys.source, "/sys");
  EXPECT_THAT(sys.options, Contains("rbind"));
  EXPECT_THAT(MountAt(s, "/dev/pts").options, Not(Contains("gid=5")));
  EXPECT_FALSE(l.resources.has_value());
}

TEST(DefaultSpec, RoundTripsThroughJson) {
  for (bool rootless : {false, true}) {
    std::string json = SpecToJson(DefaultSpec(rootless));
    auto parsed = ParseSpec(json);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    EXPECT_EQ(SpecToJson(*parsed), json);
  }
}

TEST(FeaturesJson, Document) {
  auto doc = nlohmann::json::parse(FeaturesJson({.annotations = {{"k", "v"}}}));
  EXPECT_EQ(doc["ociVersionMin"], "1.0.0");
  EXPECT_EQ(doc["ociVersionMax"], kOciVersion);
  EXPECT_EQ(doc["hooks"].size(), 6u);
  EXPECT_THAT(doc["mountOptions"].get<std::vector<std::string>>(), Contains("rbind"));
  const auto& lx = doc["linux"];
  EXPECT_EQ(lx["namespaces"].size(), 8u);
  EXPECT_EQ(lx["capabilities"].size(), 41u);
  EXPECT_EQ(lx["capabilities"][40], "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(lx["cgroup"]["v1"], true);
  EXPECT_EQ(lx["cgroup"]["systemd"], false);
  EXPECT_EQ(lx["seccomp"]["enabled"], true);
  EXPECT_THAT(lx["seccomp"]["actions"].get<std::vector<std::string>>(),
              Contains("SCMP_ACT_KILL_PROCESS"));
  EXPECT_THAT(lx["seccomp"]["operators"].get<std::vector<std::string>>(),
              Contains("SCMP_CMP_MASKED_EQ"));
  EXPECT_THAT(lx["seccomp"]["archs"].get<std::vector<std::string>>(), Contains("SCMP_ARCH_X86_64"));
  EXPECT_EQ(lx["apparmor"]["enabled"], false);
  EXPECT_EQ(lx["selinux"]["enabled"], false);
  EXPECT_EQ(doc["annotations"]["k"], "v");
}

}  // namespace
}  // namespace comet::oci
