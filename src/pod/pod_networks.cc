// A pod's network plan and records on disk; see pod_networks.h.
#include "pod/pod_networks.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

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

// A DEL runs as root with what a record says: it must be one of this pod's (CNI_CONTAINERID
// scopes the plugins' state, CNI_IFNAME the interface they delete).
Status CheckRecordIsThePods(const network::NetworkAttachment& record, std::string_view uuid) {
  const std::string& ifname = record.invocation.ifname;
  const bool eth_n =
      ifname.size() > 3 && ifname.size() <= 6 && ifname.starts_with("eth") &&
      std::all_of(ifname.begin() + 3, ifname.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (record.invocation.container_id != uuid || !eth_n) {
    return Err(Error::Invalid(
        fmt::format("network record {:?} is not one of pod {} (container id {:?}, interface {:?})",
                    record.network, uuid, record.invocation.container_id, ifname)));
  }
  return Ok();
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

bool IsRootlessNetworkRecord(const network::NetworkAttachment& record) {
  return record.config.is_object() && record.config.contains(kRootlessToolKey);
}

Status DetachNetworks(const std::string& pod_dir, std::string_view uuid) {
  ASSIGN_OR_RETURN(std::vector<network::NetworkAttachment> records, ReadNetworkRecords(pod_dir));
  std::erase_if(records, IsRootlessNetworkRecord);
  const std::string pin = NetnsPinPath(uuid);
  for (network::NetworkAttachment& record : records) {
    RETURN_IF_ERROR(CheckRecordIsThePods(record, uuid));
    if (record.invocation.netns != pin) {
      record.invocation.netns.clear();
    }
  }
  if (!records.empty()) {
    Status detached = network::Detach(records, CniOptionsFromEnvironment());
    if (!detached) {
      return Err(std::move(detached).error().AddContext("detaching the pod's networks"));
    }
    RETURN_IF_ERROR(network::RemovePinnedNetns(pin));
  }
  const std::string path = os::JoinPath(pod_dir, kNetworkRecordsFile);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("unlink", path));
  }
  return Ok();
}

}  // namespace comet::pod
