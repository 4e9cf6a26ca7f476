// TestNetworkEnv; see privileged_test_env.h.
#include "network/privileged_test_env.h"

#include <dirent.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <regex>
#include <vector>

#include "base/strings.h"
#include "os/file.h"
#include "os/subprocess.h"

namespace comet::network {

namespace {

Status LoopbackUp() {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq req{};
  std::strcpy(req.ifr_name, "lo");
  bool ok = sock >= 0 && ::ioctl(sock, SIOCGIFFLAGS, &req) == 0;
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  ok = ok && ::ioctl(sock, SIOCSIFFLAGS, &req) == 0;
  ::close(sock);
  return ok ? Ok() : Err(Error::FromErrno("bringing up", "lo"));
}

Result<std::string> Run(std::vector<std::string> argv) {
  os::SubprocessOptions options;
  options.program = argv[0];
  options.argv = std::move(argv);
  options.timeout = std::chrono::seconds(20);
  ASSIGN_OR_RETURN(os::SubprocessResult r, os::RunSubprocess(options));
  if (!r.Succeeded()) {
    return Err(Error::Invalid(options.program + ": " + r.Describe() + ": " + r.stderr_data));
  }
  return r.stdout_data;
}

// Names in `dir` and its subdirectories, except host-local's bookkeeping files.
void ListFiles(const std::string& dir, std::vector<std::string>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return;
  }
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name == "lock" || StartsWith(name, "last_reserved_ip")) {
      continue;
    }
    std::string path = dir;
    path.append("/").append(name);
    out->push_back(path);
    if (e->d_type == DT_DIR) {
      ListFiles(path, out);
    }
  }
  ::closedir(d);
}

}  // namespace

Result<TestNetworkEnv> TestNetworkEnv::Create() {
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
    return Err(Error::FromErrno("unshare", "net and mount namespaces"));
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Err(Error::FromErrno("making / private"));
  }
  if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
    return Err(Error::FromErrno("mounting tmpfs", "/tmp"));
  }
  RETURN_IF_ERROR(LoopbackUp());
  TestNetworkEnv env;
  RETURN_IF_ERROR(os::MkdirAll(env.netns_dir()));
  RETURN_IF_ERROR(os::MkdirAll(env.ipam_dir()));
  RETURN_IF_ERROR(os::MkdirAll(env.scratch_dir()));
  return env;
}

Result<std::string> NetworkStateSnapshot(const TestNetworkEnv& env) {
  std::string out;
  ASSIGN_OR_RETURN(std::string links, Run({"/usr/sbin/ip", "-o", "link", "show"}));
  for (const std::string& line : Split(links, '\n')) {
    std::vector<std::string> fields = Split(line, ' ');
    if (fields.size() > 1) {
      out += "link " + fields[1] + "\n";  // ifindex and state left out on purpose
    }
  }
  ASSIGN_OR_RETURN(std::string addrs, Run({"/usr/sbin/ip", "-o", "addr", "show"}));
  for (const std::string& line : Split(addrs, '\n')) {
    std::vector<std::string> fields = Split(line, ' ');
    std::vector<std::string> words;
    std::copy_if(fields.begin(), fields.end(), std::back_inserter(words),
                 [](const std::string& w) { return !w.empty(); });
    if (words.size() > 3) {
      out.append("addr ").append(words[1]).append(" ").append(words[3]).append("\n");
    }
  }
  static const std::regex kCounters(R"(\[\d+:\d+\])");
  for (const char* tool : {"/usr/sbin/iptables-save", "/usr/sbin/ip6tables-save"}) {
    ASSIGN_OR_RETURN(std::string rules, Run({tool}));
    for (const std::string& line : Split(rules, '\n')) {
      if (!line.empty() && line[0] != '#') {
        out += std::string("rule ") + std::regex_replace(line, kCounters, "") + "\n";
      }
    }
  }
  std::vector<std::string> files;
  ListFiles(env.ipam_dir(), &files);
  ListFiles(env.netns_dir(), &files);
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    out += "file " + f + "\n";
  }
  return out;
}

}  // namespace comet::network
