// Pod lookup and reading for the pod commands.
#include "cli/pod_access.h"

#include <unistd.h>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli/data_dir.h"
#include "os/file.h"
#include "pod/pod_dir.h"
#include "pod/pod_networks.h"

namespace comet::cli {
namespace {

// A --uuid-file holds one UUID and a newline; anything big is not one.
constexpr size_t kMaxUuidFileBytes = 4096;

}  // namespace

Result<pod::PodStore> OpenPodStore(const CometGlobalFlags& global) {
  ASSIGN_OR_RETURN(std::string data_dir, DataDir(global.dir));
  RETURN_IF_ERROR(PrepareDataDir(data_dir));
  return pod::PodStore::Open(os::JoinPath(data_dir, "pods"));
}

Result<std::vector<pod::PodEntry>> ResolvePods(const pod::PodStore& store, const PodFlags& flags) {
  std::vector<std::string> names = flags.uuids;
  if (!flags.uuid_file.empty()) {
    auto text = os::ReadFileLimited(flags.uuid_file, kMaxUuidFileBytes);
    if (!text) {
      return Err(std::move(text).error().AddContext("--uuid-file"));
    }
    const std::string uuid(TrimSpace(*text));
    if (uuid.empty()) {
      return Err(
          Error::Invalid(fmt::format("--uuid-file {}: no UUID in the file", flags.uuid_file)));
    }
    names.push_back(uuid);
  }
  std::vector<pod::PodEntry> entries;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(pod::PodEntry entry, store.Find(name));
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<pod::PodEntry> ResolvePod(const pod::PodStore& store, const PodFlags& flags) {
  ASSIGN_OR_RETURN(std::vector<pod::PodEntry> entries, ResolvePods(store, flags));
  if (entries.size() != 1) {
    return Err(Error::Invalid("give one pod: a UUID or --uuid-file"));
  }
  return std::move(entries.front());
}

Result<pod::PodManifest> ReadPodManifest(const pod::PodStore& store, pod::PodEntry& entry) {
  auto manifest = pod::ReadManifest(entry.path);
  if (manifest || manifest.error().code() != ENOENT) {
    return manifest;
  }
  // The pod may have moved on (prepared -> run, run -> exited-garbage) since it was listed.
  ASSIGN_OR_RETURN(entry, store.Refresh(entry.uuid));
  return pod::ReadManifest(entry.path);
}

std::string PodStateWord(const pod::PodEntry& entry) {
  if (entry.phase_dir == "exited-garbage") {
    return "exited garbage";
  }
  return std::string(pod::PodStateName(entry.state));
}

PodAppView ReadAppView(const std::string& pod_dir, const pod::App& app) {
  PodAppView view;
  view.name = app.name;
  view.image = app.image;
  // The config digest, as `comet image list` shows it; manifests from before it was recorded
  // have only the manifest digest.
  view.image_id = app.image_config_id.empty() ? app.image_id : app.image_config_id;
  view.state = std::string(pod::AppStateName(pod::AppState::kCreated));
  auto status = pod::ReadAppStatus(pod_dir, app.name);
  if (!status) {
    return view;
  }
  view.state = std::string(pod::AppStateName(status->state));
  if (status->exit_code >= 0) {
    view.exit_code = status->exit_code;
  }
  view.pid = status->state == pod::AppState::kRunning ? status->pid : 0;
  view.created = status->created;
  view.started = status->started;
  view.finished = status->finished;
  view.restarts = status->restarts;
  view.reason = status->reason;
  view.message = status->message;
  return view;
}

PodView ReadPodView(const pod::PodStore& store, pod::PodEntry entry) {
  PodView view;
  auto manifest = ReadPodManifest(store, entry);
  view.uuid = entry.uuid;
  view.state = PodStateWord(entry);
  const bool ran = entry.state == pod::PodState::kRunning ||
                   entry.state == pod::PodState::kExited || entry.phase_dir == "exited-garbage";
  view.exited = ran && entry.state != pod::PodState::kRunning;
  if (manifest) {
    view.name = manifest->name;
    view.created = manifest->created;
  }
  if (auto supervisor = pod::ReadSupervisorStatus(entry.path); supervisor) {
    view.started = supervisor->started;
    view.pid = supervisor->pid;
  } else if (auto pid = pod::ReadPodPid(entry.path); pid) {
    view.pid = *pid;
  }
  if (manifest) {
    for (const pod::App& app : manifest->apps) {
      view.apps.push_back(ReadAppView(entry.path, app));
    }
  }
  if (entry.state == pod::PodState::kRunning) {
    if (auto records = pod::ReadNetworkRecords(entry.path); records) {
      view.networks = pod::NetworkAddresses(*records);
    }
  }
  return view;
}

Result<std::string> ChooseApp(const pod::PodManifest& manifest, const std::string& requested) {
  std::vector<std::string> names;
  for (const pod::App& app : manifest.apps) {
    if (!requested.empty() && app.name == requested) {
      return requested;
    }
    if (!app.init) {
      names.push_back(app.name);
    }
  }
  if (!requested.empty()) {
    return Err(
        Error::NotFound(fmt::format("pod {} has no app {:?} (apps: {})", manifest.uuid, requested,
                                    names.empty() ? std::string("none") : Join(names, ", "))));
  }
  if (names.size() == 1) {
    return names.front();
  }
  if (names.empty()) {
    return Err(Error::NotFound(fmt::format("pod {} has no app", manifest.uuid)));
  }
  return Err(Error::Invalid(fmt::format("pod {} has several apps ({}): choose one with --app",
                                        manifest.uuid, Join(names, ", "))));
}

Status CheckRunning(const pod::PodEntry& entry) {
  if (entry.state == pod::PodState::kRunning) {
    return Ok();
  }
  return Err(Error::Invalid(
      fmt::format("pod {} is not running (state: {})", entry.uuid, PodStateWord(entry))));
}

Status PrintOut(std::string_view text) {
  RETURN_IF_ERROR_CTX(os::WriteAll(STDOUT_FILENO, text), "writing to stdout");
  return Ok();
}

}  // namespace comet::cli
