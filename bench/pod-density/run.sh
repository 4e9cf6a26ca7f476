#!/usr/bin/env bash
# Pod density benchmark: N idle pods (`sleep 3600`, busybox-static image, no network) started
# with `comet run -d`; the memory of each pod's comet-supervisor from /proc/<pid>/smaps_rollup
# (private = Private_Clean + Private_Dirty, shared = Shared_Clean + Shared_Dirty, Pss, Rss; and
# the Private_Dirty of its [heap] and [stack] from /proc/<pid>/smaps) vs conmon's per container
# for N idle containers under podman. Prints per-pod averages and the ratio (goal: supervisor
# private memory <= 300 KiB per pod). Everything started is stopped and removed at the end, also
# on error or interrupt.
# usage: bench/pod-density/run.sh [--pods N]  (root; default N=100)
# Environment: COMET (default: the newest build/*/src/cmd/comet), BENCH_TMP (default /var/tmp).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/../lib.sh"
pods=100
bench_parse_args 2,10 pods=pods -- "$@"
bench_require_root "comet runs rootful pods"
bench_find_comet
bench_check_podman "comet only"
# podman's crun refuses hybrid cgroups while hugetlb sits on the v2 tree.
if ((have_podman)); then
  bench_rerun_with_hugetlb_v1 "$@"
fi
echo "run.sh: comet = $comet, $pods pods"

bench_make_tmp pod-density
podman_host_note
C() { "$comet" --dir "$tmp/comet" "$@"; }
cleanup() {
  trap - EXIT INT TERM
  # Best effort: every step runs whatever the previous one did.
  set +e +o pipefail
  echo "run.sh: cleaning up"
  bench_comet_cleanup
  bench_podman_cleanup
  podman_host_cleanup
  bench_remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_comet_image

# smaps NAME PID...: one line per pid "rss pss private shared heap stack" (KiB), to $tmp/NAME.mem;
# heap and stack are the Private_Dirty of the [heap] and [stack] mappings (/proc/<pid>/smaps).
smaps() {
  local name=$1 pid
  shift
  : >"$tmp/$name.mem"
  for pid in "$@"; do
    {
      awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} /^Private_(Clean|Dirty):/ {pr+=$2}
           /^Shared_(Clean|Dirty):/ {s+=$2} END {printf "%d %d %d %d ", r, p, pr, s}' \
        "/proc/$pid/smaps_rollup"
      awk '/^[0-9a-f]+-[0-9a-f]+ / {m=$6} /^Private_Dirty:/ && m=="[heap]" {h+=$2}
           /^Private_Dirty:/ && m=="[stack]" {k+=$2} END {print h+0, k+0}' "/proc/$pid/smaps"
    } >>"$tmp/$name.mem"
  done
}

echo "run.sh: starting $pods comet pods"
start=$(date +%s%N)
for ((i = 0; i < pods; i++)); do
  C run -d --net=none bench/busybox:1 -- /bin/sleep 3600 >>"$tmp/comet.uuids" || die "comet run -d failed at pod $i"
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
  bench_podman_setup
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
    return n, [sum(r[i] for r in rows) / n for i in range(6)]
print(f"{'per pod (KiB)':24} {'n':>4} {'RSS':>8} {'PSS':>8} {'private':>8} {'shared':>8}"
      f" {'heap':>8} {'stack':>8}")
res = {}
for name, label in (("comet", "comet-supervisor"), ("conmon", "conmon (podman)")):
    got = load(name)
    if got:
        n, (rss, pss, priv, shared, heap, stack) = got
        res[name] = (rss, pss, priv, shared)
        print(f"{label:24} {n:4} {rss:8.0f} {pss:8.0f} {priv:8.0f} {shared:8.0f}"
              f" {heap:8.0f} {stack:8.0f}")
if "comet" in res:
    priv = res["comet"][2]
    print(f"goal supervisor private <= 300 KiB per pod: {'MET' if priv <= 300 else 'NOT MET'} ({priv:.0f} KiB)")
if "comet" in res and "conmon" in res:
    for i, what in ((2, "private"), (1, "PSS"), (0, "RSS")):
        print(f"comet-supervisor/conmon {what} = {res['comet'][i] / res['conmon'][i]:.2f}")
PY
