// Pod list, status and app output.
#include "cli/pod_format.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/image_format.h"
#include "cli/list_format.h"

namespace comet::cli {
namespace {

using Clock = std::chrono::system_clock;

constexpr size_t kShortUuid = 8;
constexpr size_t kShortImageId = 12;

std::string UuidCell(const std::string& uuid, bool full) {
  return full ? uuid : uuid.substr(0, kShortUuid);
}

// "sha256:<hex>" -> 12 hex digits (as `image list` shows IDs), whole with --full.
std::string ImageIdCell(const std::string& image_id, bool full) {
  if (full) {
    return image_id;
  }
  const size_t colon = image_id.find(':');
  const std::string hex = colon == std::string::npos ? image_id : image_id.substr(colon + 1);
  return hex.substr(0, kShortImageId);
}

std::string Dump(const nlohmann::ordered_json& json, bool pretty) {
  return json.dump(pretty ? 2 : -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
         "\n";
}

nlohmann::ordered_json OrNull(const std::string& text) {
  return text.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(text);
}

nlohmann::ordered_json AppJson(const PodAppView& app) {
  return {{"name", app.name},
          {"image", app.image},
          {"image_id", app.image_id},
          {"state", app.state},
          {"exit_code", app.exit_code ? nlohmann::ordered_json(*app.exit_code)
                                      : nlohmann::ordered_json(nullptr)}};
}

nlohmann::ordered_json NetworksJson(const std::vector<pod::PodNetworkAddress>& networks) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const pod::PodNetworkAddress& net : networks) {
    out.push_back({{"name", net.name}, {"ip4", net.ipv4}, {"ip6", net.ipv6}});
  }
  return out;
}

// rkt's form: "default:ip4=172.16.28.2", comma separated (ip6= too when there is one).
std::string NetworksCell(const std::vector<pod::PodNetworkAddress>& networks) {
  std::vector<std::string> cells;
  for (const pod::PodNetworkAddress& net : networks) {
    std::string cell = net.name;
    char sep = ':';
    for (const auto& [key, ip] : {std::pair{"ip4", &net.ipv4}, std::pair{"ip6", &net.ipv6}}) {
      if (!ip->empty()) {
        cell += fmt::format("{}{}={}", sep, key, *ip);
        sep = ',';
      }
    }
    cells.push_back(std::move(cell));
  }
  return Join(cells, ",");
}

nlohmann::ordered_json PodJson(const PodView& pod) {
  nlohmann::ordered_json apps = nlohmann::ordered_json::array();
  for (const PodAppView& app : pod.apps) {
    apps.push_back(AppJson(app));
  }
  return {{"uuid", pod.uuid},
          {"name", pod.name},
          {"state", pod.state},
          {"created", OrNull(pod.created)},
          {"started", OrNull(pod.started)},
          {"apps", apps},
          {"networks", NetworksJson(pod.networks)}};
}

nlohmann::ordered_json AppDetailJson(const PodAppView& app) {
  nlohmann::ordered_json json = AppJson(app);
  json["pid"] = app.pid;
  json["created"] = OrNull(app.created);
  json["started"] = OrNull(app.started);
  json["finished"] = OrNull(app.finished);
  json["restarts"] = app.restarts;
  json["reason"] = app.reason;
  json["message"] = app.message;
  return json;
}

}  // namespace

std::string PodTimeCell(const std::string& rfc3339, bool full, Clock::time_point now) {
  if (rfc3339.empty() || full) {
    return rfc3339;
  }
  Result<Clock::time_point> when = ParseRfc3339(rfc3339);
  return when ? HumanAge(*when, now) : rfc3339;
}

std::string FormatPodTable(const std::vector<PodView>& pods, const PodListOptions& options) {
  std::vector<std::vector<std::string>> rows;
  if (!options.no_legend) {
    rows.push_back(
        {"UUID", "APP", "IMAGE NAME", "IMAGE ID", "STATE", "CREATED", "STARTED", "NETWORKS"});
  }
  for (const PodView& pod : pods) {
    std::vector<std::string> first = {UuidCell(pod.uuid, options.full),
                                      "-",
                                      "-",
                                      "-",
                                      pod.state,
                                      PodTimeCell(pod.created, options.full, options.now),
                                      PodTimeCell(pod.started, options.full, options.now),
                                      NetworksCell(pod.networks)};
    for (size_t i = 0; i < pod.apps.size(); ++i) {
      const PodAppView& app = pod.apps[i];
      std::vector<std::string> row =
          i == 0 ? first : std::vector<std::string>(first.size(), std::string());
      row[1] = app.name;
      row[2] = app.image;
      row[3] = ImageIdCell(app.image_id, options.full);
      rows.push_back(std::move(row));
    }
    if (pod.apps.empty()) {
      rows.push_back(std::move(first));
    }
  }
  return AlignColumns(rows);
}

std::string FormatPodListJson(const std::vector<PodView>& pods, bool pretty) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const PodView& pod : pods) {
    out.push_back(PodJson(pod));
  }
  return Dump(out, pretty);
}

std::string FormatPodStatus(const PodView& pod) {
  std::string out =
      fmt::format("state={}\ncreated={}\nstarted={}\n", pod.state, pod.created, pod.started);
  if (!pod.networks.empty()) {
    out += fmt::format("networks={}\n", NetworksCell(pod.networks));
  }
  if (pod.pid > 0) {
    out += fmt::format("pid={}\n", pod.pid);
  }
  out += fmt::format("exited={}\n", pod.exited ? "true" : "false");
  for (const PodAppView& app : pod.apps) {
    if (app.exit_code && (app.state == "exited" || pod.exited)) {
      out += fmt::format("app-{}={}\n", app.name, *app.exit_code);
    }
  }
  return out;
}

std::string FormatPodStatusJson(const PodView& pod, bool pretty) {
  nlohmann::ordered_json out = PodJson(pod);
  out["pid"] = pod.pid;
  out["exited"] = pod.exited;
  return Dump(out, pretty);
}

std::string FormatAppTable(const std::vector<PodAppView>& apps, const PodListOptions& options) {
  std::vector<std::vector<std::string>> rows;
  if (!options.no_legend) {
    rows.push_back({"NAME", "STATE", "IMAGE NAME", "IMAGE ID", "CREATED", "STARTED", "EXIT CODE"});
  }
  for (const PodAppView& app : apps) {
    rows.push_back({app.name, app.state, app.image, ImageIdCell(app.image_id, options.full),
                    PodTimeCell(app.created, options.full, options.now),
                    PodTimeCell(app.started, options.full, options.now),
                    app.exit_code ? std::to_string(*app.exit_code) : std::string()});
  }
  return AlignColumns(rows);
}

std::string FormatAppListJson(const std::vector<PodAppView>& apps, bool pretty) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const PodAppView& app : apps) {
    out.push_back(AppDetailJson(app));
  }
  return Dump(out, pretty);
}

std::string FormatAppStatus(const PodAppView& app) {
  std::string out = fmt::format("name={}\nstate={}\n", app.name, app.state);
  auto add = [&out](const char* key, const std::string& value) {
    if (!value.empty()) {
      out += fmt::format("{}={}\n", key, value);
    }
  };
  add("pid", app.pid > 0 ? std::to_string(app.pid) : "");
  add("created", app.created);
  add("started", app.started);
  add("finished", app.finished);
  add("exit_code", app.exit_code ? std::to_string(*app.exit_code) : "");
  out += fmt::format("restarts={}\n", app.restarts);
  add("reason", app.reason);
  add("message", app.message);
  return out;
}

std::string FormatAppStatusJson(const PodAppView& app, bool pretty) {
  return Dump(AppDetailJson(app), pretty);
}

}  // namespace comet::cli
