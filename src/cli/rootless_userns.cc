// Re-executing comet in a user namespace for rootless image commands (user_namespaces(7),
// subuid(5)). Not thread-safe: changes signal dispositions while it waits.
#include "cli/rootless_userns.h"

#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "base/scope_exit.h"
#include "base/strings.h"
#include "image/userns.h"
#include "os/file.h"

namespace comet::cli {
namespace {

using image::IdRange;

std::string UserName(uid_t uid) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return "";  // no passwd entry: subuid lines can still name the uid
  }
  return found->pw_name;
}

// The user's ranges in `file`; none when the file does not exist.
Result<std::vector<IdRange>> Subordinate(const std::string& file, uid_t uid,
                                         const std::string& name) {
  auto ranges = image::SubordinateIds(file, uid, name);
  if (!ranges && ranges.error().code() == ENOENT) {
    return std::vector<IdRange>{};
  }
  return ranges;
}

// Our environment without earlier markers, plus the new ones; owned strings for execve.
std::vector<std::string> ChildEnvironment(bool mapped) {
  std::vector<std::string> env;
  const std::string marker = std::string(kUsernsEnv) + "=";
  const std::string mapped_marker = std::string(kUsernsMappedEnv) + "=";
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (StartsWith(text, marker) || StartsWith(text, mapped_marker)) {
      continue;
    }
    env.emplace_back(text);
  }
  env.push_back(marker + "1");
  if (mapped) {
    env.push_back(mapped_marker + "1");
  }
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) {
    pointers.push_back(s.data());
  }
  pointers.push_back(nullptr);
  return pointers;
}

void WriteStderr(const char* text) {
  ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

bool InInitialUserNamespace() {
  auto map = os::ReadFileLimited("/proc/self/uid_map", 4096);
  if (!map) {
    return true;  // no user namespaces in this kernel
  }
  std::vector<std::string> fields;
  for (std::string& field : Split(TrimSpace(*map), ' ')) {
    if (!field.empty()) {
      fields.push_back(std::move(field));
    }
  }
  return fields == std::vector<std::string>{"0", "0", "4294967295"};
}

}  // namespace

bool InRootlessUserNamespace() {
  // getenv: read from the single main thread.
  return std::getenv(kUsernsEnv) != nullptr &&  // NOLINT(concurrency-mt-unsafe)
         !InInitialUserNamespace();
}

Result<std::optional<int>> ReexecInUserNamespaceIfRootless(const std::vector<std::string>& args) {
  if (::geteuid() == 0 || std::getenv(kUsernsEnv) != nullptr) {  // NOLINT(concurrency-mt-unsafe)
    return std::optional<int>();
  }
  if (args.empty()) {
    return Err(Error::Invalid("re-executing comet: no arguments"));
  }
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  const std::string name = UserName(uid);
  // newgidmap(1) checks /etc/subgid by the user's name or uid, not by the gid.
  ASSIGN_OR_RETURN(std::vector<IdRange> subuids, Subordinate("/etc/subuid", uid, name));
  ASSIGN_OR_RETURN(std::vector<IdRange> subgids, Subordinate("/etc/subgid", uid, name));
  // A half-mapped namespace could not chown (an unmapped gid is EINVAL): map both or neither.
  const bool mapped = !subuids.empty() && !subgids.empty();
  if (!mapped) {
    subuids.clear();
    subgids.clear();
  }
  const std::vector<IdRange> uid_map = image::RootlessIdMap(uid, subuids);
  const std::vector<IdRange> gid_map = image::RootlessIdMap(gid, subgids);

  // Everything the child uses is prepared here: it runs between fork and exec.
  std::vector<std::string> argv_strings = args;
  std::vector<char*> argv = Pointers(argv_strings);
  std::vector<std::string> env_strings = ChildEnvironment(mapped);
  std::vector<char*> envp = Pointers(env_strings);
  const pid_t parent = ::getpid();

  // Like system(3): a terminal's ^C or ^\ reaches the child, which decides; we wait for it.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  struct sigaction old_int {};
  struct sigaction old_quit {};
  (void)::sigaction(SIGINT, &ignore, &old_int);
  (void)::sigaction(SIGQUIT, &ignore, &old_quit);
  ScopeExit restore([&] {
    (void)::sigaction(SIGINT, &old_int, nullptr);
    (void)::sigaction(SIGQUIT, &old_quit, nullptr);
  });
  auto body = [&]() -> int {
    (void)::sigaction(SIGINT, &old_int, nullptr);
    (void)::sigaction(SIGQUIT, &old_quit, nullptr);
    // Kept across our execve (same ids, no file capabilities): a killed parent stops us too.
    (void)::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (::getppid() != parent) {
      return 128 + SIGTERM;  // it died before prctl
    }
    ::execve("/proc/self/exe", argv.data(), envp.data());
    const int error = errno;
    WriteStderr("comet: re-executing /proc/self/exe in the user namespace: ");
    WriteStderr(::strerrordesc_np(error));
    WriteStderr("\n");
    return 127;
  };
  auto code = image::RunInUserNamespaceExitCode(uid_map, gid_map, body);
  if (!code) {
    return Err(std::move(code).error().AddContext(
        mapped ? "creating the user namespace for rootless image commands (set COMET_USERNS=0 "
                 "to run without one)"
               : "creating the user namespace for rootless image commands (no /etc/subuid and "
                 "/etc/subgid ranges; set COMET_USERNS=0 to run without one)"));
  }
  return std::optional<int>(*code);
}

}  // namespace comet::cli
