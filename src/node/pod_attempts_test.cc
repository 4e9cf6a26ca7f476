// Tests of the agent's observed state: which comet pods are the agent's, their order, the phase
// the agent acts on from the api-service's state and the unit's, how an exited attempt ended.
#include "node/pod_attempts.h"

#include <gtest/gtest.h>

#include "kube/to_comet.h"
#include "pod/app_annotations.h"

namespace comet::node {
namespace {

void Annotate(v1alpha::Pod& pod, const std::string& key, const std::string& value) {
  v1alpha::KeyValue* kv = pod.add_annotations();
  kv->set_key(key);
  kv->set_value(value);
}

v1alpha::Pod MakePod(const std::string& id, const std::string& name, int64_t created,
                     v1alpha::PodState state, const std::string& hash = "h1", int restart = 0) {
  v1alpha::Pod pod;
  pod.set_id(id);
  pod.set_state(state);
  pod.set_created_at(created);
  Annotate(pod, kube::kManagedByAnnotation, "true");
  Annotate(pod, kube::kPodNamespaceAnnotation, "default");
  Annotate(pod, kube::kPodNameAnnotation, name);
  if (!hash.empty()) {
    Annotate(pod, kPodHashAnnotation, hash);
    Annotate(pod, kRestartCountAnnotation, std::to_string(restart));
  }
  return pod;
}

UnitState Unit(const std::string& active, const std::string& invocation = "") {
  UnitState unit;
  unit.load_state = "loaded";
  unit.active_state = active;
  unit.invocation_id = invocation;
  return unit;
}

TEST(GroupAttempts, OnlyTheAgentsPodsOldestFirst) {
  std::vector<v1alpha::Pod> pods = {
      MakePod("b", "web", 20, v1alpha::POD_STATE_RUNNING, "h1", 1),
      MakePod("a", "web", 10, v1alpha::POD_STATE_EXITED, "h1", 0),
      MakePod("c", "db", 5, v1alpha::POD_STATE_RUNNING),
      MakePod("d", "byhand", 5, v1alpha::POD_STATE_RUNNING, /*hash=*/""),
  };
  auto groups = GroupAttempts(pods);
  ASSERT_EQ(groups.size(), 2u);
  ASSERT_EQ(groups["default/web"].size(), 2u);
  EXPECT_EQ(groups["default/web"][0].uuid(), "a");
  EXPECT_EQ(groups["default/web"][1].uuid(), "b");
  EXPECT_EQ(groups["default/web"][1].restart_count, 1);
  EXPECT_EQ(groups["default/web"][1].hash, "h1");
  EXPECT_FALSE(groups.contains("default/byhand"));
}

TEST(PhaseOf, FromTheApiAndTheUnit) {
  const v1alpha::Pod running = MakePod("a", "web", 1, v1alpha::POD_STATE_RUNNING);
  const v1alpha::Pod exited = MakePod("a", "web", 1, v1alpha::POD_STATE_EXITED);
  const v1alpha::Pod prepared = MakePod("a", "web", 1, v1alpha::POD_STATE_PREPARED);
  EXPECT_EQ(PhaseOf(running, std::nullopt), AttemptPhase::kRunning);
  EXPECT_EQ(PhaseOf(running, Unit("inactive", "x")), AttemptPhase::kRunning);
  EXPECT_EQ(PhaseOf(exited, Unit("active", "x")), AttemptPhase::kExited);
  EXPECT_EQ(PhaseOf(prepared, std::nullopt), AttemptPhase::kPrepared);
  UnitState missing = Unit("inactive");
  missing.load_state = "not-found";
  EXPECT_EQ(PhaseOf(prepared, missing), AttemptPhase::kPrepared);
  EXPECT_EQ(PhaseOf(prepared, Unit("inactive")), AttemptPhase::kPrepared);
  EXPECT_EQ(PhaseOf(prepared, Unit("activating", "x")), AttemptPhase::kStarting);
  EXPECT_EQ(PhaseOf(prepared, Unit("active", "x")), AttemptPhase::kStarting);
  EXPECT_EQ(PhaseOf(prepared, Unit("failed", "x")), AttemptPhase::kExited);
  EXPECT_EQ(PhaseOf(MakePod("a", "web", 1, v1alpha::POD_STATE_EMBRYO), std::nullopt),
            AttemptPhase::kUnknown);
}

TEST(AppEnds, AndTheirDescription) {
  Attempt attempt;
  attempt.pod = MakePod("a", "web", 1, v1alpha::POD_STATE_EXITED);
  v1alpha::App* web = attempt.pod.add_apps();
  web->set_name("web");
  web->set_state(v1alpha::APP_STATE_EXITED);
  web->set_exit_code(1);
  v1alpha::App* side = attempt.pod.add_apps();
  side->set_name("side");
  side->set_state(v1alpha::APP_STATE_UNDEFINED);
  const std::vector<AppEnd> ends = AppEnds(attempt.pod);
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_TRUE(ends[0].exited);
  EXPECT_EQ(ends[0].exit_code, 1);
  EXPECT_FALSE(ends[1].exited);
  attempt.unit = Unit("failed", "x");
  attempt.unit->result = "exit-code";
  EXPECT_EQ(DescribeExit(attempt), "web: exit 1, side: not started; unit result exit-code");
}

TEST(AppRunOf, RunningAndSince) {
  v1alpha::Pod pod = MakePod("a", "web", 1, v1alpha::POD_STATE_RUNNING);
  v1alpha::App* app = pod.add_apps();
  app->set_name("web");
  app->set_state(v1alpha::APP_STATE_RUNNING);
  v1alpha::KeyValue* started = app->add_annotations();
  started->set_key(pod::kAppStartedAtAnnotation);
  started->set_value("2026-01-02T03:04:05.5Z");
  const AppRun run = AppRunOf(pod, "web");
  EXPECT_TRUE(run.running);
  EXPECT_EQ(run.started_at_ns, 1767323045500000000);
  EXPECT_FALSE(AppRunOf(pod, "other").running);
}

TEST(RanFor, FromTheStartToTheUnitsEnd) {
  Attempt attempt;
  attempt.pod.set_started_at(1'000'000'000);
  EXPECT_EQ(RanFor(attempt, 3'000'000'000).count(), 2000);
  attempt.unit = Unit("inactive", "x");
  attempt.unit->inactive_enter = std::chrono::system_clock::time_point(std::chrono::seconds(2));
  EXPECT_EQ(RanFor(attempt, 9'000'000'000).count(), 1000);
  attempt.pod.set_started_at(0);
  EXPECT_EQ(RanFor(attempt, 9'000'000'000).count(), 0);
}

}  // namespace
}  // namespace comet::node
