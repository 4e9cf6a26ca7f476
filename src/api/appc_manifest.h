// appc-shaped manifests for rkt's v1alpha API. rkt filled Pod.manifest and Image.manifest with
// appc's PodManifest and ImageManifest JSON (appc spec 0.8.11), and its clients decode them with
// appc's Go schema: the kubelet's rkt runtime reads the Kubernetes annotations of every pod from
// Pod.manifest and the entrypoint, user and env of every image from Image.manifest. These
// functions render comet's pod manifest and OCI images in that shape, always as valid JSON that
// the schema accepts, whatever the input holds. Thread-safe (pure functions).
#ifndef COMET_API_APPC_MANIFEST_H_
#define COMET_API_APPC_MANIFEST_H_

#include <map>
#include <string>
#include <string_view>

#include "api/image_name.h"
#include "image/manifest.h"
#include "pod/manifest.h"

namespace comet::api {

// acVersion of every manifest: the last appc release, the one rkt 1.x wrote.
inline constexpr const char* kAppcVersion = "0.8.11";

// Annotation of an app carrying its image's id when that id is not an appc Image ID
// ("sha512-<hex>"): comet's ids are OCI digests ("sha256:<hex>"), which appc's schema refuses in
// `image.id`, so `image.id` is left out there (the schema does not require it) and the id goes
// here, verbatim, as in the v1alpha App.image.id.
inline constexpr const char* kAppcImageIdAnnotation = "comet.dev/image-id";
// rkt's pod annotation for a mutable pod (`app sandbox`).
inline constexpr const char* kAppcMutableAnnotation = "coreos.com/rkt/stage1/mutable";

// An AC Name ([a-z0-9] runs joined by single '-'), as appc's SanitizeACName makes one: lower
// case, every other character (a whole UTF-8 sequence, or one bad byte) '-', runs of '-'
// squeezed, none at the ends. Empty when nothing is left.
[[nodiscard]] std::string SanitizeAcName(std::string_view text);
// An AC Identifier ([a-z0-9] with "-._~/" inside), as appc's SanitizeACIdentifier: lower case,
// every other character '_', separators trimmed at both ends. A name the schema accepts
// (Kubernetes' "rkt.kubernetes.io/managed-by-kubelet") comes back unchanged. Empty when nothing
// is left.
[[nodiscard]] std::string SanitizeAcIdentifier(std::string_view text);

// The appc PodManifest of a comet pod: apps in the manifest's order (so that apps[i] is the
// v1alpha Pod.apps[i], which is how the kubelet pairs them), each with its image (name, version
// label), the resolved app (exec, user, group, env, working directory, mount points, isolators
// for its resources and capabilities), read-only rootfs, mounts and annotations; the volumes;
// the pod's annotations. Names are made AC Names (unique, suffixed "-2", "-3"... on collision);
// an annotation whose name is not an AC Identifier appears sanitized and, under its own name,
// in `userAnnotations`, so that none is lost.
[[nodiscard]] std::string AppcPodManifest(const pod::PodManifest& manifest);

// The appc ImageManifest of an OCI image as the v1alpha API lists it: `name` is `image.name`
// sanitized (the id when nameless), labels version (the tag), os and arch (appc's names:
// arm64 -> aarch64), the app from the config (exec = entrypoint + cmd, user/group as docker2aci
// split "user:group", env, working directory, mount points for its volumes, ports for its
// exposed ports, its labels as userLabels), and annotations: the manifest's, plus docker2aci's
// appc.io/docker/{entrypoint,cmd,registryurl,repository}, created and author.
[[nodiscard]] std::string AppcImageManifest(const ImageName& image, std::string_view id,
                                            const image::ImageConfig& config,
                                            const std::map<std::string, std::string>& annotations);

}  // namespace comet::api

#endif  // COMET_API_APPC_MANIFEST_H_
