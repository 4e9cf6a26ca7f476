// A pod's network plan and records on disk; see pod_networks.h.
#include "pod/pod_networks.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "network/netns.h"
#include "network/pod_network.h"
#include "os/file.h"

namespace comet::pod {
namespace {

Result<std::vector<network::NetworkAttachment>> ReadRecordsFile(const std::string& path) {
  auto text = os::ReadFileLimited(path, network::kMaxAttachmentsBytes);
  if (!text) {
    if (text.error().code() == ENOENT) {
      return std::vector<network::NetworkAttachment>{};
    }
    return Err(std::move(text).error());
  }
  auto records = network::ParseAttachments(*text);
  if (!records) {
    return Err(std::move(records).error().AddContext(path));
  }
  return records;
}

// "172.16.28.5/24" -> "172.16.28.5".
std::string WithoutPrefix(const std::string& cidr) {
  return cidr.substr(0, cidr.find('/'));
}

}  // namespace

Status WriteNetworkPlan(const std::string& pod_dir,
                        const std::vector<network::NetworkAttachment>& plan) {
  return os::WriteFileAtomic(os::JoinPath(pod_dir, kNetworkPlanFile),
                             network::AttachmentsToJson(plan), 0640);
}

Result<std::vector<network::NetworkAttachment>> ReadNetworkPlan(const std::string& pod_dir) {
  return ReadRecordsFile(os::JoinPath(pod_dir, kNetworkPlanFile));
}

Status WriteNetworkRecords(const std::string& pod_dir,
                           const std::vector<network::NetworkAttachment>& records) {
  return os::ReplaceFile(os::JoinPath(pod_dir, kNetworkRecordsFile),
                         network::AttachmentsToJson(records), 0640);
}

Result<std::vector<network::NetworkAttachment>> ReadNetworkRecords(const std::string& pod_dir) {
  return ReadRecordsFile(os::JoinPath(pod_dir, kNetworkRecordsFile));
}

std::vector<PodNetworkAddress> NetworkAddresses(
    const std::vector<network::NetworkAttachment>& records) {
  std::vector<PodNetworkAddress> out;
  for (const network::NetworkAttachment& record : records) {
    if (!record.result) {
      continue;  // planned, never attached
    }
    out.push_back({record.network, WithoutPrefix(record.ipv4), WithoutPrefix(record.ipv6)});
  }
  return out;
}

network::CniRuntimeOptions CniOptionsFromEnvironment() {
  network::CniRuntimeOptions options;
  if (const char* path = std::getenv("CNI_PATH");  // NOLINT(concurrency-mt-unsafe)
      path != nullptr && *path != '\0') {
    options.cni_path = network::SplitCniPath(path);
  }
  return options;
}

std::string NetnsPinPath(std::string_view uuid) {
  return os::JoinPath(kNetnsPinDir, std::string(uuid));
}

Status DetachNetworks(const std::string& pod_dir) {
  ASSIGN_OR_RETURN(std::vector<network::NetworkAttachment> records, ReadNetworkRecords(pod_dir));
  if (records.empty()) {
    return Ok();
  }
  Status detached = network::Detach(records, CniOptionsFromEnvironment());
  if (!detached) {
    return Err(std::move(detached).error().AddContext("detaching the pod's networks"));
  }
  // Only pins of ours: a record's netns is a path a hostile pod file could have set.
  std::set<std::string> pins;
  for (const network::NetworkAttachment& record : records) {
    const std::string& netns = record.invocation.netns;
    if (netns.starts_with(std::string(kNetnsPinDir) + "/") &&
        netns.find("/..") == std::string::npos) {
      pins.insert(netns);
    }
  }
  for (const std::string& pin : pins) {
    RETURN_IF_ERROR(network::RemovePinnedNetns(pin));
  }
  const std::string path = os::JoinPath(pod_dir, kNetworkRecordsFile);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("unlink", path));
  }
  return Ok();
}

}  // namespace comet::pod
