#!/usr/bin/env bash
# Installs every Debian 12 package comet needs to build, test and benchmark.
# Idempotent; run as root (or through sudo). Nothing is fetched from outside Debian's mirror.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  exec sudo --preserve-env=DEBIAN_FRONTEND "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive

packages=(
  # toolchain (clang-14 builds the asan preset)
  build-essential cmake ninja-build pkg-config git
  clang-14 clang-tidy-14 clang-format-14 libclang-rt-14-dev
  # lint: clang-tidy-14 runs 2.5x faster on tcmalloc than on glibc's malloc (scripts/lint.sh)
  libtcmalloc-minimal4
  # libraries
  libexpected-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libseccomp-dev libcap-dev libsystemd-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # the image store: hashing, archives, compression, registries
  nettle-dev libarchive-dev zlib1g-dev libzstd-dev libcurl4-openssl-dev
  # the api-service: gRPC and protobuf (C++), and Python's for the second test client
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  python3-grpcio python3-grpc-tools
  # runtime helpers and the in-container test payload
  busybox-static uidmap iproute2 util-linux procps passwd time
  # scripts: make-bundle.sh writes config.json with python3; check-format.sh runs shellcheck
  python3 shellcheck
  # peers used by tests and benchmarks
  crun runc podman conmon hyperfine skopeo umoci
  # podman kube play (bench/node) builds its pause image around catatonit
  catatonit
  # image tests: a real registry (docker-registry), htpasswd for its basic auth, openssl for its
  # TLS certificates and token signing, zstd for compressed layers
  docker-registry apache2-utils openssl zstd
  # pod networking: the CNI plugins (bridge, ptp, host-local, portmap, firewall...), iptables
  # for their rules, slirp4netns and pasta (passt) for rootless pods, iperf3 for bench/net
  containernetworking-plugins iptables slirp4netns passt iperf3
  # the node agent's tests boot a real systemd (and its D-Bus) in their own namespaces
  systemd systemd-container dbus
)

# apt lists may be missing on a fresh machine; update at most once an hour.
stamp=/var/lib/apt/periodic/update-success-stamp
if [[ ! -d /var/lib/apt/lists/partial ]] || [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -60 2>/dev/null | head -1) ]]; then
  apt-get update -qq
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
: "${stamp}"
