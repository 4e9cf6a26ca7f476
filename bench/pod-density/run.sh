#!/usr/bin/env bash
# Pod density benchmark: N idle pods (`sleep 3600`, busybox-static image, no network) started
# with `comet run -d`; the memory of each pod's comet-supervisor from /proc/<pid>/smaps_rollup
# (private = Private_Clean + Private_Dirty, shared = Shared_Clean + Shared_Dirty, Pss, Rss) vs
# conmon's per container for N idle containers under podman. Prints per-pod averages and the
# ratio (goal: supervisor private memory <= 300 KiB per pod). Everything started is stopped and
# removed at the end, also on error or interrupt.
# usage: bench/pod-density/run.sh [--pods N]  (root; default N=100)
# Environment: COMET (default: the newest build/*/src/cmd/comet), BENCH_TMP (default /var/tmp).
set -euo pipefail

pods=100
while (($#)); do
  case $1 in
    --pods) pods=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
repo=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "run.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run as root"
# shellcheck disable=SC2012 # newest by mtime; the paths are ours
comet=${COMET:-$(ls -t "$repo"/build/*/src/cmd/comet 2>/dev/null | head -1 || true)}
[[ -n $comet && -x $comet ]] || die "comet not found; build it or set COMET"
have_podman=1
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then have_podman=0; echo "run.sh: podman/conmon missing: comet only"; fi

# podman's crun refuses hybrid cgroups while hugetlb sits on the v2 tree (with-hugetlb-v1.sh).
if ((have_podman)) && [[ -z ${COMET_BENCH_WRAPPED:-} ]]; then
  export COMET_BENCH_WRAPPED=1
  exec "$repo/tests/e2e/with-hugetlb-v1.sh" "$0" --pods "$pods"
fi
echo "run.sh: comet = $comet, $pods pods"

tmp=$(mktemp -d "${BENCH_TMP:-/var/tmp}/comet-bench-pod-density-XXXXXX")
had_var_lib_containers=; [[ -e /var/lib/containers ]] && had_var_lib_containers=1
cgroups_before=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null || true)
C() { "$comet" --dir "$tmp/comet" "$@"; }
P() {
  podman --root "$tmp/podman" --runroot "$tmp/podman-run" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend file --tmpdir "$tmp/libpod-tmp" "$@"
}
cleanup() {
  trap - EXIT INT TERM
  # Best effort: every step runs whatever the previous one did.
  set +e +o pipefail
  echo "run.sh: cleaning up"
  if [[ -d $tmp/comet ]]; then
    # Stop in parallel batches: each stop waits for its pod.
    C list --full --no-legend 2>/dev/null | awk '$0 ~ /running/ {print $1}' | sort -u |
      xargs -r -n 10 -P 4 "$comet" --dir "$tmp/comet" stop --force >/dev/null 2>&1 || true
    C gc --grace-period=0s >/dev/null 2>&1 || true
    C gc --grace-period=0s >/dev/null 2>&1 || true
  fi
  if ((have_podman)) && [[ -d $tmp/podman ]]; then
    P rm --all --force --time 0 >/dev/null 2>&1 || true
    P system reset --force >/dev/null 2>&1 || true
  fi
  if [[ -z $cgroups_before ]]; then
    for d in /sys/fs/cgroup/*/libpod_parent; do
      [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  fi
  [[ -n $had_var_lib_containers ]] || rm -rf /var/lib/containers
  grep -o " ${tmp}[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$repo/scripts/make-bundle.sh" "$tmp/bundle" -- /bin/true >/dev/null
tar --numeric-owner -C "$tmp/bundle/rootfs" -cf "$tmp/rootfs.tar" .
C image import --format rootfs --name bench/busybox:1 "$tmp/rootfs.tar" >/dev/null

# smaps NAME PID...: one line per pid "rss pss private shared" (KiB), to $tmp/NAME.mem.
smaps() {
  local name=$1 pid
  shift
  : >"$tmp/$name.mem"
  for pid in "$@"; do
    awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} /^Private_(Clean|Dirty):/ {pr+=$2}
         /^Shared_(Clean|Dirty):/ {s+=$2} END {print r, p, pr, s}' "/proc/$pid/smaps_rollup" >>"$tmp/$name.mem"
  done
}

echo "run.sh: starting $pods comet pods"
start=$(date +%s%N)
for ((i = 0; i < pods; i++)); do
  C run -d bench/busybox:1 -- /bin/sleep 3600 >>"$tmp/comet.uuids" || die "comet run -d failed at pod $i"
done
echo "run.sh: comet: $pods pods in $((($(date +%s%N) - start) / 1000000)) ms"
sleep 2
pids=()
while read -r uuid; do
  pid=$(C status "$uuid" | sed -n 's/^pid=//p')
  [[ -n $pid ]] || die "no pid for pod $uuid"
  pids+=("$pid")
done <"$tmp/comet.uuids"
smaps comet "${pids[@]}"

if ((have_podman)); then
  cat >"$tmp/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$tmp/events.log"
EOF
  export CONTAINERS_CONF=$tmp/containers.conf
  printf 'unqualified-search-registries = []\n' >"$tmp/registries.conf"
  export CONTAINERS_REGISTRIES_CONF=$tmp/registries.conf
  P import --quiet "$tmp/rootfs.tar" localhost/bench-busybox:1 >/dev/null
  echo "run.sh: starting $pods podman containers"
  start=$(date +%s%N)
  for ((i = 0; i < pods; i++)); do
    P run -d --network=none localhost/bench-busybox:1 /bin/sleep 3600 >>"$tmp/podman.ids" || die "podman run -d failed at $i"
  done
  echo "run.sh: podman: $pods containers in $((($(date +%s%N) - start) / 1000000)) ms"
  sleep 2
  cpids=()
  while read -r id; do
    cpids+=("$(P inspect --format '{{.State.ConmonPid}}' "$id")")
  done <"$tmp/podman.ids"
  smaps conmon "${cpids[@]}"
fi

python3 - "$tmp" <<'PY'
import os, sys
tmp = sys.argv[1]
def load(name):
    path = f"{tmp}/{name}.mem"
    if not os.path.exists(path):
        return None
    rows = [list(map(int, l.split())) for l in open(path) if l.strip()]
    n = len(rows)
    return n, [sum(r[i] for r in rows) / n for i in range(4)]
print(f"{'per pod (KiB)':24} {'n':>4} {'RSS':>8} {'PSS':>8} {'private':>8} {'shared':>8}")
res = {}
for name, label in (("comet", "comet-supervisor"), ("conmon", "conmon (podman)")):
    got = load(name)
    if got:
        n, (rss, pss, priv, shared) = got
        res[name] = (rss, pss, priv, shared)
        print(f"{label:24} {n:4} {rss:8.0f} {pss:8.0f} {priv:8.0f} {shared:8.0f}")
if "comet" in res:
    priv = res["comet"][2]
    print(f"goal supervisor private <= 300 KiB per pod: {'MET' if priv <= 300 else 'NOT MET'} ({priv:.0f} KiB)")
if "comet" in res and "conmon" in res:
    for i, what in ((2, "private"), (1, "PSS"), (0, "RSS")):
        print(f"comet-supervisor/conmon {what} = {res['comet'][i] / res['conmon'][i]:.2f}")
PY
