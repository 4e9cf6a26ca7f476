// The pod commands' network flags: --net, --port and --hosts-entry (rkt's forms, and podman's
// where it had more), and stage0's resolution of rkt's named ports against the images' exposed
// ports. Pure, thread-safe.
#ifndef COMET_CLI_POD_NET_FLAGS_H_
#define COMET_CLI_POD_NET_FLAGS_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pod/manifest.h"

namespace comet::cli {

// --net: "none", "host", "ns:PATH" (an existing network namespace, as podman's), or a
// comma-separated list of networks ("default", names from /etc/comet/net.d). Sets the pod's
// net, networks and netns.
[[nodiscard]] Status ApplyNetFlag(std::string_view value, pod::PodManifest& pod);

// --port: `[HOSTIP:]HOSTPORT:PODPORT[/tcp|/udp]` (an IPv6 HOSTIP in brackets), or rkt's
// `NAME:[HOSTIP:]HOSTPORT`, whose pod port and protocol come later from the image port NAME
// (pod_port 0 until ResolveNamedPorts).
[[nodiscard]] Result<pod::PortMapping> ParsePortFlag(std::string_view text);

// --hosts-entry: rkt's `IP=HOSTNAME` (also `IP=NAME,NAME...`).
[[nodiscard]] Result<pod::HostsEntry> ParseHostsEntryFlag(std::string_view text);

// The ports an image exposes (its config's ExposedPorts: "80/tcp", "53/udp", "8080") by the names
// rkt gave them when it converted docker images: "80-tcp", "53-udp", "8080-tcp".
struct ExposedPort {
  std::string name;
  uint32_t port = 0;
  std::string protocol;
};
[[nodiscard]] std::vector<ExposedPort> NamedExposedPorts(const std::vector<std::string>& exposed);

// Gives each named mapping of `ports` (pod_port 0) the port and protocol of the exposed port of
// that name; an unknown name is an error listing the names there are.
[[nodiscard]] Status ResolveNamedPorts(std::vector<pod::PortMapping>& ports,
                                       const std::vector<ExposedPort>& exposed);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_NET_FLAGS_H_
