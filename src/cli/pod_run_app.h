// Stage0's image side: finding or pulling the image of each app (per --pull-policy) and turning
// an image config plus the app's flags into a resolved pod::App (argv, env, user, working dir),
// as pod-design.md specifies. Not thread-safe (pulls print progress on stderr).
#ifndef COMET_CLI_POD_RUN_APP_H_
#define COMET_CLI_POD_RUN_APP_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "cli/pod_run_flags.h"
#include "image/manifest.h"
#include "image/store.h"
#include "pod/manifest.h"

namespace comet::cli {

// PATH given to apps whose image sets none (docker's default).
inline constexpr const char* kDefaultPathEnv =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// An image found in (or pulled into) the store, with the documents stage0 needs.
struct ResolvedImage {
  image::ImageRecord record;
  image::Manifest manifest;
  image::ImageConfig config;
  // What the pod's lease must hold: manifest, config and layer blobs, and the diff IDs.
  [[nodiscard]] std::vector<image::Digest> LeaseDigests() const;
};

// Finds `what` (a reference or image ID) in the store, pulling registry references as `policy`
// says. Errors name the image.
[[nodiscard]] Result<ResolvedImage> ResolveImage(image::Store& store, const std::string& what,
                                                 PullPolicy policy, bool quiet);

// The env of --set-env-file files then --set-env values (KEY=VALUE, later wins).
[[nodiscard]] Result<std::vector<std::string>> LoadPodEnv(const PodRunOptions& options);

// The app's default name: the last path component of the image's repository.
[[nodiscard]] Result<std::string> DefaultAppName(const std::string& what,
                                                 const image::ImageRecord& record,
                                                 const image::ReferenceOptions& options);

// Builds the app: flags over the image config (exec, env, user/group, working dir), pod-wide
// env and mounts added. `name` is the app's final name.
[[nodiscard]] Result<pod::App> BuildApp(const AppFlags& flags, const std::string& name,
                                        const ResolvedImage& image,
                                        const std::vector<std::string>& pod_env,
                                        const std::vector<pod::MountPoint>& pod_mounts);

// Merges KEY=VALUE lists: later entries replace earlier ones with the same key in place.
void MergeEnv(std::vector<std::string>& env, const std::vector<std::string>& more);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_RUN_APP_H_
