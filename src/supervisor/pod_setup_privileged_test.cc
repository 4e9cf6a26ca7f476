// Pod setup on a real process: namespaces, hostname, loopback, volumes. Each test body runs in
// a forked child (RunInChild), so no namespace or mount leaks into the test process.
#include <linux/magic.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/pod_dir.h"
#include "supervisor/pod_setup.h"
#include "testing/in_child.h"

namespace comet::supervisor {
namespace {

ino_t NamespaceInode(const char* name) {
  struct stat st {};
  std::string path = std::string("/proc/self/ns/") + name;
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool LoopbackUp() {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq request {};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = ::ioctl(sock, SIOCGIFFLAGS, &request) == 0 && (request.ifr_flags & IFF_UP) != 0;
  ::close(sock);
  return up;
}

pod::PodManifest Manifest() {
  pod::PodManifest manifest;
  manifest.uuid = "6f1c2d3e-1111-4222-8333-944455566677";
  return manifest;
}

class PodSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root";
    }
  }
};

TEST_F(PodSetupTest, NetNoneMakesNamespacesAndHostname) {
  ino_t host_net = NamespaceInode("net");
  ino_t host_mnt = NamespaceInode("mnt");
  ino_t host_uts = NamespaceInode("uts");
  ino_t host_ipc = NamespaceInode("ipc");
  auto outcome = testing::RunInChild([&] {
    pod::PodManifest manifest = Manifest();
    manifest.hostname = "podhost";
    if (auto st = SetUpPodNamespaces(manifest); !st) {
      (void)std::fprintf(stderr, "%s\n", st.error().ToString().c_str());
      return 1;
    }
    char name[64] = {};
    ::gethostname(name, sizeof(name) - 1);
    if (std::string(name) != "podhost") {
      return 2;
    }
    if (NamespaceInode("net") == host_net) {
      return 3;
    }
    if (NamespaceInode("mnt") == host_mnt) {
      return 4;
    }
    if (NamespaceInode("uts") == host_uts) {
      return 5;
    }
    if (NamespaceInode("ipc") == host_ipc) {
      return 6;
    }
    if (!LoopbackUp()) {
      return 7;
    }
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST_F(PodSetupTest, HostNetworkStaysInTheHostsNamespace) {
  ino_t host_net = NamespaceInode("net");
  auto outcome = testing::RunInChild([&] {
    pod::PodManifest manifest = Manifest();
    manifest.net = pod::NetMode::kHost;
    if (!SetUpPodNamespaces(manifest)) {
      return 1;
    }
    char name[64] = {};
    ::gethostname(name, sizeof(name) - 1);
    if (std::string(name) != "comet-6f1c2d3e-1111-4222-8333-944455566677") {
      return 2;
    }
    return NamespaceInode("net") == host_net ? 0 : 3;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST_F(PodSetupTest, EmptyVolumesOnDiskAndInMemory) {
  auto dir = os::TempDir::Create("pod-setup-");
  ASSERT_TRUE(dir);
  std::string pod_dir = dir->path();
  auto outcome = testing::RunInChild([&] {
    pod::PodManifest manifest = Manifest();
    pod::Volume disk;
    disk.name = "disk";
    disk.mode = 0710;
    disk.uid = 1234;
    disk.gid = 5678;
    pod::Volume memory;
    memory.name = "mem";
    memory.medium = "memory";
    memory.size_bytes = 1 << 20;
    manifest.volumes = {disk, memory};
    if (!SetUpPodNamespaces(manifest)) {
      return 1;
    }
    if (auto st = SetUpVolumes(pod_dir, manifest); !st) {
      (void)std::fprintf(stderr, "%s\n", st.error().ToString().c_str());
      return 2;
    }
    struct stat st {};
    if (::stat(pod::VolumeDir(pod_dir, "disk").c_str(), &st) != 0) {
      return 3;
    }
    if ((st.st_mode & 07777) != 0710 || st.st_uid != 1234 || st.st_gid != 5678) {
      return 4;
    }
    struct statfs fs {};
    if (::statfs(pod::VolumeDir(pod_dir, "mem").c_str(), &fs) != 0) {
      return 5;
    }
    if (fs.f_type != TMPFS_MAGIC) {
      return 6;
    }
    if (static_cast<uint64_t>(fs.f_blocks) * static_cast<uint64_t>(fs.f_bsize) != 1 << 20) {
      return 7;
    }
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  // The tmpfs lived in the child's mount namespace only.
  struct statfs fs {};
  ASSERT_EQ(::statfs(pod::VolumeDir(pod_dir, "mem").c_str(), &fs), 0);
  EXPECT_NE(fs.f_type, TMPFS_MAGIC);
}

TEST(PodEtcFilesTest, WritesHostsHostnameResolvConf) {
  auto dir = os::TempDir::Create("pod-etc-");
  ASSERT_TRUE(dir);
  pod::PodManifest manifest = Manifest();
  manifest.hostname = "web";
  auto written = WritePodEtcFiles(dir->path(), manifest, {});
  ASSERT_TRUE(written) << written.error().ToString();
  EXPECT_FALSE(*written);  // no DNS settings, no host network: the image's resolv.conf stays
  auto hosts = os::ReadFile(PodEtcFile(dir->path(), "hosts"));
  ASSERT_TRUE(hosts);
  EXPECT_NE(hosts->find("127.0.0.1\tlocalhost"), std::string::npos);
  EXPECT_NE(hosts->find("\tweb\n"), std::string::npos);
  EXPECT_EQ(*os::ReadFile(PodEtcFile(dir->path(), "hostname")), "web\n");

  manifest.dns = {"10.0.0.53", "10.0.0.54"};
  manifest.dns_search = {"example.org"};
  manifest.dns_opt = {"ndots:2"};
  written = WritePodEtcFiles(dir->path(), manifest, {});
  ASSERT_TRUE(written && *written);
  EXPECT_EQ(*os::ReadFile(PodEtcFile(dir->path(), "resolv.conf")),
            "nameserver 10.0.0.53\nnameserver 10.0.0.54\nsearch example.org\noptions ndots:2\n");
}

}  // namespace
}  // namespace comet::supervisor
