// FormatGetPods, FormatDescribePod (see describe.h). The STATUS word and the layout follow
// kubectl's pod printer and describer (k8s.io/kubectl: printPod, describePod): the table with
// its tab writer's minimum width 6 and padding 3, describe's with padding 2.
#include "node/describe.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "node/tab_writer.h"

namespace comet::node {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

// kubectl's describe writes some cells with a trailing blank ("True ", an empty IP); its
// alignment is kept, the blanks at line ends are not.
std::string TrimLineEnds(std::string text) {
  std::string out;
  out.reserve(text.size());
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    const bool newline = end != std::string::npos;
    if (!newline) {
      end = text.size();
    }
    size_t last = end;
    while (last > start && text[last - 1] == ' ') {
      --last;
    }
    out.append(text, start, last - start);
    if (newline) {
      out += '\n';
    }
    start = end + 1;
  }
  return out;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "Mon, 02 Jan 2006 15:04:05 +0000" (Go's time.RFC1123Z) in UTC, locale-independent.
std::string FormatTime(int64_t ns) {
  if (ns <= 0) {
    return "<unknown>";
  }
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto seconds = static_cast<time_t>(ns / kNsPerSecond);
  struct tm tm {};
  if (::gmtime_r(&seconds, &tm) == nullptr) {
    return "<unknown>";
  }
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", kDays.at(tm.tm_wday), tm.tm_mday,
                     kMonths.at(tm.tm_mon), tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string Age(int64_t since_ns, int64_t now_ns) {
  return since_ns > 0 ? HumanDuration(now_ns - since_ns) : std::string("<unknown>");
}

// Kubernetes quantities as Quantity.String() canonicalizes them.
std::string CpuQuantity(int64_t millis) {
  return millis % 1000 == 0 ? std::to_string(millis / 1000) : fmt::format("{}m", millis);
}

std::string MemoryQuantity(int64_t bytes) {
  static constexpr std::array<const char*, 6> kBinary = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  static constexpr std::array<const char*, 6> kDecimal = {"k", "M", "G", "T", "P", "E"};
  if (bytes == 0) {
    return "0";
  }
  for (int64_t base : {int64_t{1024}, int64_t{1000}}) {
    int64_t value = bytes;
    size_t exponent = 0;
    while (value % base == 0 && exponent < kBinary.size()) {
      value /= base;
      ++exponent;
    }
    if (exponent > 0) {
      return fmt::format("{}{}", value, (base == 1024 ? kBinary : kDecimal).at(exponent - 1));
    }
  }
  return std::to_string(bytes);
}

const char* Bool(bool value) {
  return value ? "True" : "False";
}

bool IsTerminated(const ContainerState& state) {
  return state.kind == ContainerState::Kind::kTerminated;
}

// When the pod's containers last ended a run (0: never), for "RESTARTS ... (5m ago)".
int64_t LastRestartNs(const std::vector<KubeContainerStatus>& containers) {
  int64_t latest = 0;
  for (const KubeContainerStatus& container : containers) {
    if (container.last_state && IsTerminated(*container.last_state)) {
      latest = std::max(latest, container.last_state->finished_at_ns);
    }
  }
  return latest;
}

struct TableRow {
  std::string status;
  int ready = 0;
  int restarts = 0;
  int64_t last_restart_ns = 0;
};

// printPod's rules for init containers: the first that has not completed names the status
// ("Init:Error", "Init:CrashLoopBackOff", "Init:1/3"); false when all completed.
bool InitRow(const KubePodStatus& pod, TableRow& row) {
  const size_t inits = pod.init_containers.size();
  for (size_t i = 0; i < inits; ++i) {
    const KubeContainerStatus& init = pod.init_containers[i];
    row.restarts += init.restart_count;
    const ContainerState& state = init.state;
    if (IsTerminated(state) && state.exit_code == 0) {
      continue;
    }
    if (IsTerminated(state)) {
      row.status = state.reason.empty() ? fmt::format("Init:ExitCode:{}", state.exit_code)
                                        : "Init:" + state.reason;
    } else if (state.kind == ContainerState::Kind::kWaiting && !state.reason.empty() &&
               state.reason != "PodInitializing") {
      row.status = "Init:" + state.reason;
    } else {
      row.status = fmt::format("Init:{}/{}", i, inits);
    }
    row.last_restart_ns = LastRestartNs({init});
    return true;
  }
  return false;
}

// printPod's rules: an init container not done yet names the status; else the last container
// (scanning backwards) with a waiting or terminated reason does.
TableRow RowOf(const KubePodStatus& pod) {
  TableRow row;
  row.status = PodPhaseName(pod.phase);
  if (!InitRow(pod, row)) {
    row.restarts = 0;
    bool has_running = false;
    for (auto it = pod.containers.rbegin(); it != pod.containers.rend(); ++it) {
      row.restarts += it->restart_count;
      const ContainerState& state = it->state;
      if (state.kind == ContainerState::Kind::kWaiting && !state.reason.empty()) {
        row.status = state.reason;
      } else if (IsTerminated(state)) {
        row.status =
            state.reason.empty() ? fmt::format("ExitCode:{}", state.exit_code) : state.reason;
      } else if (it->ready && state.kind == ContainerState::Kind::kRunning) {
        has_running = true;
        ++row.ready;
      }
    }
    if (row.status == "Completed" && has_running) {
      const bool ready = std::ranges::any_of(
          pod.conditions, [](const PodCondition& c) { return c.type == "Ready" && c.status; });
      row.status = ready ? "Running" : "NotReady";
    }
    row.last_restart_ns = LastRestartNs(pod.containers);
  }
  if (pod.terminating) {
    row.status = "Terminating";
  }
  return row;
}

void WriteState(std::string& out, const char* title, const ContainerState& state) {
  switch (state.kind) {
    case ContainerState::Kind::kRunning:
      out += fmt::format("    {}:\tRunning\n", title);
      out += fmt::format("      Started:\t{}\n", FormatTime(state.started_at_ns));
      break;
    case ContainerState::Kind::kWaiting:
      out += fmt::format("    {}:\tWaiting\n", title);
      if (!state.reason.empty()) {
        out += fmt::format("      Reason:\t{}\n", state.reason);
      }
      break;
    case ContainerState::Kind::kTerminated:
      out += fmt::format("    {}:\tTerminated\n", title);
      if (!state.reason.empty()) {
        out += fmt::format("      Reason:\t{}\n", state.reason);
      }
      if (!state.message.empty()) {
        out += fmt::format("      Message:\t{}\n", state.message);
      }
      out += fmt::format("      Exit Code:\t{}\n", state.exit_code);
      out += fmt::format("      Started:\t{}\n", FormatTime(state.started_at_ns));
      out += fmt::format("      Finished:\t{}\n", FormatTime(state.finished_at_ns));
      break;
  }
}

void WriteContainers(std::string& out, const char* title,
                     const std::vector<KubeContainerStatus>& containers) {
  out += fmt::format("{}:\n", title);
  for (const KubeContainerStatus& c : containers) {
    out += fmt::format("  {}:\n", c.name);
    out += fmt::format("    Container ID:\t{}\n", c.container_id);
    out += fmt::format("    Image:\t{}\n", c.image);
    out += fmt::format("    Image ID:\t{}\n", c.image_id);
    WriteState(out, "State", c.state);
    if (c.last_state && IsTerminated(*c.last_state)) {
      WriteState(out, "Last State", *c.last_state);
    }
    out += fmt::format("    Ready:\t{}\n", Bool(c.ready));
    out += fmt::format("    Restart Count:\t{}\n", c.restart_count);
    if (c.cpu_limit_millis > 0 || c.memory_limit_bytes > 0) {
      out += "    Limits:\n";
      if (c.cpu_limit_millis > 0) {
        out += fmt::format("      cpu:\t{}\n", CpuQuantity(c.cpu_limit_millis));
      }
      if (c.memory_limit_bytes > 0) {
        out += fmt::format("      memory:\t{}\n", MemoryQuantity(c.memory_limit_bytes));
      }
    }
    if (c.cpu_request_millis > 0 || c.memory_request_bytes > 0) {
      out += "    Requests:\n";
      if (c.cpu_request_millis > 0) {
        out += fmt::format("      cpu:\t{}\n", CpuQuantity(c.cpu_request_millis));
      }
      if (c.memory_request_bytes > 0) {
        out += fmt::format("      memory:\t{}\n", MemoryQuantity(c.memory_request_bytes));
      }
    }
  }
}

// "Labels:\tk=v\n\tk2=v2\n" or "Labels:\t<none>\n".
void WriteMap(std::string& out, const char* title, const std::map<std::string, std::string>& map) {
  out += fmt::format("{}:\t", title);
  if (map.empty()) {
    out += "<none>\n";
    return;
  }
  bool first = true;
  for (const auto& [key, value] : map) {
    out += fmt::format("{}{}={}\n", first ? "" : "\t", key, value);
    first = false;
  }
}

// Identical events (type, reason, from, message) fold into one row, "<age of the last> (x<n>
// over <age of the first>)", ordered by their last occurrence.
void WriteEvents(std::string& out, const std::vector<Event>& events, int64_t now_ns) {
  if (events.empty()) {
    out += "Events:\t<none>\n";
    return;
  }
  struct Folded {
    const Event* event;
    int64_t first_ns, last_ns;
    int count;
  };
  std::vector<Folded> rows;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, size_t> index;
  std::vector<const Event*> sorted;
  sorted.reserve(events.size());
  for (const Event& event : events) {
    sorted.push_back(&event);
  }
  std::ranges::stable_sort(sorted, {}, [](const Event* e) { return e->time_ns; });
  for (const Event* event : sorted) {
    auto [it, fresh] = index.try_emplace(
        std::tuple(event->type, event->reason, event->from, event->message), rows.size());
    if (fresh) {
      rows.push_back({event, event->time_ns, event->time_ns, 1});
    } else {
      Folded& row = rows[it->second];
      row.last_ns = event->time_ns;
      ++row.count;
    }
  }
  std::ranges::stable_sort(rows, {}, [](const Folded& row) { return row.last_ns; });
  out += "Events:\n  Type\tReason\tAge\tFrom\tMessage\n";
  out += "  ----\t------\t----\t----\t-------\n";
  for (const Folded& row : rows) {
    std::string age = Age(row.last_ns, now_ns);
    if (row.count > 1) {
      age += fmt::format(" (x{} over {})", row.count, Age(row.first_ns, now_ns));
    }
    out += fmt::format("  {}\t{}\t{}\t{}\t{}\n", row.event->type, row.event->reason, age,
                       row.event->from, row.event->message);
  }
}

}  // namespace

std::string HumanDuration(int64_t ns) {
  constexpr int64_t kMinute = 60;
  constexpr int64_t kHour = 60 * kMinute;
  constexpr int64_t kDay = 24 * kHour;
  constexpr int64_t kYear = 365 * kDay;
  const int64_t seconds = ns / kNsPerSecond;
  if (seconds < -1) {
    return "<invalid>";
  }
  if (seconds < 0) {
    return "0s";
  }
  if (seconds < 2 * kMinute) {
    return fmt::format("{}s", seconds);
  }
  // Each range shows its unit and, while short enough to matter, the next smaller one.
  auto two = [](int64_t value, int64_t unit, const char* name, int64_t sub, const char* sub_name) {
    const int64_t rest = (value % unit) / sub;
    return rest == 0 ? fmt::format("{}{}", value / unit, name)
                     : fmt::format("{}{}{}{}", value / unit, name, rest, sub_name);
  };
  if (seconds < 10 * kMinute) {
    return two(seconds, kMinute, "m", 1, "s");
  }
  if (seconds < 3 * kHour) {
    return fmt::format("{}m", seconds / kMinute);
  }
  if (seconds < 8 * kHour) {
    return two(seconds, kHour, "h", kMinute, "m");
  }
  if (seconds < 2 * kDay) {
    return fmt::format("{}h", seconds / kHour);
  }
  if (seconds < 8 * kDay) {
    return two(seconds, kDay, "d", kHour, "h");
  }
  if (seconds < 2 * kYear) {
    return fmt::format("{}d", seconds / kDay);
  }
  if (seconds < 8 * kYear) {
    return two(seconds, kYear, "y", kDay, "d");
  }
  return fmt::format("{}y", seconds / kYear);
}

std::string PodStatusWord(const KubePodStatus& pod) {
  return RowOf(pod).status;
}

std::string FormatGetPods(const std::vector<KubePodStatus>& pods, int64_t now_ns) {
  std::string text = "NAMESPACE\tNAME\tREADY\tSTATUS\tRESTARTS\tAGE\tIP\tNODE\n";
  for (const KubePodStatus& pod : pods) {
    const TableRow row = RowOf(pod);
    std::string restarts = std::to_string(row.restarts);
    if (row.restarts > 0 && row.last_restart_ns > 0) {
      restarts += fmt::format(" ({} ago)", HumanDuration(now_ns - row.last_restart_ns));
    }
    text +=
        fmt::format("{}\t{}\t{}/{}\t{}\t{}\t{}\t{}\t{}\n", pod.namespace_name, pod.name, row.ready,
                    pod.containers.size(), row.status, restarts, Age(pod.created_at_ns, now_ns),
                    pod.pod_ips.empty() ? "<none>" : pod.pod_ips.front(),
                    pod.node.empty() ? "<none>" : pod.node);
  }
  return AlignTabs(text, 6, 3);
}

std::string FormatGetPods(const std::vector<KubePodStatus>& pods) {
  return FormatGetPods(pods, NowNs());
}

std::string FormatDescribePod(const KubePodStatus& pod, const std::vector<Event>& events,
                              int64_t now_ns) {
  std::string out;
  out += fmt::format("Name:\t{}\n", pod.name);
  out += fmt::format("Namespace:\t{}\n", pod.namespace_name);
  out += pod.node.empty() ? std::string("Node:\t<none>\n")
                          : fmt::format("Node:\t{}/{}\n", pod.node, pod.host_ip);
  if (pod.created_at_ns > 0) {
    out += fmt::format("Start Time:\t{}\n", FormatTime(pod.created_at_ns));
  }
  WriteMap(out, "Labels", pod.labels);
  WriteMap(out, "Annotations", pod.annotations);
  out += fmt::format("Status:\t{}\n", pod.terminating ? "Terminating" : PodPhaseName(pod.phase));
  out += fmt::format("IP:\t{}\n", pod.pod_ips.empty() ? "" : pod.pod_ips.front());
  if (pod.pod_ips.empty()) {
    out += "IPs:\t<none>\n";
  } else {
    out += "IPs:\n";
    for (const std::string& ip : pod.pod_ips) {
      out += fmt::format("  IP:\t{}\n", ip);
    }
  }
  if (!pod.init_containers.empty()) {
    WriteContainers(out, "Init Containers", pod.init_containers);
  }
  WriteContainers(out, "Containers", pod.containers);
  out += "Conditions:\n  Type\tStatus\n";
  for (const PodCondition& condition : pod.conditions) {
    out += fmt::format("  {} \t{} \n", condition.type, Bool(condition.status));
  }
  out += fmt::format("QoS Class:\t{}\n", pod.qos_class.empty() ? "<none>" : pod.qos_class);
  WriteEvents(out, events, now_ns);
  return TrimLineEnds(AlignTabs(out, 0, 2));
}

std::string FormatDescribePod(const KubePodStatus& pod, const std::vector<Event>& events) {
  return FormatDescribePod(pod, events, NowNs());
}

}  // namespace comet::node
