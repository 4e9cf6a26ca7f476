// What the pod commands share: opening the pods directory, resolving UUID arguments, reading a
// pod's manifest and status files into the views pod_format.h prints, and choosing an app.
// Nothing here takes a pod lock. Not thread-safe (PodStore handles are, the rest is per call).
#ifndef COMET_CLI_POD_ACCESS_H_
#define COMET_CLI_POD_ACCESS_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "cli/comet_command_line.h"
#include "cli/pod_format.h"
#include "pod/manifest.h"
#include "pod/pod_store.h"

namespace comet::cli {

// <data dir>/pods, opened (created when missing).
[[nodiscard]] Result<pod::PodStore> OpenPodStore(const CometGlobalFlags& global);

// The pods named by the UUID arguments (full or unique prefixes) and --uuid-file, in order.
[[nodiscard]] Result<std::vector<pod::PodEntry>> ResolvePods(const pod::PodStore& store,
                                                             const PodFlags& flags);
[[nodiscard]] Result<pod::PodEntry> ResolvePod(const pod::PodStore& store, const PodFlags& flags);

// The manifest of a listed pod, looked up again if the pod moved to another phase meanwhile.
[[nodiscard]] Result<pod::PodManifest> ReadPodManifest(const pod::PodStore& store,
                                                       pod::PodEntry& entry);

// The state word of an entry: pod::PodStateName, "exited garbage" for a marked exited pod.
std::string PodStateWord(const pod::PodEntry& entry);

// A pod as listed: state from the entry, apps from the manifest (none while it is being
// created), times and pid from supervisor.json / pid, app states from their status files.
PodView ReadPodView(const pod::PodStore& store, pod::PodEntry entry);
PodAppView ReadAppView(const std::string& pod_dir, const pod::App& app);

// The app `requested` names (an error when the pod has none such), or with `requested` empty
// the pod's only app (init containers not counted); an error listing the apps otherwise.
[[nodiscard]] Result<std::string> ChooseApp(const pod::PodManifest& manifest,
                                            const std::string& requested);

// An error unless the pod is running: "pod <uuid> is not running (state: exited)".
[[nodiscard]] Status CheckRunning(const pod::PodEntry& entry);

// Writes to stdout.
[[nodiscard]] Status PrintOut(std::string_view text);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_ACCESS_H_
