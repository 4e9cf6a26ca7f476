// Tests of the securityContext conversion (security_convert.cc) through ToPodDraft: users and
// groups, capabilities, privileged, seccomp.
#include "kube/security_convert.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "kube/to_comet_test_fixture.h"

namespace comet::kube {
namespace {

using fixture::MakeContainer;
using fixture::MakePod;
using fixture::Profile;
using fixture::Strings;
using fixture::ToPodDraftTest;

TEST_F(ToPodDraftTest, UsersAndGroups) {
  Pod pod = MakePod();
  pod.spec.security_context = PodSecurityContext{};
  pod.spec.security_context->run_as_user = 1000;
  pod.spec.security_context->run_as_group = 3000;
  pod.spec.security_context->supplemental_groups = {4000, 5000};
  pod.spec.security_context->fs_group = 2000;
  pod.spec.security_context->run_as_non_root = true;
  pod.spec.containers.push_back(MakeContainer("other"));
  pod.spec.containers[1].security_context = SecurityContext{};
  pod.spec.containers[1].security_context->run_as_user = 1001;
  PodDraft draft = ConvertOk(pod);
  EXPECT_EQ(draft.containers[0].user, "1000");
  EXPECT_EQ(draft.containers[0].group, "3000");
  EXPECT_TRUE(draft.containers[0].run_as_non_root);
  EXPECT_EQ(draft.containers[0].app.supplementary_gids, (std::vector<uint32_t>{4000, 5000, 2000}));
  EXPECT_EQ(draft.containers[1].user, "1001");
  EXPECT_EQ(draft.containers[1].group, "3000");

  pod.spec.containers[1].security_context->run_as_user = 0;
  EXPECT_EQ(ConvertError(pod),
            "spec.containers[1].securityContext.runAsUser: 0 (root) but runAsNonRoot is true");
  pod.spec.containers[1].security_context->run_as_user.reset();
  pod.spec.security_context->run_as_user = 0;
  EXPECT_EQ(ConvertError(pod), "spec.securityContext.runAsUser: 0 (root) but runAsNonRoot is true");
  // Without a user, stage0 checks the image's.
  pod.spec.security_context->run_as_user.reset();
  draft = ConvertOk(pod);
  EXPECT_FALSE(draft.containers[0].user);
  EXPECT_TRUE(draft.containers[0].run_as_non_root);

  pod.spec.security_context->supplemental_groups = {-1};
  EXPECT_EQ(ConvertError(pod), "spec.securityContext.supplementalGroups[0]: -1 is not a valid id");
}

TEST_F(ToPodDraftTest, Capabilities) {
  auto caps = [&](Strings add, Strings drop) {
    Pod pod = MakePod();
    pod.spec.containers[0].security_context = SecurityContext{};
    pod.spec.containers[0].security_context->capabilities =
        Capabilities{.add = std::move(add), .drop = std::move(drop)};
    PodDraft draft = ConvertOk(pod);
    return std::make_pair(draft.containers[0].app.caps_retain, draft.containers[0].app.caps_remove);
  };
  const Strings& defaults = CometDefaultCapabilities();
  EXPECT_EQ(defaults, (Strings{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
                               "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
                               "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}));

  // add: the defaults plus the added.
  auto [retain, remove] = caps({"NET_ADMIN", "cap_sys_time", "CHOWN"}, {});
  Strings want = defaults;
  want.emplace_back("CAP_NET_ADMIN");
  want.emplace_back("CAP_SYS_TIME");
  EXPECT_EQ(retain, want);
  EXPECT_TRUE(remove.empty());

  // drop only: removed from the defaults.
  std::tie(retain, remove) = caps({}, {"KILL", "CAP_SETUID", "NET_RAW"});
  EXPECT_TRUE(retain.empty());
  EXPECT_EQ(remove, (Strings{"CAP_KILL", "CAP_SETUID"}));

  // drop ALL: none left.
  std::tie(retain, remove) = caps({}, {"ALL"});
  EXPECT_TRUE(retain.empty());
  EXPECT_EQ(remove, defaults);

  // drop ALL, add some: only those.
  std::tie(retain, remove) = caps({"NET_BIND_SERVICE", "NET_ADMIN"}, {"ALL"});
  EXPECT_EQ(retain, (Strings{"CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN"}));
  EXPECT_TRUE(remove.empty());
  std::tie(retain, remove) = caps({"NET_BIND_SERVICE"}, {"all"});
  EXPECT_TRUE(retain.empty());
  EXPECT_EQ(remove.size(), defaults.size() - 1);

  // A drop wins over an add of the same capability.
  std::tie(retain, remove) = caps({"NET_ADMIN"}, {"NET_ADMIN"});
  EXPECT_TRUE(retain.empty());
  EXPECT_TRUE(remove.empty());

  // add ALL: every capability.
  std::tie(retain, remove) = caps({"ALL"}, {"SYS_ADMIN"});
  EXPECT_GT(retain.size(), 38u);
  EXPECT_EQ(std::count(retain.begin(), retain.end(), "CAP_SYS_ADMIN"), 0);
  EXPECT_EQ(std::count(retain.begin(), retain.end(), "CAP_BPF"), 1);

  Pod pod = MakePod();
  pod.spec.containers[0].security_context = SecurityContext{};
  pod.spec.containers[0].security_context->capabilities =
      Capabilities{.add = {"NET_ADMIN", "FLY"}, .drop = {}};
  EXPECT_EQ(ConvertError(pod),
            "spec.containers[0].securityContext.capabilities.add[1]: unknown capability \"FLY\"");
}

TEST_F(ToPodDraftTest, PrivilegedAndOtherFlags) {
  Pod pod = MakePod();
  SecurityContext sc;
  sc.privileged = true;
  sc.capabilities = Capabilities{.add = {}, .drop = {"ALL"}};  // privileged wins
  sc.read_only_root_filesystem = true;
  sc.allow_privilege_escalation = false;
  pod.spec.containers[0].security_context = sc;
  PodDraft draft = ConvertOk(pod);
  const pod::App& app = draft.containers[0].app;
  EXPECT_EQ(app.caps_retain.size(), 41u);
  EXPECT_EQ(app.caps_retain.front(), "CAP_CHOWN");
  EXPECT_TRUE(app.caps_remove.empty());
  EXPECT_EQ(app.annotations.at(kPrivilegedAnnotation), "true");
  EXPECT_EQ(app.annotations.at(kNoNewPrivilegesAnnotation), "true");
  EXPECT_TRUE(app.read_only_rootfs);

  pod.spec.containers[0].security_context = SecurityContext{};
  pod.spec.containers[0].security_context->allow_privilege_escalation = true;
  draft = ConvertOk(pod);
  EXPECT_EQ(draft.containers[0].app.annotations.count(kPrivilegedAnnotation), 0u);
  EXPECT_FALSE(draft.containers[0].app.read_only_rootfs);
  EXPECT_TRUE(std::any_of(draft.warnings.begin(), draft.warnings.end(), [](const std::string& w) {
    return w.rfind("spec.containers[0].securityContext.allowPrivilegeEscalation: ", 0) == 0;
  }));
}

TEST_F(ToPodDraftTest, Seccomp) {
  Pod pod = MakePod();
  pod.spec.containers.push_back(MakeContainer("other"));
  pod.spec.security_context = PodSecurityContext{};
  pod.spec.security_context->seccomp_profile = Profile("Unconfined");
  PodDraft draft = ConvertOk(pod);
  EXPECT_EQ(draft.pod.annotations[pod::kSeccompAnnotation], pod::kSeccompUnconfined);
  EXPECT_TRUE(draft.warnings.empty());

  // One container back to the default: the pod-wide setting stays unconfined, with a warning.
  pod.spec.containers[1].security_context = SecurityContext{};
  pod.spec.containers[1].security_context->seccomp_profile = Profile("RuntimeDefault");
  draft = ConvertOk(pod);
  EXPECT_EQ(draft.pod.annotations[pod::kSeccompAnnotation], pod::kSeccompUnconfined);
  ASSERT_EQ(draft.warnings.size(), 1u);
  EXPECT_EQ(draft.warnings.back().rfind("seccompProfile: Unconfined for some containers only", 0),
            0u);

  pod.spec.security_context->seccomp_profile = Profile("Localhost", "my.json");
  pod.spec.containers[1].security_context.reset();
  draft = ConvertOk(pod);
  EXPECT_EQ(draft.pod.annotations.count(pod::kSeccompAnnotation), 0u);
  // One warning for both containers.
  EXPECT_EQ(std::count(draft.warnings.begin(), draft.warnings.end(),
                       "spec.securityContext.seccompProfile: type Localhost: not supported, "
                       "using the runtime default profile"),
            1);
}

TEST_F(ToPodDraftTest, SysctlsAreWarnedAbout) {
  Pod pod = MakePod();
  pod.spec.security_context = PodSecurityContext{};
  pod.spec.security_context->sysctls = {{"net.core.somaxconn", "1024"}};
  PodDraft draft = ConvertOk(pod);
  EXPECT_EQ(std::count(draft.warnings.begin(), draft.warnings.end(),
                       "spec.securityContext.sysctls: not supported yet, ignored"),
            1);
}

}  // namespace
}  // namespace comet::kube
