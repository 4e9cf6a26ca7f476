// User and group lookup in an app's rootfs; see user_lookup.h.
#include "supervisor/user_lookup.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/strings.h"
#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::supervisor {
namespace {

std::optional<uint32_t> ParseId(std::string_view text) {
  auto value = ParseUint(text);
  if (!value || *value > UINT32_MAX - 1) {  // (uint32_t)-1 means "no change" to setuid(2)
    return std::nullopt;
  }
  return static_cast<uint32_t>(*value);
}

// Calls `line_fn` with the fields of each line (comments and blank lines skipped).
template <typename Fn>
void ForEachRecord(std::string_view text, Fn line_fn) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (!line_fn(Split(line, ':'))) {
      return;
    }
  }
}

}  // namespace

std::optional<PasswdEntry> FindPasswdEntry(std::string_view passwd, std::string_view user) {
  std::optional<uint32_t> wanted_uid = ParseId(user);
  std::optional<PasswdEntry> found;
  ForEachRecord(passwd, [&](const std::vector<std::string>& fields) {
    // name:password:uid:gid:gecos:home:shell
    if (fields.size() < 4) {
      return true;
    }
    auto uid = ParseId(fields[2]);
    auto gid = ParseId(fields[3]);
    if (!uid || !gid) {
      return true;
    }
    if (fields[0] == user || (wanted_uid && *wanted_uid == *uid)) {
      found = PasswdEntry{fields[0], *uid, *gid, fields.size() > 5 ? fields[5] : std::string()};
      return false;
    }
    return true;
  });
  return found;
}

std::optional<uint32_t> FindGroupId(std::string_view group_file, std::string_view group) {
  std::optional<uint32_t> found;
  ForEachRecord(group_file, [&](const std::vector<std::string>& fields) {
    // name:password:gid:members
    if (fields.size() >= 3 && fields[0] == group) {
      found = ParseId(fields[2]);
      return !found;
    }
    return true;
  });
  return found;
}

std::vector<uint32_t> FindMemberGroups(std::string_view group_file, std::string_view user) {
  std::vector<uint32_t> gids;
  if (user.empty()) {
    return gids;
  }
  ForEachRecord(group_file, [&](const std::vector<std::string>& fields) {
    if (fields.size() < 4) {
      return true;
    }
    auto gid = ParseId(fields[2]);
    if (!gid) {
      return true;
    }
    for (const std::string& member : Split(fields[3], ',')) {
      if (TrimSpace(member) == user) {
        gids.push_back(*gid);
        break;
      }
    }
    return gids.size() < 64;  // NGROUPS is large, but an image has no business with more
  });
  return gids;
}

Result<std::string> ReadFileInRoot(const std::string& rootfs, const std::string& path,
                                   size_t limit) {
  ASSIGN_OR_RETURN(os::UniqueFd root, os::Open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  long fd = ::syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof(how));
  if (fd < 0) {
    if (errno == ENOENT) {
      return Err(Error::NotFound(path + " does not exist in the image"));
    }
    return Err(Error::FromErrno("open", rootfs + path));
  }
  os::UniqueFd file(static_cast<int>(fd));
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    return Err(Error::FromErrno("fstat", rootfs + path));
  }
  if (!S_ISREG(st.st_mode)) {  // a fifo or device planted by the image must not block us
    return Err(Error::Invalid(path + " in the image is not a regular file"));
  }
  return os::ReadFd(file.get(), limit);
}

namespace {

// The text of an account file, "" when the image has none.
Result<std::string> ReadAccountFile(const std::string& rootfs, const std::string& path) {
  auto text = ReadFileInRoot(rootfs, path, kMaxAccountFileBytes);
  if (!text && text.error().code() == ENOENT) {
    return std::string();
  }
  return text;
}

}  // namespace

Result<ResolvedUser> ResolveUser(const std::string& rootfs, std::string_view user,
                                 std::string_view group,
                                 const std::vector<uint32_t>& supplementary) {
  ResolvedUser resolved;
  std::optional<uint32_t> numeric_uid = ParseId(user.empty() ? "0" : user);
  std::optional<uint32_t> numeric_gid = group.empty() ? std::nullopt : ParseId(group);
  // Read even for numeric ids: HOME and the groups listing the user come from them too.
  ASSIGN_OR_RETURN(std::string passwd, ReadAccountFile(rootfs, "/etc/passwd"));
  ASSIGN_OR_RETURN(std::string groups, ReadAccountFile(rootfs, "/etc/group"));
  std::optional<PasswdEntry> entry = FindPasswdEntry(passwd, user.empty() ? "0" : user);
  if (numeric_uid) {
    resolved.uid = *numeric_uid;
  } else if (entry) {
    resolved.uid = entry->uid;
  } else {
    return Err(Error::Invalid("user \"" + std::string(user) + "\": no such user in the image's " +
                              "/etc/passwd"));
  }
  if (numeric_gid) {
    resolved.gid = *numeric_gid;
  } else if (group.empty()) {
    resolved.gid = entry ? entry->gid : 0;
  } else if (auto gid = FindGroupId(groups, group)) {
    resolved.gid = *gid;
  } else {
    return Err(Error::Invalid("group \"" + std::string(group) + "\": no such group in the " +
                              "image's /etc/group"));
  }
  if (entry) {
    resolved.home = entry->home;
    resolved.additional_gids = FindMemberGroups(groups, entry->name);
  }
  for (uint32_t gid : supplementary) {
    resolved.additional_gids.push_back(gid);
  }
  return resolved;
}

}  // namespace comet::supervisor
