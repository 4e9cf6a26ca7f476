// The attachment record and its JSON form; see attachment.h.
#include "network/attachment.h"

#include <fmt/format.h>

#include "network/cni_result.h"
#include "network/json_doc.h"
#include "network/port_mapping.h"

namespace comet::network {

namespace {

constexpr int kRecordVersion = 1;
constexpr json::Wording kWording = json::Wording::kNamesType;

json::Json ToJson(const NetworkAttachment& a) {
  json::Json j = {
      {"name", a.network},
      {"ifname", a.invocation.ifname},
      {"containerId", a.invocation.container_id},
      {"netns", a.invocation.netns},
      {"cniArgs", a.invocation.cni_args},
      {"portMappings", PortMappingsJson(a.invocation.port_mappings)},
      {"ipv4", a.ipv4},
      {"ipv6", a.ipv6},
      {"gateway4", a.gateway4},
      {"gateway6", a.gateway6},
      {"config", a.config},
  };
  if (a.result) {
    j["result"] = *a.result;
  }
  return j;
}

Result<NetworkAttachment> FromJson(const json::Json& j, const std::string& path) {
  json::ObjectReader reader(j, path, kWording);
  NetworkAttachment a;
  RETURN_IF_ERROR(json::ReadRequired(j, "name", path, &a.network, kWording));
  RETURN_IF_ERROR(json::ReadRequired(j, "ifname", path, &a.invocation.ifname, kWording));
  RETURN_IF_ERROR(json::ReadRequired(j, "containerId", path, &a.invocation.container_id, kWording));
  RETURN_IF_ERROR(reader.Read("netns", &a.invocation.netns));
  RETURN_IF_ERROR(reader.Read("cniArgs", &a.invocation.cni_args));
  RETURN_IF_ERROR(reader.Read("ipv4", &a.ipv4));
  RETURN_IF_ERROR(reader.Read("ipv6", &a.ipv6));
  RETURN_IF_ERROR(reader.Read("gateway4", &a.gateway4));
  RETURN_IF_ERROR(reader.Read("gateway6", &a.gateway6));
  if (const json::Json* ports = reader.Member("portMappings"); ports != nullptr) {
    auto mappings = ParsePortMappingsJson(*ports);
    if (!mappings) {
      return Err(std::move(mappings).error().AddContext(path));
    }
    a.invocation.port_mappings = *std::move(mappings);
  }
  ASSIGN_OR_RETURN(const json::Json* config, reader.Object("config"));
  if (config == nullptr) {
    return Err(json::PathError(reader.PathOf("config"), "missing"));
  }
  // The config must still be one a DEL can run.
  RETURN_IF_ERROR(FromConfList(*config, reader.PathOf("config")));
  a.config = *config;
  ASSIGN_OR_RETURN(const json::Json* result, reader.Object("result"));
  if (result != nullptr) {
    a.result = *result;
  }
  return a;
}

}  // namespace

Status Summarize(NetworkAttachment* attachment) {
  attachment->ipv4.clear();
  attachment->ipv6.clear();
  attachment->gateway4.clear();
  attachment->gateway6.clear();
  if (!attachment->result) {
    return Ok();
  }
  auto parsed = ParseCniResult(*attachment->result);
  if (!parsed) {
    return Err(std::move(parsed).error().AddContext(
        fmt::format("network {}: result", attachment->network)));
  }
  if (const CniIpConfig* ip = parsed->FirstIp(4, attachment->invocation.ifname)) {
    attachment->ipv4 = ip->address;
    attachment->gateway4 = ip->gateway;
  }
  if (const CniIpConfig* ip = parsed->FirstIp(6, attachment->invocation.ifname)) {
    attachment->ipv6 = ip->address;
    attachment->gateway6 = ip->gateway;
  }
  return Ok();
}

std::string AttachmentsToJson(const std::vector<NetworkAttachment>& attachments) {
  json::Json list = json::Json::array();
  for (const NetworkAttachment& a : attachments) {
    list.push_back(ToJson(a));
  }
  json::OrderedJson doc;
  doc["version"] = kRecordVersion;
  doc["networks"] = json::OrderedJson(list);
  return json::Dump(doc, 2) + "\n";
}

Result<std::vector<NetworkAttachment>> ParseAttachments(std::string_view text) {
  ASSIGN_OR_RETURN(json::Json root,
                   ParseJsonObject(text, kMaxAttachmentsBytes, "network attachments"));
  int version = 0;
  RETURN_IF_ERROR(json::ReadRequired(root, "version", "", &version, kWording));
  if (version != kRecordVersion) {
    return Err(Error::Invalid(fmt::format("network attachments: unknown version {}", version)));
  }
  std::vector<const json::Json*> items;
  RETURN_IF_ERROR(json::ObjectReader(root, "", kWording).ObjectArray("networks", &items));
  std::vector<NetworkAttachment> attachments;
  for (size_t i = 0; i < items.size(); ++i) {
    ASSIGN_OR_RETURN(NetworkAttachment a, FromJson(*items[i], json::IndexPath("networks", i)));
    attachments.push_back(std::move(a));
  }
  return attachments;
}

}  // namespace comet::network
