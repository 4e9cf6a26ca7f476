// ShouldRestartPod (see restart_policy.h).
#include "node/restart_policy.h"

#include <algorithm>

namespace comet::node {

bool ShouldRestartPod(std::string_view restart_policy, const std::vector<AppEnd>& apps) {
  if (restart_policy == "Always") {
    return true;
  }
  if (restart_policy == "OnFailure") {
    return !std::all_of(apps.begin(), apps.end(),
                        [](const AppEnd& app) { return app.exited && app.exit_code == 0; });
  }
  return false;
}

}  // namespace comet::node
