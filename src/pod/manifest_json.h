// The JSON form of one app of a pod manifest, shared by the manifest file (manifest.cc) and the
// control socket's `app add` request (control_json.cc), so that both speak one format. Internal
// to the pod layer. Thread-safe (pure functions).
#ifndef COMET_POD_MANIFEST_JSON_H_
#define COMET_POD_MANIFEST_JSON_H_

#include "base/result.h"
#include "pod/json_fields.h"
#include "pod/manifest.h"

namespace comet::pod::internal {

[[nodiscard]] OrderedJson AppToJsonValue(const App& app);
// Reads the members of an app object (type checks only; ValidateManifest checks values).
[[nodiscard]] Status ParseAppValue(const ObjectReader& reader, App* app);

}  // namespace comet::pod::internal

#endif  // COMET_POD_MANIFEST_JSON_H_
