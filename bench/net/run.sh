#!/usr/bin/env bash
# Pod networking benchmark. (1) Pod start: `comet run --rm --net=default` (CNI bridge comet0,
# portmap) vs `--net=none` vs `podman run --rm` on podman's default CNI network (and
# --network=none), busybox /bin/true, hyperfine in rotated rounds; medians and ratios.
# (2) TCP throughput through a published port: an iperf3 server in a pod (comet --net=default
# --port=127.0.0.1:HP:5201, podman -p 127.0.0.1:HP:5201), iperf3 client on the host side for
# --seconds per run, interleaved rounds; Gbit/s medians, comet/podman, plus plain loopback as the
# ceiling; then the same rootless (as $COMET_TEST_USER, default comet-test): comet when it can run
# --net=default rootless, else "rootless: skipped (why)"; podman (slirp4netns) when it can.
# usage: bench/net/run.sh [--rounds N] [--runs N] [--warmup N] [--iperf-rounds N] [--seconds S]
# Environment: COMET (default: the newest build/*/src/cmd/comet), BENCH_TMP (default /var/tmp).
# Root. Everything runs in a private network namespace (and mount namespace) made here: bridges,
# iptables rules, pods and traffic stay in it and vanish with it; only loopback is used.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/../lib.sh"
rounds=4 runs=10 warmup=3 iperf_rounds=5 seconds=3
bench_parse_args 2,13 rounds=rounds runs=runs warmup=warmup iperf-rounds=iperf_rounds \
  seconds=seconds -- "$@"
bench_require_root "comet rootful pods on CNI networks, podman as root"
bench_require_tools hyperfine python3 tar iperf3 ip unshare iptables ldd setpriv timeout
bench_find_comet
supervisor=${COMET_SUPERVISOR:-$(dirname "$comet")/comet-supervisor}
[[ -x $supervisor ]] || die "comet-supervisor not found beside $comet (set COMET_SUPERVISOR)"
# Absolute: the rootless part runs them as another user.
comet=$(readlink -f "$comet") supervisor=$(readlink -f "$supervisor")
bench_check_podman "comet only"
# Everything, comet too, runs under the same cgroup layout and with /run on a tmpfs.
if ((have_podman)); then
  bench_rerun_with_hugetlb_v1 "$@"
fi
[[ -n ${BENCH_HOST_RUN:-} ]] || bench_rerun_with_tmpfs_run "$@"
# The network rule: a private network namespace (lo up) for the whole run, with a private mount
# namespace in which podman's CNI state (/var/lib/cni: host-local leases, result cache) is a
# tmpfs, so nothing of the networks set up here reaches the host's. Rootless networking (pasta)
# wants an "external" interface with a default route to copy: a veth pair whose both ends stay
# in the namespace, one addressed in TEST-NET-1 (RFC 5737) with the default route; whatever
# took that route would die at the other, unaddressed end.
if [[ -z ${COMET_BENCH_NETNS:-} ]]; then
  export COMET_BENCH_NETNS=1 COMET_BENCH_MADE_CNI_DIR=
  if [[ ! -d /var/lib/cni ]]; then
    mkdir /var/lib/cni
    COMET_BENCH_MADE_CNI_DIR=1
  fi
  # shellcheck disable=SC2016 # the inner bash expands these
  exec unshare --net --mount --propagation private -- bash -c '
    ip link set lo up &&
      ip link add comet-bench0 type veth peer name comet-bench1 &&
      ip link set comet-bench1 up && ip link set comet-bench0 up &&
      ip addr add 192.0.2.1/24 dev comet-bench0 &&
      ip route add default via 192.0.2.254 dev comet-bench0 &&
      mount -t tmpfs -o mode=0755,nosuid,nodev,size=16m comet-bench-cni /var/lib/cni &&
      exec "$@"' netns "$0" "$@"
fi
echo "run.sh: comet = $comet (network namespace $(readlink /proc/self/ns/net))"

bench_make_tmp net
podman_host_note
C() { "$comet" --dir "$tmp/comet" "$@"; }
loopback_pid=
cleanup() {
  trap - EXIT INT TERM
  # Best effort: every step runs whatever the previous one did.
  set +e +o pipefail
  echo "run.sh: cleaning up"
  [[ -z $loopback_pid ]] || kill "$loopback_pid" 2>/dev/null
  net_rootless_cleanup
  bench_comet_cleanup
  bench_podman_cleanup
  podman_host_cleanup
  bench_remove_tmp
  umount /var/lib/cni
  [[ -z $COMET_BENCH_MADE_CNI_DIR ]] || rmdir /var/lib/cni
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Images: busybox (lib.sh) and iperf3 (Debian's binary and the libraries ldd lists, over the
# busybox tree for /bin/sh and /tmp, where iperf3 keeps its buffer file).
bench_comet_image
cp -a "$tmp/bundle/rootfs" "$tmp/iperf3-rootfs"
mkdir -p "$tmp/iperf3-rootfs/tmp"
chmod 1777 "$tmp/iperf3-rootfs/tmp"
for lib in /usr/bin/iperf3 $(ldd /usr/bin/iperf3 | awk '$2 == "=>" && $3 ~ /^\// {print $3}
    $1 ~ /^\// {print $1}'); do
  cp -L --parents "$lib" "$tmp/iperf3-rootfs"
done
tar --numeric-owner -C "$tmp/iperf3-rootfs" -cf "$tmp/iperf3.tar" .
C image import --format rootfs --name bench/iperf3:1 "$tmp/iperf3.tar" >/dev/null
if ((have_podman)); then
  bench_podman_setup
  # podman's default network as installed (/etc/cni/net.d: "podman", bridge cni-podman0), with
  # the CNI backend; bench_podman_setup's netns = "none" stays the default, so ask for it.
  printf '[network]\nnetwork_backend = "cni"\n' >>"$tmp/containers.conf"
  P import --quiet "$tmp/iperf3.tar" localhost/bench-iperf3:1 >/dev/null
fi

# --- (1) Pod start.
pod_start() {
  local base="$comet --dir $tmp/comet run --rm"
  names=(comet-default comet-none)
  cmds=("$base --net=default bench/busybox:1 -- /bin/true" "$base --net=none bench/busybox:1 -- /bin/true")
  if ((have_podman)); then
    names+=(podman-default podman-none)
    cmds+=("$(bench_podman_command) run --rm --network=bridge localhost/bench-busybox:1 /bin/true"
      "$(bench_podman_command) run --rm --network=none localhost/bench-busybox:1 /bin/true")
  fi
  for i in "${!names[@]}"; do
    out=$(sh -c "${cmds[$i]}" 2>&1) || die "${names[$i]} cannot run /bin/true: $out"
  done
  bench_hyperfine_rounds
  left=$(find "$tmp/comet/pods" -mindepth 2 -maxdepth 2 2>/dev/null | wc -l)
  ((left == 0)) || echo "run.sh: WARNING: comet run --rm left $left pod directories"
}
pod_start

# --- (2) Throughput through a published port. Host ports: the namespace is ours, nothing else
# listens in it.
loopback_port=15200 comet_port=15201 podman_port=15202 rootless_port=15203 rootless_podman_port=15204
# wait_iperf NAME PORT: until an iperf3 server answers on 127.0.0.1:PORT (a 1 KiB test), 20 s.
wait_iperf() {
  local try
  for try in $(seq 100); do
    timeout 5 iperf3 -c 127.0.0.1 -p "$2" -n 1K >/dev/null 2>&1 && return 0
    ((try < 100)) || die "$1: no iperf3 server on 127.0.0.1:$2"
    sleep 0.2
  done
}
# Each tool's server; `iperf` lists "NAME PORT" for the rounds.
iperf=()
iperf3 -s -B 127.0.0.1 -p "$loopback_port" >/dev/null 2>&1 &
loopback_pid=$!
wait_iperf loopback "$loopback_port"
iperf+=("loopback $loopback_port")
C run -d --net=default --port="127.0.0.1:$comet_port:5201" bench/iperf3:1 -- /usr/bin/iperf3 -s \
  >/dev/null || die "comet cannot start the iperf3 pod"
wait_iperf comet "$comet_port"
iperf+=("comet $comet_port")
if ((have_podman)); then
  P run -d --network=bridge -p "127.0.0.1:$podman_port:5201" localhost/bench-iperf3:1 \
    /usr/bin/iperf3 -s >/dev/null || die "podman cannot start the iperf3 container"
  wait_iperf podman "$podman_port"
  iperf+=("podman $podman_port")
fi

# --- Rootless: the same as an unprivileged user with subordinate ids, in this namespace.
rootless_user=${COMET_TEST_USER:-comet-test}
rl_comet=0 rl_podman=0 rl_why='' rl_podman_why='podman missing'
rl_dir=$tmp/rootless rl_run=/run/comet-bench-net-rootless-$$
# R CMD...: CMD as the user, with its own HOME, runtime and temp dirs.
R() {
  setpriv --reuid="$rl_uid" --regid="$rl_gid" --clear-groups --reset-env \
    env HOME="$rl_dir" XDG_RUNTIME_DIR="$rl_run" TMPDIR="$rl_dir/tmp" \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin ${COMET_SUPERVISOR:+COMET_SUPERVISOR="$supervisor"} \
    "$@"
}
RC() { R "$comet" --dir "$rl_dir/comet" "$@"; }
RP() {
  R env CONTAINERS_CONF="$rl_dir/containers.conf" CONTAINERS_REGISTRIES_CONF="$tmp/registries.conf" \
    podman --root "$rl_dir/podman" --runroot "$rl_run/podman" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend file --tmpdir "$rl_dir/libpod-tmp" "$@"
}
net_rootless_cleanup() {
  [[ -n ${rl_uid:-} ]] || return 0
  if [[ -d $rl_dir/comet ]]; then
    RC list --full --no-legend 2>/dev/null | awk '$0 ~ /running/ {print $1}' | sort -u |
      while read -r uuid; do RC stop --force "$uuid" >/dev/null 2>&1; done
    RC gc --grace-period=0s >/dev/null 2>&1
    RC gc --grace-period=0s >/dev/null 2>&1
  fi
  if [[ -d $rl_dir/podman ]]; then
    RP rm --all --force --time 0 >/dev/null 2>&1
    RP system reset --force >/dev/null 2>&1
    # The pause process podman keeps its user namespace in.
    [[ ! -s $rl_run/libpod/tmp/pause.pid ]] || kill "$(cat "$rl_run/libpod/tmp/pause.pid")" 2>/dev/null
  fi
  rm -rf "$rl_run"
}
# rootless_setup: sets rl_comet=1 (rl_podman=1) when comet (podman) runs a contained network
# rootless; else rl_why (rl_podman_why) says why not. podman rootless (slirp4netns) is measured
# either way, as the reference for comet's rootless networking.
rootless_setup() {
  local out
  if ! out=$("$repo/scripts/ensure-test-user.sh" "$rootless_user" 2>&1); then
    rl_why="no user $rootless_user: ${out##*$'\n'}"
    return 0
  fi
  rl_uid=${out##*$'\n'} rl_gid=$(id -g "$rootless_user")
  chmod 0711 "$tmp"
  mkdir -p "$rl_dir/tmp" "$rl_run"
  cp "$tmp/rootfs.tar" "$tmp/iperf3.tar" "$rl_dir/"
  chown -R "$rl_uid:$rl_gid" "$rl_dir" "$rl_run"
  chmod 0700 "$rl_run"
  if ! R test -x "$comet" -a -x "$supervisor"; then
    rl_why="$rootless_user cannot run $comet and $supervisor"
  elif ! out=$(RC image import --format rootfs --name bench/iperf3:1 "$rl_dir/iperf3.tar" 2>&1 \
    >/dev/null && RC run --rm --net=default bench/iperf3:1 -- /bin/true 2>&1); then
    rl_why="comet run --net=default as $rootless_user: ${out%%$'\n'*}"
  else
    rl_comet=1
  fi
  ((have_podman)) || return 0
  printf '[containers]\nnetns = "slirp4netns"\n[engine]\nevents_logger = "file"\n' \
    >"$rl_dir/containers.conf"
  chown "$rl_uid:$rl_gid" "$rl_dir/containers.conf"
  if ! out=$(RP import --quiet "$rl_dir/iperf3.tar" localhost/bench-iperf3:1 2>&1 >/dev/null &&
    RP run --rm localhost/bench-iperf3:1 /bin/true 2>&1); then
    rl_podman_why="podman run as $rootless_user: ${out%%$'\n'*}"
    return 0
  fi
  rl_podman=1
}
rootless_setup
[[ -z $rl_why ]] || echo "run.sh: rootless: skipped ($rl_why)"
((!rl_podman)) || echo "run.sh: rootless: podman-rootless measured"
if ((rl_comet)); then
  RC run -d --net=default --port="127.0.0.1:$rootless_port:5201" bench/iperf3:1 -- \
    /usr/bin/iperf3 -s >/dev/null || die "comet cannot start the rootless iperf3 pod"
  wait_iperf comet-rootless "$rootless_port"
  iperf+=("comet-rootless $rootless_port")
fi
if ((rl_podman)); then
  RP run -d -p "127.0.0.1:$rootless_podman_port:5201" localhost/bench-iperf3:1 /usr/bin/iperf3 -s \
    >/dev/null || die "podman cannot start the rootless iperf3 container"
  wait_iperf podman-rootless "$rootless_podman_port"
  iperf+=("podman-rootless $rootless_podman_port")
fi

# Rounds of one run per server, the order rotated per round.
n=${#iperf[@]}
for ((r = 0; r < iperf_rounds; r++)); do
  echo "run.sh: iperf3 round $((r + 1))/$iperf_rounds (${seconds}s each)"
  for ((k = 0; k < n; k++)); do
    read -r name port <<<"${iperf[$(((k + r) % n))]}"
    timeout $((seconds + 30)) iperf3 -c 127.0.0.1 -p "$port" -t "$seconds" -J \
      >"$tmp/iperf-$name-$r.json" || die "$name: iperf3 run failed"
  done
done

python3 - "$tmp" "$rounds" "$iperf_rounds" "${names[@]}" -- "${iperf[@]%% *}" <<'PY'
import json, statistics, sys
tmp, rounds, iperf_rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rest = sys.argv[4:]
names, servers = rest[:rest.index("--")], rest[rest.index("--") + 1:]
times = {n: [] for n in names}
for r in range(rounds):
    for res in json.load(open(f"{tmp}/round-{r}.json"))["results"]:
        times[res["command"]].extend(res["times"])
med = {n: statistics.median(t) * 1000 for n, t in times.items()}
print(f"pod start (/bin/true): {rounds} rounds x {len(times[names[0]]) // rounds} runs each")
print(f"{'tool':16} {'median ms':>10} {'mean ms':>9} {'stdev':>7}")
for n in names:
    t = times[n]
    print(f"{n:16} {med[n]:10.2f} {statistics.mean(t)*1000:9.2f} {(statistics.stdev(t) if len(t) > 1 else 0)*1000:7.2f}")
def ratio(a, b, what):
    if a in med and b in med:
        print(f"{a}/{b} = {med[a] / med[b]:.2f}   ({what})")
ratio("comet-default", "comet-none", "cost of the default network")
ratio("comet-default", "podman-default", "both on their default bridge")
ratio("podman-default", "podman-none", "podman's cost of its network")
if "podman-default" in med:
    print(f"network cost: comet +{med['comet-default'] - med['comet-none']:.1f} ms,"
          f" podman +{med['podman-default'] - med['podman-none']:.1f} ms")

gbits = {}
for s in servers:
    runs = []
    for r in range(iperf_rounds):
        end = json.load(open(f"{tmp}/iperf-{s}-{r}.json"))["end"]
        runs.append(end["sum_received"]["bits_per_second"] / 1e9)
    gbits[s] = runs
print()
print(f"TCP throughput host -> pod through the published port (iperf3, {iperf_rounds} rounds):")
print(f"{'server':16} {'median Gbit/s':>14}  runs")
for s, runs in gbits.items():
    print(f"{s:16} {statistics.median(runs):14.2f}  {' '.join(f'{x:.2f}' for x in runs)}")
def tratio(a, b):
    if a in gbits and b in gbits:
        print(f"{a}/{b} = {statistics.median(gbits[a]) / statistics.median(gbits[b]):.2f}")
tratio("comet", "podman")
tratio("comet", "loopback")
tratio("comet-rootless", "podman-rootless")
tratio("comet-rootless", "comet")
PY
[[ -z $rl_why ]] || echo "rootless: skipped ($rl_why)"
((rl_podman)) || echo "rootless podman: skipped ($rl_podman_why)"
