// cgroupfs file access, group trees and cgroupsPath resolution.
#include "cgroup/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <thread>

#include "base/strings.h"
#include "os/file.h"

namespace comet::cgroup {

Status WriteValue(const std::string& dir, std::string_view file, std::string_view value) {
  std::string path = os::JoinPath(dir, file);
  auto what = [&] { return "setting " + std::string(file) + " to " + JsonQuote(value); };
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno(what() + ": open", path));
  }
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int saved = errno;
  ::close(fd);
  if (n < 0) {
    return Err(Error::FromCode(saved, what()));
  }
  if (static_cast<size_t>(n) != value.size()) {
    return Err(Error(EIO, what() + ": short write to " + path));
  }
  return Ok();
}

Result<std::string> ReadValue(const std::string& dir, std::string_view file) {
  ASSIGN_OR_RETURN(std::string data, os::ReadFileLimited(os::JoinPath(dir, file), 1 << 20));
  while (!data.empty() && (data.back() == '\n' || data.back() == ' ')) {
    data.pop_back();
  }
  return data;
}

bool HasFile(const std::string& dir, std::string_view file) {
  return os::Exists(os::JoinPath(dir, file));
}

namespace {

// Names of the subdirectories of `dir` (child groups); empty when `dir` is missing.
std::vector<std::string> ChildGroups(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return out;
  }
  // readdir is safe on a stream no other thread uses (glibc, POSIX.1-2008 TC2).
  while (struct dirent* entry = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || entry->d_type != DT_DIR) {
      continue;
    }
    out.emplace_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status CollectPids(const std::string& dir, std::vector<pid_t>* pids) {
  auto data = os::ReadFileLimited(os::JoinPath(dir, "cgroup.procs"), 16 << 20);
  if (!data) {
    if (data.error().code() == ENOENT) {
      return Ok();
    }
    return Err(std::move(data).error());
  }
  for (const std::string& line : Split(*data, '\n')) {
    if (auto pid = ParseInt(TrimSpace(line)); pid && *pid > 0) {
      pids->push_back(static_cast<pid_t>(*pid));
    }
  }
  for (const std::string& child : ChildGroups(dir)) {
    RETURN_IF_ERROR(CollectPids(os::JoinPath(dir, child), pids));
  }
  return Ok();
}

}  // namespace

Result<std::vector<pid_t>> ReadPidsRecursive(const std::string& dir) {
  std::vector<pid_t> pids;
  RETURN_IF_ERROR(CollectPids(dir, &pids));
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

Status RemoveGroupTree(const std::string& dir) {
  // Most groups have no children: one rmdir, and a directory listing (about 40 control files
  // in a v1 memory group) only when the kernel says the group still has some.
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) {
    return Ok();
  }
  if (errno != ENOTEMPTY && errno != EBUSY) {
    return Err(Error::FromErrno("removing cgroup", dir));
  }
  for (const std::string& child : ChildGroups(dir)) {
    RETURN_IF_ERROR(RemoveGroupTree(os::JoinPath(dir, child)));
  }
  // A task killed a moment ago may still be leaving the group: rmdir fails with EBUSY until it
  // has (cgroup v2 also keeps dying tasks visible briefly). 100 tries x 10 ms.
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) {
      return Ok();
    }
    if (errno != EBUSY || attempt >= 100) {
      return Err(Error::FromErrno("removing cgroup", dir));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Status SignalAll(const std::vector<pid_t>& pids, int signal) {
  for (pid_t pid : pids) {
    if (::kill(pid, signal) != 0 && errno != ESRCH) {
      return Err(Error::FromErrno("kill", std::to_string(pid)));
    }
  }
  return Ok();
}

Status CheckPageSize(const std::string& page_size) {
  bool ok = !page_size.empty() && std::all_of(page_size.begin(), page_size.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
  if (!ok) {
    return Err(Error::Invalid("linux.resources.hugepageLimits pageSize " + JsonQuote(page_size) +
                              " is not valid"));
  }
  return Ok();
}

Result<GroupPath> ResolveGroupPath(const std::string& cgroups_path, const std::string& id) {
  // "slice:prefix:name" is the systemd driver's syntax; a plain path never has a ':' there.
  if (cgroups_path.find(':') != std::string::npos && cgroups_path.front() != '/') {
    return Err(Error::Invalid("cgroupsPath " + JsonQuote(cgroups_path) +
                              " is a systemd slice:prefix:name path, but the systemd cgroup "
                              "driver is not supported"));
  }
  GroupPath out;
  std::string_view raw = cgroups_path;
  if (raw.empty()) {
    if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..") {
      return Err(Error::Invalid("cannot derive a cgroup name from container id " + JsonQuote(id)));
    }
    raw = id;
  }
  out.relative = raw.front() != '/';
  for (const std::string& part : Split(raw, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      return Err(
          Error::Invalid("cgroupsPath " + JsonQuote(cgroups_path) + " must not contain \"..\""));
    }
    out.path += '/';
    out.path += part;
  }
  if (out.path.empty()) {
    return Err(
        Error::Invalid("cgroupsPath " + JsonQuote(cgroups_path) + " names the hierarchy root"));
  }
  return out;
}

std::string GroupDir(const std::string& root, const std::string& self, const GroupPath& group) {
  if (!group.relative || self.empty() || self == "/") {
    return os::JoinPath(root, group.path);
  }
  return os::JoinPath(os::JoinPath(root, self), group.path);
}

Status MakeGroupDirs(const std::string& root, const std::string& dir,
                     std::vector<std::string>* created) {
  if (!StartsWith(dir, root)) {
    return Err(Error::Invalid("cgroup " + dir + " is not below " + root));
  }
  std::string partial = root;
  for (const std::string& part : Split(std::string_view(dir).substr(root.size()), '/')) {
    if (part.empty()) {
      continue;
    }
    partial = os::JoinPath(partial, part);
    if (::mkdir(partial.c_str(), 0755) == 0) {
      created->push_back(partial);
    } else if (errno != EEXIST) {
      return Err(Error::FromErrno("creating cgroup", partial));
    }
  }
  // An existing group with processes belongs to someone else: using it would let a later
  // Destroy kill and remove what is not ours (runc refuses it too).
  if (created->empty() || created->back() != dir) {
    auto procs = os::ReadFileLimited(os::JoinPath(dir, "cgroup.procs"), 1 << 20);
    if (procs && !TrimSpace(*procs).empty()) {
      return Err(Error(EBUSY, "cgroup " + dir + " already exists and is not empty"));
    }
  }
  return Ok();
}

void RemoveCreated(const std::vector<std::string>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    ::rmdir(it->c_str());
  }
}

}  // namespace comet::cgroup
