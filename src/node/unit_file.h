// Pods as systemd service units, in the shape kubelet's rkt runtime (rktnetes) gave them:
// /run/systemd/system/k8s_<uuid>.service with ExecStart=<comet> run-prepared ..., an
// ExecStopPost= marker touched when the pod ends, KillMode=mixed, TimeoutStopSec= from the grace
// period and an [X-Kubernetes] section that a restarted agent reads back to adopt its pods.
// Thread-safe (pure functions and whole-file writes).
#ifndef COMET_NODE_UNIT_FILE_H_
#define COMET_NODE_UNIT_FILE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::node {

// kubelet's rkt runtime never asked for less than 2 s: below that a pod's own systemd (rkt's
// stage1) could not stop its apps before the SIGKILL of KillMode=mixed.
inline constexpr int64_t kMinTimeoutStopSec = 2;
// How much longer than a pod's grace period systemd waits before it SIGKILLs the unit.
inline constexpr int64_t kSupervisorStopMarginSec = 15;

struct PodUnit {
  std::string pod_uuid;  // the comet pod's UUID (canonical, lower case): names the unit
  // ExecStart='s argv; argv[0] is an absolute path. Written quoted and escaped for systemd, so
  // any argument without control characters comes back to the program exactly.
  std::vector<std::string> exec_start;
  std::string stop_post_marker;   // the file ExecStopPost= touches (its mtime: when the pod ended)
  int64_t timeout_stop_sec = 30;  // TimeoutStopSec=; at least kMinTimeoutStopSec when written
  std::string description;        // [Unit] Description=
  std::string syslog_identifier;  // [Service] SyslogIdentifier=
  // [X-Kubernetes]: PodUID, PodName, PodNamespace, PodHostNetwork, PodNetworkNamespace...
  std::map<std::string, std::string> kubernetes;

  bool operator==(const PodUnit&) const = default;
};

// "k8s_<uuid>.service".
std::string UnitName(std::string_view pod_uuid);
// The UUID in a unit name of UnitName's form; nullopt for any other name.
std::optional<std::string> PodUuidFromUnitName(std::string_view unit_name);
// A canonical UUID: 8-4-4-4-12 lower-case hex digits.
bool IsValidPodUuid(std::string_view uuid);

// One argument of an Exec*= line: double-quoted, with '\' and '"' backslash-escaped, '%' as "%%"
// (specifiers) and '$' as "$$" (environment variables). Control characters (a newline would end
// the setting) are rejected.
[[nodiscard]] Result<std::string> QuoteExecArg(std::string_view arg);

// The unit file's text. Rejects what systemd would read differently: a missing or relative
// argv[0], control characters, values with leading or trailing blanks or a trailing backslash
// (a line continuation), [X-Kubernetes] keys that are not [A-Za-z0-9-]+.
[[nodiscard]] Result<std::string> RenderUnit(const PodUnit& unit);

// Reads back what RenderUnit wrote (pod_uuid stays empty: it is in the unit's name). Other
// settings and sections are ignored; ExecStart= is unquoted and unescaped as systemd does.
[[nodiscard]] Result<PodUnit> ParseUnit(std::string_view text);

// Writes `unit` to dir/UnitName(pod_uuid) atomically (a temp file renamed over it; mode 0644).
// systemd sees it after a daemon-reload.
[[nodiscard]] Status WriteUnit(const std::string& dir, const PodUnit& unit);
// Reads dir/UnitName(pod_uuid) (with pod_uuid set).
[[nodiscard]] Result<PodUnit> ReadUnit(const std::string& dir, std::string_view pod_uuid);
// Removes dir/UnitName(pod_uuid); a missing file is fine.
[[nodiscard]] Status RemoveUnit(const std::string& dir, std::string_view pod_uuid);

}  // namespace comet::node

#endif  // COMET_NODE_UNIT_FILE_H_
