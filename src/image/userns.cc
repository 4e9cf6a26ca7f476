// /etc/subuid parsing (subuid(5)) and a forked child in a new user + mount namespace
// (user_namespaces(7)). Thread-safe.
#include "image/userns.h"

#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/strings.h"
#include "oci/spec.h"
#include "os/file.h"
#include "os/unique_fd.h"
#include "runtime/id_map.h"

namespace comet::image {
namespace {

constexpr uint64_t kIdSpace = uint64_t{1} << 32;
constexpr size_t kMaxFileSize = 16 << 20;

// Setup stages the child reports as {stage, errno}; kReady means it reached the stage fine.
enum Stage : int { kReady = 0, kUnshare, kMapsNotWritten, kSetIds, kMountPrivate };

std::vector<oci::IdMapping> ToMappings(const std::vector<IdRange>& ranges) {
  std::vector<oci::IdMapping> mappings;
  mappings.reserve(ranges.size());
  for (const IdRange& r : ranges) {
    mappings.push_back({r.container_id, r.host_id, r.size});
  }
  return mappings;
}

// Child side; async-signal-safe until body() (system calls on prepared data only).
[[noreturn]] void ChildMain(int sock, const std::function<int()>& body) {
  auto report = [sock](int stage, int code) {
    int message[2] = {stage, code};
    ssize_t ignored = ::write(sock, message, sizeof(message));
    (void)ignored;
  };
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    report(kUnshare, errno);
    ::_exit(126);
  }
  report(kReady, 0);
  char go = 0;
  if (::read(sock, &go, 1) != 1) {  // the parent failed to write our maps
    ::_exit(126);
  }
  if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
    report(kSetIds, errno);
    ::_exit(126);
  }
  // Fails when the maps were written by an unprivileged process ("deny" in setgroups); the
  // supplementary groups then cannot be used anyway.
  (void)::setgroups(0, nullptr);
  // Mounts made by body stay in this namespace (they would not propagate out of a namespace
  // owned by a less privileged user namespace anyway; this makes it explicit).
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    report(kMountPrivate, errno);
    ::_exit(126);
  }
  report(kReady, 0);
  ::close(sock);
  int code = 125;
  try {
    code = body();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the exit status says it
    code = 125;
  }
  ::_exit(code);
}

// Reads one {stage, errno} report; EOF (the child died) reads as {kMapsNotWritten, EPIPE}.
std::pair<int, int> ReadReport(int sock) {
  int message[2] = {kMapsNotWritten, EPIPE};
  ssize_t n = 0;
  do {
    n = ::read(sock, message, sizeof(message));
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof(message))) {
    return {kMapsNotWritten, EPIPE};
  }
  return {message[0], message[1]};
}

// The child's wait status.
Result<int> Reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return Err(Error::FromErrno("waitpid", "user namespace child"));
    }
  }
  return status;
}

Error StageError(int stage, int code) {
  switch (stage) {
    case kUnshare:
      return Error::FromCode(code, "unshare", "user and mount namespace");
    case kSetIds:
      return Error::FromCode(code, "setresuid", "0 in the user namespace");
    case kMountPrivate:
      return Error::FromCode(code, "mount", "/ private in the user namespace");
    default:
      return Error::FromCode(code, "user namespace child", "exited during setup");
  }
}

}  // namespace

Result<std::vector<IdRange>> SubordinateIds(const std::string& file, uid_t uid,
                                            const std::string& user_name) {
  auto text = os::ReadFileLimited(file, kMaxFileSize);
  if (!text) {
    if (text.error().code() == ENOENT) {
      return Err(Error::NotFound(fmt::format("{} does not exist", file)));
    }
    return Err(std::move(text).error());
  }
  const std::string uid_text = std::to_string(uid);
  std::vector<IdRange> ranges;
  uint64_t next = 1;
  int line_number = 0;
  for (const std::string& line : Split(*text, '\n')) {
    ++line_number;
    std::string_view trimmed = TrimSpace(line);
    if (trimmed.empty() || trimmed[0] == '#') {
      continue;
    }
    std::vector<std::string> fields = Split(trimmed, ':');
    if (fields[0] != uid_text && (user_name.empty() || fields[0] != user_name)) {
      continue;
    }
    auto start = fields.size() == 3 ? ParseUint(fields[1]) : std::nullopt;
    auto count = fields.size() == 3 ? ParseUint(fields[2]) : std::nullopt;
    if (!start || !count || *start >= kIdSpace || *count > kIdSpace - *start) {
      return Err(Error::Invalid(fmt::format("{}:{}: malformed range {:?} (want name:start:count)",
                                            file, line_number, std::string(trimmed))));
    }
    if (*count == 0) {
      continue;
    }
    if (*count > kIdSpace - next) {
      return Err(Error::Invalid(
          fmt::format("{}: ranges of {} exceed the 32-bit id space", file, fields[0])));
    }
    ranges.push_back({static_cast<uint32_t>(next), static_cast<uint32_t>(*start),
                      static_cast<uint32_t>(*count)});
    next += *count;
  }
  return ranges;
}

std::vector<IdRange> RootlessIdMap(uint32_t own_id, const std::vector<IdRange>& subordinate) {
  std::vector<IdRange> map = {{0, own_id, 1}};
  map.insert(map.end(), subordinate.begin(), subordinate.end());
  return map;
}

Result<int> RunInUserNamespace(const std::vector<IdRange>& uid_map,
                               const std::vector<IdRange>& gid_map,
                               const std::function<int()>& body) {
  ASSIGN_OR_RETURN(int status, RunInUserNamespaceWaitStatus(uid_map, gid_map, body));
  if (WIFSIGNALED(status)) {
    return Err(Error(ECANCELED,
                     fmt::format("user namespace child killed by signal {}", WTERMSIG(status))));
  }
  return WEXITSTATUS(status);
}

Result<int> RunInUserNamespaceExitCode(const std::vector<IdRange>& uid_map,
                                       const std::vector<IdRange>& gid_map,
                                       const std::function<int()>& body) {
  ASSIGN_OR_RETURN(int status, RunInUserNamespaceWaitStatus(uid_map, gid_map, body));
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

Result<int> RunInUserNamespaceWaitStatus(const std::vector<IdRange>& uid_map,
                                         const std::vector<IdRange>& gid_map,
                                         const std::function<int()>& body) {
  if (uid_map.empty() || gid_map.empty()) {
    return Err(Error::Invalid("user namespace needs a uid and a gid map"));
  }
  const std::vector<oci::IdMapping> uids = ToMappings(uid_map);
  const std::vector<oci::IdMapping> gids = ToMappings(gid_map);
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return Err(Error::FromErrno("socketpair"));
  }
  os::UniqueFd parent_sock(fds[0]);
  os::UniqueFd child_sock(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    return Err(Error::FromErrno("fork", "user namespace child"));
  }
  if (pid == 0) {
    ::close(parent_sock.get());
    ChildMain(child_sock.get(), body);
  }
  child_sock.Reset();
  auto [stage, code] = ReadReport(parent_sock.get());
  Status mapped = stage == kReady ? runtime::WriteIdMappings(pid, uids, gids) : Ok();
  if (stage == kReady && mapped) {
    // MSG_NOSIGNAL: a child that died must give an error here, not SIGPIPE.
    char go = 1;
    if (::send(parent_sock.get(), &go, 1, MSG_NOSIGNAL) == 1) {
      std::tie(stage, code) = ReadReport(parent_sock.get());
    } else {
      std::tie(stage, code) = std::pair{kMapsNotWritten, errno};
    }
  }
  parent_sock.Reset();  // a child still waiting for "go" reads EOF and exits
  Result<int> status = Reap(pid);
  if (!mapped) {
    return Err(std::move(mapped).error().AddContext("writing user namespace maps"));
  }
  if (stage != kReady) {
    return Err(StageError(stage, code));
  }
  return status;
}

}  // namespace comet::image
