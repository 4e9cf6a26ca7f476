// The annotations of one v1alpha.App: the app's own, from its manifest, plus comet's extension
// (pod/app_annotations.h) from its status file — restarts, reason, message, times, the
// supervisor's state word, init — which rkt's App message has no field for. Thread-safe (pure).
#ifndef COMET_API_APP_ANNOTATIONS_H_
#define COMET_API_APP_ANNOTATIONS_H_

#include <map>
#include <string>

#include "pod/manifest.h"
#include "pod/pod_dir.h"

namespace comet::api {

// Sorted by key. `status` is null when the app has no status file (never started): then only
// what the manifest knows (init) is added. An extension name the app's own annotations also use
// carries the status's value: the supervisor's word is the one a client must be able to trust.
[[nodiscard]] std::map<std::string, std::string> AppAnnotations(const pod::App& app,
                                                                const pod::AppStatus* status);

}  // namespace comet::api

#endif  // COMET_API_APP_ANNOTATIONS_H_
