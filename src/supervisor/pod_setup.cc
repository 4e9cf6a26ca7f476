// Pod-wide setup done by the supervisor on itself; see pod_setup.h.
#include "supervisor/pod_setup.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"
#include "os/unique_fd.h"
#include "pod/pod_dir.h"
#include "pod/volatile_dir.h"

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

Status SetUpPodNamespaces(const pod::PodManifest& manifest) {
  if (::unshare(CLONE_NEWNS) != 0) {
    return Err(Error::FromErrno("unshare", "mount namespace"));
  }
  // rslave: the host's later mounts (a volume source mounted after start) still reach us; the
  // snapshots we mount never reach the host, and die with this namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    return Err(Error::FromErrno("mount --make-rslave", "/"));
  }
  int flags = CLONE_NEWIPC | CLONE_NEWUTS;
  if (manifest.net == pod::NetMode::kNone) {
    flags |= CLONE_NEWNET;
  }
  if (::unshare(flags) != 0) {
    return Err(Error::FromErrno("unshare", "pod ipc/uts/net namespaces"));
  }
  if (manifest.net == pod::NetMode::kNone) {
    RETURN_IF_ERROR_CTX(BringLoopbackUp(), "pod network namespace");
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

std::string HostsText(const std::string& hostname) {
  return fmt::format(
      "127.0.0.1\tlocalhost localhost.localdomain\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "127.0.1.1\t{}\n",
      hostname);
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

}  // namespace

Result<bool> WritePodEtcFiles(const std::string& pod_dir, const pod::PodManifest& manifest) {
  RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(os::JoinPath(pod_dir, pod::kStateLink), "etc"), 0755));
  std::string hostname = PodHostname(manifest);
  RETURN_IF_ERROR(os::ReplaceFile(PodEtcFile(pod_dir, "hosts"), HostsText(hostname), 0644));
  RETURN_IF_ERROR(os::ReplaceFile(PodEtcFile(pod_dir, "hostname"), hostname + "\n", 0644));
  std::string resolv;
  if (!manifest.dns.empty() || !manifest.dns_search.empty() || !manifest.dns_opt.empty()) {
    resolv = ResolvConfText(manifest);
  } else if (manifest.net == pod::NetMode::kHost) {
    auto host = os::ReadFileLimited("/etc/resolv.conf", 64 << 10);
    if (!host) {
      return false;  // the host has none: leave the image's
    }
    resolv = std::move(*host);
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
      continue;
    }
    // The directory is ours (made just now or by an earlier run of this pod): lchown cannot be
    // redirected by a symlink.
    if (::lchown(dir.c_str(), volume.uid, volume.gid) != 0) {
      return Err(Error::FromErrno("chown", dir));
    }
    if (::chmod(dir.c_str(), volume.mode & 07777) != 0) {
      return Err(Error::FromErrno("chmod", dir));
    }
  }
  return Ok();
}

}  // namespace comet::supervisor
