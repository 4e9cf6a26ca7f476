// uid_map/gid_map writing (user_namespaces(7)).
#include "runtime/id_map.h"

#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"
#include "runtime/linux/init_plan.h"

namespace comet::runtime {
namespace {

bool IsOwnIdOnly(const std::vector<oci::IdMapping>& mappings, uint32_t own) {
  return mappings.size() == 1 && mappings[0].host_id == own && mappings[0].size == 1;
}

std::string MapText(const std::vector<oci::IdMapping>& mappings) {
  std::string text;
  for (const oci::IdMapping& m : mappings) {
    text += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
  }
  return text;
}

Status RunMapHelper(const std::string& helper, pid_t pid,
                    const std::vector<oci::IdMapping>& mappings) {
  std::vector<std::string> args = {helper, std::to_string(pid)};
  for (const oci::IdMapping& m : mappings) {
    args.push_back(std::to_string(m.container_id));
    args.push_back(std::to_string(m.host_id));
    args.push_back(std::to_string(m.size));
  }
  CStringArray argv(args);
  pid_t child = ::fork();
  if (child < 0) {
    return Err(Error::FromErrno("fork", helper));
  }
  if (child == 0) {
    ::execvp(helper.c_str(), argv.get());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      return Err(Error::FromErrno("waitpid", helper));
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Err(Error(EPERM, fmt::format("{} failed (status {}): the mapping needs ranges in "
                                        "/etc/sub{}id for this user",
                                        helper, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                                        helper == "newuidmap" ? "u" : "g")));
  }
  return Ok();
}

}  // namespace

bool MappingDeniesSetgroups(const std::vector<oci::IdMapping>& uid_mappings,
                            const std::vector<oci::IdMapping>& gid_mappings) {
  return ::geteuid() != 0 && IsOwnIdOnly(uid_mappings, ::geteuid()) &&
         IsOwnIdOnly(gid_mappings, ::getegid());
}

bool InChildUserNamespace() {
  auto text = os::ReadFileLimited("/proc/self/uid_map", 4096);
  // The initial namespace maps every id to itself: "0 0 4294967295" on one line.
  std::vector<std::string> fields;
  for (const std::string& field : Split(TrimSpace(text ? *text : ""), ' ')) {
    if (!field.empty()) {
      fields.push_back(field);
    }
  }
  return text && fields != std::vector<std::string>{"0", "0", "4294967295"};
}

bool SetgroupsDeniedHere() {
  auto text = os::ReadFileLimited("/proc/self/setgroups", 64);
  return text && TrimSpace(*text) == "deny";
}

Status WriteIdMappings(pid_t pid, const std::vector<oci::IdMapping>& uid_mappings,
                       const std::vector<oci::IdMapping>& gid_mappings) {
  std::string proc = "/proc/" + std::to_string(pid);
  if (::geteuid() == 0) {
    RETURN_IF_ERROR_CTX(os::WriteFile(proc + "/uid_map", MapText(uid_mappings)),
                        "writing linux.uidMappings");
    RETURN_IF_ERROR_CTX(os::WriteFile(proc + "/gid_map", MapText(gid_mappings)),
                        "writing linux.gidMappings");
    return Ok();
  }
  if (MappingDeniesSetgroups(uid_mappings, gid_mappings)) {
    RETURN_IF_ERROR(os::WriteFile(proc + "/setgroups", "deny"));
    RETURN_IF_ERROR_CTX(os::WriteFile(proc + "/uid_map", MapText(uid_mappings)),
                        "writing linux.uidMappings");
    RETURN_IF_ERROR_CTX(os::WriteFile(proc + "/gid_map", MapText(gid_mappings)),
                        "writing linux.gidMappings");
    return Ok();
  }
  RETURN_IF_ERROR_CTX(RunMapHelper("newuidmap", pid, uid_mappings), "linux.uidMappings");
  RETURN_IF_ERROR_CTX(RunMapHelper("newgidmap", pid, gid_mappings), "linux.gidMappings");
  return Ok();
}

}  // namespace comet::runtime
