// The runtime's reports for its users (`state` in runc's shape, `list`): the only code of the
// runtime library that resolves user names, kept apart from the container verbs so that a binary
// using only the verbs (the statically linked comet-supervisor) links no NSS lookups, which a
// static glibc would have to load at run time.
#include <pwd.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "oci/spec_json.h"
#include "runtime/container_ops.h"
#include "runtime/runtime.h"

namespace comet::runtime {
namespace {

// The user name of `uid` from the system's user database; its number when it has none.
std::string OwnerName(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buffer[4096];
  if (::getpwuid_r(uid, &pw, buffer, sizeof(buffer), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return std::to_string(uid);
}

}  // namespace

Result<std::string> StateJson(const GlobalOptions& global, const std::string& id) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(ContainerRecord record, context.store.Load(id));
  oci::RuncStateExtras extras;
  extras.rootfs = record.rootfs;
  extras.created = record.created;
  if (record.owner_uid != ::geteuid()) {
    extras.owner = OwnerName(record.owner_uid);
  }
  return oci::StateToJson(MakeState(record, ComputeStatus(context, record)), extras);
}

Result<std::vector<ContainerInfo>> List(const GlobalOptions& global) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(std::vector<std::string> ids, context.store.ListIds());
  std::vector<ContainerInfo> out;
  for (const std::string& id : ids) {
    auto record = context.store.Load(id);
    if (!record) {
      continue;  // removed meanwhile
    }
    ContainerInfo info;
    info.id = id;
    info.status = ComputeStatus(context, *record);
    info.pid = info.status == "stopped" ? 0 : record->pid;
    info.bundle = record->bundle;
    info.created = record->created;
    info.owner = OwnerName(record->owner_uid);
    info.annotations = record->annotations;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace comet::runtime
