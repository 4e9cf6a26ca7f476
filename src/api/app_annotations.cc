// AppAnnotations (see app_annotations.h).
#include "api/app_annotations.h"

#include "pod/app_annotations.h"

namespace comet::api {

std::map<std::string, std::string> AppAnnotations(const pod::App& app,
                                                  const pod::AppStatus* status) {
  std::map<std::string, std::string> out = app.annotations;
  // Every extension name is set or erased, so that an app's own annotation of that name never
  // passes for what the manifest or the status says.
  auto put = [&out](const char* key, const std::string& value) {
    if (value.empty()) {
      out.erase(key);
    } else {
      out[key] = value;
    }
  };
  put(pod::kAppInitAnnotation, app.init ? "true" : "");
  const pod::AppStatus none;
  const pod::AppStatus& s = status != nullptr ? *status : none;
  const bool known = status != nullptr;
  put(pod::kAppStateAnnotation, known ? std::string(pod::AppStateName(s.state)) : "");
  put(pod::kAppRestartsAnnotation, known ? std::to_string(s.restarts) : "");
  put(pod::kAppReasonAnnotation, s.reason);
  put(pod::kAppMessageAnnotation, s.message);
  put(pod::kAppStartedAtAnnotation, s.started);
  put(pod::kAppFinishedAtAnnotation, s.finished);
  // attempts.back() is the run `started` describes (the supervisor appends one per start); the
  // one before it, if it ended, is the previous run.
  const pod::AppAttempt* previous =
      s.attempts.size() >= 2 ? &s.attempts[s.attempts.size() - 2] : nullptr;
  const bool ended = previous != nullptr && !previous->finished.empty() && previous->exit_code >= 0;
  put(pod::kAppPreviousExitCodeAnnotation, ended ? std::to_string(previous->exit_code) : "");
  put(pod::kAppPreviousStartedAtAnnotation, ended ? previous->started : "");
  put(pod::kAppPreviousFinishedAtAnnotation, ended ? previous->finished : "");
  return out;
}

}  // namespace comet::api
