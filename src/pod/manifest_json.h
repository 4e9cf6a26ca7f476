// The JSON form of one app of a pod manifest, shared by the manifest file (manifest.cc) and the
// control socket's `app add` request (control_json.cc), so that both speak one format; and the
// manifest's network fields (manifest_net.cc). Internal to the pod layer. Thread-safe (pure
// functions).
#ifndef COMET_POD_MANIFEST_JSON_H_
#define COMET_POD_MANIFEST_JSON_H_

#include "base/result.h"
#include "pod/json_fields.h"
#include "pod/manifest.h"

namespace comet::pod::internal {

[[nodiscard]] OrderedJson AppToJsonValue(const App& app);
// Reads the members of an app object (type checks only; ValidateManifest checks values).
[[nodiscard]] Status ParseAppValue(const ObjectReader& reader, App* app);

// The network members of a pod object: net, networks, netns, ports, hosts_entries.
void AddNetFields(const PodManifest& manifest, OrderedJson& out);
[[nodiscard]] Status ParseNetFields(const ObjectReader& reader, PodManifest* manifest);
// The network fields' values (manifest_net.cc); errors name the field.
[[nodiscard]] Status ValidateNetFields(const PodManifest& manifest);

// An app's device members (manifest_devices.cc): cdi_devices, devices, bind_mounts, hooks, each
// written only when not empty (so manifests without devices keep their bytes).
void AddDeviceFields(const App& app, OrderedJson& out);
[[nodiscard]] Status ParseDeviceFields(const ObjectReader& reader, App* app);
// Their values; `path` is the app's ("apps[1]"); errors name the field.
[[nodiscard]] Status ValidateDeviceFields(const App& app, const std::string& path);

// Shared by the validators (manifest_validate.cc).
[[nodiscard]] bool IsHostname(std::string_view name);
[[nodiscard]] bool IsIpAddress(const std::string& text);
[[nodiscard]] bool HasControlChars(std::string_view text);
// "/a/b": absolute, no "." or ".." component, no NUL or other control bytes.
[[nodiscard]] bool IsCleanAbsolutePath(std::string_view path);
// Relative, no "." or ".." component, no control characters ("a/b", "a//b" allowed).
[[nodiscard]] bool IsCleanRelativePath(std::string_view path);

}  // namespace comet::pod::internal

#endif  // COMET_POD_MANIFEST_JSON_H_
