// Seeding an empty volume with the files stage0 wrote for it (pod::Volume::seed: Kubernetes
// configMap and secret volumes), before any app starts. Copies go through directory fds with
// O_NOFOLLOW, so a symlink an app left in a volume that outlived a restart cannot redirect them.
// Not thread-safe.
#ifndef COMET_SUPERVISOR_VOLUME_SEED_H_
#define COMET_SUPERVISOR_VOLUME_SEED_H_

#include <string>

#include "base/result.h"

namespace comet::supervisor {

// Copies the tree under `seed_dir` into `volume_dir` (regular files and directories, their
// modes kept, owned by uid:gid), replacing files of the same name. At most kMaxSeedEntries
// entries and kMaxSeedDepth levels.
[[nodiscard]] Status SeedVolume(const std::string& seed_dir, const std::string& volume_dir,
                                uint32_t uid, uint32_t gid);

inline constexpr int kMaxSeedEntries = 10000;
inline constexpr int kMaxSeedDepth = 32;

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_VOLUME_SEED_H_
