// The app annotations the api-service adds to each v1alpha.App (comet's extension of rkt's API,
// docs/api-service.md "App annotations"): what an app's status file (pod_dir.h AppStatus) and
// manifest say that the App message has no field for. The api layer writes them, the node agent
// reads them; both sit on the same rank, so the names live here, below both. Constants only.
#ifndef COMET_POD_APP_ANNOTATIONS_H_
#define COMET_POD_APP_ANNOTATIONS_H_

namespace comet::pod {

// "true" for an init container (App::init); absent otherwise.
inline constexpr const char* kAppInitAnnotation = "comet.dev/init";
// The rest only once the app has a status file (it was started at least once).
// The supervisor's own state word (AppStateName: created, running, backoff, exited, removed).
inline constexpr const char* kAppStateAnnotation = "comet.dev/state";
// Restarts so far, decimal ("0" before the first).
inline constexpr const char* kAppRestartsAnnotation = "comet.dev/restarts";
// Why the last run ended or did not start: Completed, Error, OOMKilled, Signaled, StartError,
// BackOff; absent while it runs.
inline constexpr const char* kAppReasonAnnotation = "comet.dev/reason";
inline constexpr const char* kAppMessageAnnotation = "comet.dev/message";
// The last run's start and end, RFC 3339 as in the status file (finished-at absent while it runs).
inline constexpr const char* kAppStartedAtAnnotation = "comet.dev/started-at";
inline constexpr const char* kAppFinishedAtAnnotation = "comet.dev/finished-at";
// The run before the last one (Kubernetes' "Last State" of a restarted container), from the
// status file's attempts: exit code (decimal) and times, when there was one that ended.
inline constexpr const char* kAppPreviousExitCodeAnnotation = "comet.dev/previous-exit-code";
inline constexpr const char* kAppPreviousStartedAtAnnotation = "comet.dev/previous-started-at";
inline constexpr const char* kAppPreviousFinishedAtAnnotation = "comet.dev/previous-finished-at";

}  // namespace comet::pod

#endif  // COMET_POD_APP_ANNOTATIONS_H_
