// linux.resources to and from JSON; see spec_json.h (ParseResources) and json_internal.h.
#include <utility>

#include "oci/json_internal.h"

namespace comet::oci::internal {
namespace {

Status ParseDeviceCgroup(const Json& obj, std::string_view path, DeviceCgroup* out) {
  RETURN_IF_ERROR(Read(obj, "allow", path, &out->allow));
  RETURN_IF_ERROR(Read(obj, "type", path, &out->type));
  RETURN_IF_ERROR(Read(obj, "major", path, &out->major));
  RETURN_IF_ERROR(Read(obj, "minor", path, &out->minor));
  RETURN_IF_ERROR(Read(obj, "access", path, &out->access));
  return Ok();
}

Status ParseMemory(const Json& obj, std::string_view path, MemoryResources* out) {
  RETURN_IF_ERROR(Read(obj, "limit", path, &out->limit));
  RETURN_IF_ERROR(Read(obj, "reservation", path, &out->reservation));
  RETURN_IF_ERROR(Read(obj, "swap", path, &out->swap));
  RETURN_IF_ERROR(Read(obj, "kernel", path, &out->kernel));
  RETURN_IF_ERROR(Read(obj, "kernelTCP", path, &out->kernel_tcp));
  RETURN_IF_ERROR(Read(obj, "swappiness", path, &out->swappiness));
  RETURN_IF_ERROR(Read(obj, "disableOOMKiller", path, &out->disable_oom_killer));
  RETURN_IF_ERROR(Read(obj, "useHierarchy", path, &out->use_hierarchy));
  RETURN_IF_ERROR(Read(obj, "checkBeforeUpdate", path, &out->check_before_update));
  return Ok();
}

Status ParseCpu(const Json& obj, std::string_view path, CpuResources* out) {
  RETURN_IF_ERROR(Read(obj, "shares", path, &out->shares));
  RETURN_IF_ERROR(Read(obj, "quota", path, &out->quota));
  RETURN_IF_ERROR(Read(obj, "period", path, &out->period));
  RETURN_IF_ERROR(Read(obj, "realtimeRuntime", path, &out->realtime_runtime));
  RETURN_IF_ERROR(Read(obj, "realtimePeriod", path, &out->realtime_period));
  RETURN_IF_ERROR(Read(obj, "cpus", path, &out->cpus));
  RETURN_IF_ERROR(Read(obj, "mems", path, &out->mems));
  RETURN_IF_ERROR(Read(obj, "idle", path, &out->idle));
  return Ok();
}

Status ParsePids(const Json& obj, std::string_view path, PidsResources* out) {
  return Read(obj, "limit", path, &out->limit);
}

Status ParseWeightDevice(const Json& obj, std::string_view path, WeightDevice* out) {
  RETURN_IF_ERROR(Read(obj, "major", path, &out->major));
  RETURN_IF_ERROR(Read(obj, "minor", path, &out->minor));
  RETURN_IF_ERROR(Read(obj, "weight", path, &out->weight));
  RETURN_IF_ERROR(Read(obj, "leafWeight", path, &out->leaf_weight));
  return Ok();
}

Status ParseThrottleDevice(const Json& obj, std::string_view path, ThrottleDevice* out) {
  RETURN_IF_ERROR(Read(obj, "major", path, &out->major));
  RETURN_IF_ERROR(Read(obj, "minor", path, &out->minor));
  RETURN_IF_ERROR(Read(obj, "rate", path, &out->rate));
  return Ok();
}

Status ParseBlockIo(const Json& obj, std::string_view path, BlockIoResources* out) {
  RETURN_IF_ERROR(Read(obj, "weight", path, &out->weight));
  RETURN_IF_ERROR(Read(obj, "leafWeight", path, &out->leaf_weight));
  RETURN_IF_ERROR(
      ReadObjectArray(obj, "weightDevice", path, &out->weight_device, ParseWeightDevice));
  RETURN_IF_ERROR(ReadObjectArray(obj, "throttleReadBpsDevice", path,
                                  &out->throttle_read_bps_device, ParseThrottleDevice));
  RETURN_IF_ERROR(ReadObjectArray(obj, "throttleWriteBpsDevice", path,
                                  &out->throttle_write_bps_device, ParseThrottleDevice));
  RETURN_IF_ERROR(ReadObjectArray(obj, "throttleReadIOPSDevice", path,
                                  &out->throttle_read_iops_device, ParseThrottleDevice));
  RETURN_IF_ERROR(ReadObjectArray(obj, "throttleWriteIOPSDevice", path,
                                  &out->throttle_write_iops_device, ParseThrottleDevice));
  return Ok();
}

Status ParseHugepageLimit(const Json& obj, std::string_view path, HugepageLimit* out) {
  RETURN_IF_ERROR(Read(obj, "pageSize", path, &out->page_size));
  RETURN_IF_ERROR(Read(obj, "limit", path, &out->limit));
  return Ok();
}

using Priority = std::pair<std::string, uint32_t>;

Status ParsePriority(const Json& obj, std::string_view path, Priority* out) {
  RETURN_IF_ERROR(Read(obj, "name", path, &out->first));
  RETURN_IF_ERROR(Read(obj, "priority", path, &out->second));
  return Ok();
}

Status ParseNetwork(const Json& obj, std::string_view path, NetworkResources* out) {
  RETURN_IF_ERROR(Read(obj, "classID", path, &out->class_id));
  RETURN_IF_ERROR(ReadObjectArray(obj, "priorities", path, &out->priorities, ParsePriority));
  return Ok();
}

template <class T>
void PutOpt(OrderedJson& obj, const char* key, const std::optional<T>& value) {
  if (value) {
    obj[key] = *value;
  }
}

OrderedJson ThrottleList(const std::vector<ThrottleDevice>& devices) {
  OrderedJson list = OrderedJson::array();
  for (const auto& d : devices) {
    list.push_back({{"major", d.major}, {"minor", d.minor}, {"rate", d.rate}});
  }
  return list;
}

OrderedJson MemoryToJson(const MemoryResources& m) {
  OrderedJson out = OrderedJson::object();
  PutOpt(out, "limit", m.limit);
  PutOpt(out, "reservation", m.reservation);
  PutOpt(out, "swap", m.swap);
  PutOpt(out, "kernel", m.kernel);
  PutOpt(out, "kernelTCP", m.kernel_tcp);
  PutOpt(out, "swappiness", m.swappiness);
  PutOpt(out, "disableOOMKiller", m.disable_oom_killer);
  PutOpt(out, "useHierarchy", m.use_hierarchy);
  PutOpt(out, "checkBeforeUpdate", m.check_before_update);
  return out;
}

OrderedJson CpuToJson(const CpuResources& c) {
  OrderedJson out = OrderedJson::object();
  PutOpt(out, "shares", c.shares);
  PutOpt(out, "quota", c.quota);
  PutOpt(out, "period", c.period);
  PutOpt(out, "realtimeRuntime", c.realtime_runtime);
  PutOpt(out, "realtimePeriod", c.realtime_period);
  if (!c.cpus.empty()) {
    out["cpus"] = c.cpus;
  }
  if (!c.mems.empty()) {
    out["mems"] = c.mems;
  }
  PutOpt(out, "idle", c.idle);
  return out;
}

OrderedJson BlockIoToJson(const BlockIoResources& b) {
  OrderedJson out = OrderedJson::object();
  PutOpt(out, "weight", b.weight);
  PutOpt(out, "leafWeight", b.leaf_weight);
  if (!b.weight_device.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const auto& d : b.weight_device) {
      OrderedJson item = {{"major", d.major}, {"minor", d.minor}};
      PutOpt(item, "weight", d.weight);
      PutOpt(item, "leafWeight", d.leaf_weight);
      list.push_back(std::move(item));
    }
    out["weightDevice"] = std::move(list);
  }
  const std::pair<const char*, const std::vector<ThrottleDevice>*> throttles[] = {
      {"throttleReadBpsDevice", &b.throttle_read_bps_device},
      {"throttleWriteBpsDevice", &b.throttle_write_bps_device},
      {"throttleReadIOPSDevice", &b.throttle_read_iops_device},
      {"throttleWriteIOPSDevice", &b.throttle_write_iops_device},
  };
  for (const auto& [key, devices] : throttles) {
    if (!devices->empty()) {
      out[key] = ThrottleList(*devices);
    }
  }
  return out;
}

OrderedJson NetworkToJson(const NetworkResources& n) {
  OrderedJson out = OrderedJson::object();
  PutOpt(out, "classID", n.class_id);
  if (!n.priorities.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const auto& [name, priority] : n.priorities) {
      list.push_back({{"name", name}, {"priority", priority}});
    }
    out["priorities"] = std::move(list);
  }
  return out;
}

OrderedJson DevicesToJson(const std::vector<DeviceCgroup>& devices) {
  OrderedJson list = OrderedJson::array();
  for (const auto& d : devices) {
    OrderedJson item = {{"allow", d.allow}};
    if (!d.type.empty()) {
      item["type"] = d.type;
    }
    PutOpt(item, "major", d.major);
    PutOpt(item, "minor", d.minor);
    if (!d.access.empty()) {
      item["access"] = d.access;
    }
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace

Status ParseResourcesObject(const Json& obj, std::string_view path, Resources* out) {
  RETURN_IF_ERROR(ReadObjectArray(obj, "devices", path, &out->devices, ParseDeviceCgroup));
  RETURN_IF_ERROR(ReadOptObject(obj, "memory", path, &out->memory, ParseMemory));
  RETURN_IF_ERROR(ReadOptObject(obj, "cpu", path, &out->cpu, ParseCpu));
  RETURN_IF_ERROR(ReadOptObject(obj, "pids", path, &out->pids, ParsePids));
  RETURN_IF_ERROR(ReadOptObject(obj, "blockIO", path, &out->block_io, ParseBlockIo));
  RETURN_IF_ERROR(
      ReadObjectArray(obj, "hugepageLimits", path, &out->hugepage_limits, ParseHugepageLimit));
  RETURN_IF_ERROR(ReadOptObject(obj, "network", path, &out->network, ParseNetwork));
  RETURN_IF_ERROR(Read(obj, "unified", path, &out->unified));
  return Ok();
}

OrderedJson ResourcesToJsonValue(const Resources& r) {
  OrderedJson out = OrderedJson::object();
  if (!r.devices.empty()) {
    out["devices"] = DevicesToJson(r.devices);
  }
  if (r.memory) {
    out["memory"] = MemoryToJson(*r.memory);
  }
  if (r.cpu) {
    out["cpu"] = CpuToJson(*r.cpu);
  }
  if (r.pids) {
    out["pids"] = {{"limit", r.pids->limit}};
  }
  if (r.block_io) {
    out["blockIO"] = BlockIoToJson(*r.block_io);
  }
  if (!r.hugepage_limits.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const auto& h : r.hugepage_limits) {
      list.push_back({{"pageSize", h.page_size}, {"limit", h.limit}});
    }
    out["hugepageLimits"] = std::move(list);
  }
  if (r.network) {
    out["network"] = NetworkToJson(*r.network);
  }
  if (!r.unified.empty()) {
    out["unified"] = r.unified;
  }
  return out;
}

}  // namespace comet::oci::internal
