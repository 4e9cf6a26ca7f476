// Pod-wide setup done by the supervisor on itself; see pod_setup.h.
#include "supervisor/pod_setup.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"
#include "os/unique_fd.h"
#include "pod/pod_dir.h"
#include "pod/pod_networks.h"
#include "pod/volatile_dir.h"
#include "supervisor/volume_seed.h"

namespace comet::supervisor {

std::string PodHostname(const pod::PodManifest& manifest) {
  if (!manifest.hostname.empty()) {
    return manifest.hostname;
  }
  return "comet-" + manifest.uuid;
}

Status BringLoopbackUp() {
  os::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) {
    return Err(Error::FromErrno("socket", "lo"));
  }
  struct ifreq request {};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) {
    return Err(Error::FromErrno("SIOCGIFFLAGS", "lo"));
  }
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) {
    return Err(Error::FromErrno("SIOCSIFFLAGS", "lo"));
  }
  return Ok();
}

Result<os::UniqueFd> OpenNetworkNamespace(const std::string& path) {
  os::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return Err(Error::FromErrno("open", "network namespace " + path));
  }
  struct statfs fs {};
  if (::fstatfs(fd.get(), &fs) != 0) {
    return Err(Error::FromErrno("statfs", path));
  }
  if (fs.f_type != NSFS_MAGIC || ::ioctl(fd.get(), NS_GET_NSTYPE) != CLONE_NEWNET) {
    return Err(Error::Invalid(fmt::format(
        "{}: not a network namespace (expected /run/netns/NAME or /proc/PID/ns/net)", path)));
  }
  return fd;
}

Status SetUpPodNamespaces(const pod::PodManifest& manifest, int netns_fd) {
  if (::unshare(CLONE_NEWNS) != 0) {
    return Err(Error::FromErrno("unshare", "mount namespace"));
  }
  // rslave: the host's later mounts (a volume source mounted after start) still reach us; the
  // snapshots we mount never reach the host, and die with this namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    return Err(Error::FromErrno("mount --make-rslave", "/"));
  }
  // --net=ns:PATH: opened once, here; the apps join it through the supervisor, so that a
  // restart cannot join whatever the path names by then (a /proc/PID whose PID was reused).
  os::UniqueFd joined;
  if (manifest.net == pod::NetMode::kNetns) {
    ASSIGN_OR_RETURN(joined, OpenNetworkNamespace(manifest.netns));
    netns_fd = joined.get();
  }
  const bool own_net = manifest.net == pod::NetMode::kNone;
  int flags = CLONE_NEWUTS;
  if (!manifest.host_ipc) {
    flags |= CLONE_NEWIPC;
  }
  if (own_net) {
    flags |= CLONE_NEWNET;
  }
  if (::unshare(flags) != 0) {
    return Err(Error::FromErrno("unshare", "pod ipc/uts/net namespaces"));
  }
  if (own_net) {
    RETURN_IF_ERROR_CTX(BringLoopbackUp(), "pod network namespace");
  }
  // Contained networks: the pinned namespace the CNI plugins set up (its lo is up).
  if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) {
    return Err(Error::FromErrno("setns", "the pod's network namespace"));
  }
  std::string hostname = PodHostname(manifest);
  if (::sethostname(hostname.data(), hostname.size()) != 0) {
    return Err(Error::FromErrno("sethostname", hostname));
  }
  return Ok();
}

std::string PodEtcFile(const std::string& pod_dir, const char* name) {
  return pod::PodEtcPath(pod_dir, name);
}

namespace {

constexpr size_t kMaxHostFileBytes = 1 << 20;

// The pod's /etc/hosts: with host networking the host's own (as podman does), else localhost and
// the pod's hostname; then the --hosts-entry lines.
// Whether a hosts file has a line naming `hostname`.
bool NamesHost(const std::string& hosts, const std::string& hostname) {
  for (const std::string& line : Split(hosts, '\n')) {
    std::string_view rest = TrimSpace(line.substr(0, line.find('#')));
    const size_t blank = rest.find_first_of(" \t");
    if (blank == std::string_view::npos) {
      continue;
    }
    rest = rest.substr(blank);
    while (!(rest = TrimSpace(rest)).empty()) {
      const size_t end = rest.find_first_of(" \t");
      if (rest.substr(0, end) == hostname) {
        return true;
      }
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
  }
  return false;
}

Result<std::string> HostsText(const pod::PodManifest& manifest, const std::string& hostname,
                              const std::vector<pod::PodNetworkAddress>& addresses) {
  std::string text;
  if (manifest.net == pod::NetMode::kHost) {
    auto host = os::ReadFileLimited("/etc/hosts", kMaxHostFileBytes);
    if (host) {
      text = std::move(*host);
      if (!text.empty() && text.back() != '\n') {
        text += '\n';
      }
    } else if (host.error().code() != ENOENT) {
      return Err(std::move(host).error().AddContext("the host's /etc/hosts"));
    }
  }
  const bool host_file = !text.empty();
  if (!host_file) {
    text =
        "127.0.0.1\tlocalhost localhost.localdomain\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n";
  }
  // The pod's hostname resolves to its own addresses (as podman's /etc/hosts has it: what a
  // clustered app advertises), else to 127.0.1.1 as on Debian — also with the host's file, which
  // does not know the pod's hostname.
  bool named = false;
  for (const pod::PodNetworkAddress& address : addresses) {
    for (const std::string* ip : {&address.ipv4, &address.ipv6}) {
      if (!ip->empty()) {
        text += fmt::format("{}\t{}\n", *ip, hostname);
        named = true;
      }
    }
  }
  if (!named && !(host_file && NamesHost(text, hostname))) {
    text += fmt::format("127.0.1.1\t{}\n", hostname);
  }
  for (const pod::HostsEntry& entry : manifest.hosts_entries) {
    text += fmt::format("{}\t{}\n", entry.ip, Join(entry.names, " "));
  }
  return text;
}

std::string ResolvConfText(const pod::PodManifest& manifest) {
  std::string text;
  for (const std::string& server : manifest.dns) {
    text += "nameserver " + server + "\n";
  }
  if (!manifest.dns_search.empty()) {
    text += "search " + Join(manifest.dns_search, " ") + "\n";
  }
  if (!manifest.dns_opt.empty()) {
    text += "options " + Join(manifest.dns_opt, " ") + "\n";
  }
  return text;
}

// The host's resolv.conf for a pod with a network namespace of its own: a nameserver on the
// host's loopback (systemd-resolved's 127.0.0.53, a local dnsmasq) cannot be reached from there,
// so those lines go (podman does the same).
std::string WithoutLoopbackNameservers(const std::string& resolv) {
  std::string out;
  for (const std::string& line : Split(resolv, '\n')) {
    std::string_view words = TrimSpace(line);
    bool loopback = false;
    if (StartsWith(words, "nameserver") && words.size() > 10 &&
        (words[10] == ' ' || words[10] == '\t')) {
      std::string_view server = TrimSpace(words.substr(10));
      server = server.substr(0, server.find_first_of(" \t"));
      loopback = StartsWith(server, "127.") || server == "::1" || server == "0:0:0:0:0:0:0:1";
    }
    if (!loopback && !(line.empty() && out.empty())) {
      out += line + "\n";
    }
  }
  while (out.size() >= 2 && out.ends_with("\n\n")) {
    out.pop_back();
  }
  return out;
}

// The host's resolv.conf for a pod on contained networks. On a host whose only nameserver is
// systemd-resolved's stub (127.0.0.53), the servers behind it are in
// /run/systemd/resolve/resolv.conf: those, as podman does.
std::string ContainedResolvConf(const std::string& host) {
  std::string resolv = WithoutLoopbackNameservers(host);
  if (resolv.find("nameserver") == std::string::npos &&
      host.find("127.0.0.53") != std::string::npos) {
    if (auto upstream = os::ReadFileLimited("/run/systemd/resolve/resolv.conf", kMaxHostFileBytes);
        upstream) {
      resolv = WithoutLoopbackNameservers(*upstream);
    }
  }
  return resolv;
}

}  // namespace

Result<bool> WritePodEtcFiles(const std::string& pod_dir, const pod::PodManifest& manifest,
                              const std::vector<pod::PodNetworkAddress>& addresses) {
  RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(os::JoinPath(pod_dir, pod::kStateLink), "etc"), 0755));
  std::string hostname = PodHostname(manifest);
  ASSIGN_OR_RETURN(std::string hosts, HostsText(manifest, hostname, addresses));
  RETURN_IF_ERROR(os::ReplaceFile(PodEtcFile(pod_dir, "hosts"), hosts, 0644));
  RETURN_IF_ERROR(os::ReplaceFile(PodEtcFile(pod_dir, "hostname"), hostname + "\n", 0644));
  std::string resolv;
  if (!manifest.dns.empty() || !manifest.dns_search.empty() || !manifest.dns_opt.empty()) {
    resolv = ResolvConfText(manifest);
  } else if (manifest.net == pod::NetMode::kHost || manifest.net == pod::NetMode::kNetworks) {
    auto host = os::ReadFileLimited("/etc/resolv.conf", kMaxHostFileBytes);
    if (!host) {
      return false;  // the host has none: leave the image's
    }
    resolv = manifest.net == pod::NetMode::kHost ? std::move(*host) : ContainedResolvConf(*host);
  } else {
    return false;
  }
  RETURN_IF_ERROR(os::ReplaceFile(PodEtcFile(pod_dir, "resolv.conf"), resolv, 0644));
  return true;
}

Status SetUpVolumes(const std::string& pod_dir, const pod::PodManifest& manifest) {
  for (const pod::Volume& volume : manifest.volumes) {
    if (volume.kind != pod::VolumeKind::kEmpty) {
      continue;
    }
    std::string dir = pod::VolumeDir(pod_dir, volume.name);
    RETURN_IF_ERROR(os::MkdirAll(dir, 0755));
    if (volume.medium == "memory") {
      std::string data =
          fmt::format("mode={:o},uid={},gid={}", volume.mode, volume.uid, volume.gid);
      if (volume.size_bytes > 0) {
        data += fmt::format(",size={}", volume.size_bytes);
      }
      if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, data.c_str()) != 0) {
        return Err(Error::FromErrno("mount tmpfs", dir));
      }
    } else {
      // The directory is ours (made just now or by an earlier run of this pod): lchown cannot
      // be redirected by a symlink.
      if (::lchown(dir.c_str(), volume.uid, volume.gid) != 0) {
        return Err(Error::FromErrno("chown", dir));
      }
      if (::chmod(dir.c_str(), volume.mode & 07777) != 0) {
        return Err(Error::FromErrno("chmod", dir));
      }
    }
    if (!volume.seed.empty()) {
      RETURN_IF_ERROR_CTX(
          SeedVolume(os::JoinPath(pod_dir, volume.seed), dir, volume.uid, volume.gid),
          "volume " + volume.name);
    }
  }
  return Ok();
}

}  // namespace comet::supervisor
