// Tests of AppAnnotations: the status file's facts as comet.dev/ app annotations, only when known.
#include "api/app_annotations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pod/app_annotations.h"

namespace comet::api {
namespace {

using Map = std::map<std::string, std::string>;

pod::App App(bool init = false) {
  pod::App app;
  app.name = "web";
  app.init = init;
  app.annotations = {{"io.kubernetes.container.name", "web"}};
  return app;
}

TEST(AppAnnotations, NeverStartedAppKeepsItsOwnOnly) {
  EXPECT_EQ(AppAnnotations(App(), nullptr), (Map{{"io.kubernetes.container.name", "web"}}));
  EXPECT_EQ(AppAnnotations(App(/*init=*/true), nullptr),
            (Map{{"comet.dev/init", "true"}, {"io.kubernetes.container.name", "web"}}));
}

TEST(AppAnnotations, RunningAppAfterTwoRestarts) {
  pod::AppStatus status;
  status.state = pod::AppState::kRunning;
  status.restarts = 2;
  status.exit_code = 1;
  status.started = "2026-11-29T10:00:09.5Z";
  status.attempts = {{"2026-11-29T10:00:00Z", "2026-11-29T10:00:01Z", 1},
                     {"2026-11-29T10:00:03Z", "2026-11-29T10:00:04.25Z", 137},
                     {"2026-11-29T10:00:09.5Z", "", -1}};
  EXPECT_EQ(AppAnnotations(App(), &status),
            (Map{{"comet.dev/previous-exit-code", "137"},
                 {"comet.dev/previous-finished-at", "2026-11-29T10:00:04.25Z"},
                 {"comet.dev/previous-started-at", "2026-11-29T10:00:03Z"},
                 {"comet.dev/restarts", "2"},
                 {"comet.dev/started-at", "2026-11-29T10:00:09.5Z"},
                 {"comet.dev/state", "running"},
                 {"io.kubernetes.container.name", "web"}}));
}

TEST(AppAnnotations, BackOffAndExitedInit) {
  pod::AppStatus status;
  status.state = pod::AppState::kBackOff;
  status.exit_code = 1;
  status.reason = "Error";
  status.message = "back-off 10000 ms restarting the app";
  status.started = "2026-11-29T10:00:00Z";
  status.finished = "2026-11-29T10:00:01Z";
  status.attempts = {{status.started, status.finished, 1}};
  Map out = AppAnnotations(App(), &status);
  EXPECT_EQ(out["comet.dev/state"], "backoff");
  EXPECT_EQ(out["comet.dev/restarts"], "0");
  EXPECT_EQ(out["comet.dev/reason"], "Error");
  EXPECT_EQ(out["comet.dev/message"], "back-off 10000 ms restarting the app");
  EXPECT_EQ(out["comet.dev/finished-at"], "2026-11-29T10:00:01Z");
  EXPECT_FALSE(out.contains("comet.dev/previous-exit-code"));  // no run before the last
  EXPECT_FALSE(out.contains("comet.dev/init"));

  status.state = pod::AppState::kExited;
  status.reason = "Completed";
  status.message.clear();
  out = AppAnnotations(App(/*init=*/true), &status);
  EXPECT_EQ(out["comet.dev/state"], "exited");
  EXPECT_EQ(out["comet.dev/reason"], "Completed");
  EXPECT_EQ(out["comet.dev/init"], "true");
  EXPECT_FALSE(out.contains("comet.dev/message"));
}

TEST(AppAnnotations, TheStatusWinsOverTheAppsOwnNames) {
  pod::App app = App();
  app.annotations["comet.dev/restarts"] = "99";
  app.annotations["comet.dev/reason"] = "Forged";
  app.annotations["comet.dev/init"] = "true";
  pod::AppStatus status;
  status.state = pod::AppState::kRunning;
  status.started = "2026-11-29T10:00:00Z";
  Map out = AppAnnotations(app, &status);
  EXPECT_EQ(out["comet.dev/restarts"], "0");
  EXPECT_FALSE(out.contains("comet.dev/reason"));
  EXPECT_FALSE(out.contains("comet.dev/init"));
  out = AppAnnotations(app, nullptr);
  EXPECT_FALSE(out.contains("comet.dev/restarts"));
}

}  // namespace
}  // namespace comet::api
