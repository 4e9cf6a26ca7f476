// Output of the pod commands: `comet list` (rkt's table, JSON), `status` (rkt's key=value lines,
// JSON), `app list` and `app status`. Works on plain views that pod_commands.cc fills from the
// pod directories, so the formats are testable without pods. Pure functions, thread-safe.
#ifndef COMET_CLI_POD_FORMAT_H_
#define COMET_CLI_POD_FORMAT_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "pod/pod_networks.h"

namespace comet::cli {

// One app of a pod as the listings show it.
struct PodAppView {
  std::string name;
  std::string image;             // the reference the user gave
  std::string image_id;          // the image's config digest (`comet image list`'s ID)
  std::string state;             // pod::AppStateName; "created" when the app has no status file yet
  std::optional<int> exit_code;  // of the last run, once it exited
  pid_t pid = 0;
  std::string created;  // RFC 3339 (may be empty)
  std::string started;
  std::string finished;
  int restarts = 0;
  std::string reason;
  std::string message;
};

struct PodView {
  std::string uuid;
  std::string name;     // --pod-name (may be empty)
  std::string state;    // pod::PodStateName, "exited garbage" for a marked exited pod
  std::string created;  // RFC 3339 (empty when unknown)
  std::string started;  // RFC 3339 (empty when never started)
  pid_t pid = 0;        // the supervisor's, when known
  bool exited = false;  // the pod ran and its supervisor is gone
  std::vector<PodAppView> apps;
  // The contained networks of a running pod (pod_networks.h); empty for the other modes.
  std::vector<pod::PodNetworkAddress> networks;
};

struct PodListOptions {
  bool full = false;       // whole UUIDs and image IDs, absolute times
  bool no_legend = false;  // no header line
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// rkt's columns UUID APP IMAGE NAME IMAGE ID STATE CREATED STARTED NETWORKS: one row per app,
// the pod's own cells on its first row only; a pod without apps gets one row with APP "-".
std::string FormatPodTable(const std::vector<PodView>& pods, const PodListOptions& options);
// A JSON array of {uuid, name, state, created, started, apps: [{name, image, image_id, state,
// exit_code}], networks: [{name, ip4, ip6}]}; exit_code is null until the app exited.
std::string FormatPodListJson(const std::vector<PodView>& pods, bool pretty);

// rkt's `status` lines: state=, created=, started=, networks= (rkt's "NAME:ip4=IP", comma
// separated; only while the pod has networks), pid=, exited=, then app-<name>=<exit code>
// for each app that exited. Times and pid are empty / absent when unknown (rkt's behaviour).
std::string FormatPodStatus(const PodView& pod);
// One pod as a JSON object: the list fields plus pid and exited.
std::string FormatPodStatusJson(const PodView& pod, bool pretty);

// `app list`: NAME STATE IMAGE NAME IMAGE ID CREATED STARTED EXIT CODE.
std::string FormatAppTable(const std::vector<PodAppView>& apps, const PodListOptions& options);
std::string FormatAppListJson(const std::vector<PodAppView>& apps, bool pretty);
// `app status`: name=, state=, pid=, created=, started=, finished=, exit_code=, restarts=,
// reason=, message= lines (empty values omitted).
std::string FormatAppStatus(const PodAppView& app);
std::string FormatAppStatusJson(const PodAppView& app, bool pretty);

// A time column: "5 minutes ago" (the relative form), or the RFC 3339 text when `full`; "" for
// no time.
std::string PodTimeCell(const std::string& rfc3339, bool full,
                        std::chrono::system_clock::time_point now);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_FORMAT_H_
