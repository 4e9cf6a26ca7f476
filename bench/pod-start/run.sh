#!/usr/bin/env bash
# Pod start benchmark: `comet run --rm` of a one-app pod running /bin/true (a busybox-static
# image imported from a rootfs tarball) vs `podman run --rm` of the same image (imported into a
# private podman store) and `crun run` of a prepared bundle as the floor. hyperfine runs all
# three in interleaved rounds (order rotated per round, so that drift on the shared machine hits
# all alike); prints medians and the ratios (goals: comet <= 0.1x podman, comet <= 1.5x crun).
# usage: bench/pod-start/run.sh [--rounds N] [--runs N] [--warmup N]  (root)
# Environment: COMET (default: the newest build/*/src/cmd/comet; comet-supervisor beside it or
# $COMET_SUPERVISOR). No network: every pod and container has no network but loopback.
set -euo pipefail

rounds=4 runs=10 warmup=3
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift ;;
    --runs) runs=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
repo=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "run.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run as root (podman and crun as root; comet rootful)"
for tool in hyperfine python3 tar; do
  command -v $tool >/dev/null || die "$tool is missing (scripts/install-deps.sh)"
done
# shellcheck disable=SC2012 # newest by mtime; the paths are ours
comet=${COMET:-$(ls -t "$repo"/build/*/src/cmd/comet 2>/dev/null | head -1 || true)}
[[ -n $comet && -x $comet ]] || die "comet not found; build it or set COMET"
supervisor=${COMET_SUPERVISOR:-$(dirname "$comet")/comet-supervisor}
[[ -x $supervisor ]] || die "comet-supervisor not found beside $comet (set COMET_SUPERVISOR)"
have_podman=1 have_crun=1
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then have_podman=0; echo "run.sh: podman/conmon missing: skipped"; fi
command -v crun >/dev/null || { have_crun=0; echo "run.sh: crun missing: skipped"; }

# crun 1.8 (also under podman) refuses hybrid cgroups while hugetlb sits on the v2 tree: run
# everything, comet too, inside the namespace with-hugetlb-v1.sh sets up.
if ((have_crun || have_podman)) && [[ -z ${COMET_BENCH_WRAPPED:-} ]]; then
  export COMET_BENCH_WRAPPED=1
  exec "$repo/tests/e2e/with-hugetlb-v1.sh" "$0" --rounds "$rounds" --runs "$runs" --warmup "$warmup"
fi
echo "run.sh: comet = $comet"

tmp=$(mktemp -d "${BENCH_TMP:-/var/tmp}/comet-bench-pod-start-XXXXXX")
had_var_lib_containers=; [[ -e /var/lib/containers ]] && had_var_lib_containers=1
cgroups_before=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null || true)
P() {
  podman --root "$tmp/podman" --runroot "$tmp/podman-run" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend file --tmpdir "$tmp/libpod-tmp" "$@"
}
cleanup() {
  trap - EXIT INT TERM
  # Best effort: every step runs whatever the previous one did.
  set +e +o pipefail
  if [[ -d $tmp/comet ]]; then
    for uuid in $("$comet" --dir "$tmp/comet" list --full --no-legend 2>/dev/null | awk '{print $1}' | sort -u); do
      "$comet" --dir "$tmp/comet" stop --force "$uuid" >/dev/null 2>&1 || true
    done
    "$comet" --dir "$tmp/comet" gc --grace-period=0s >/dev/null 2>&1 || true
    "$comet" --dir "$tmp/comet" gc --grace-period=0s >/dev/null 2>&1 || true
  fi
  if ((have_podman)) && [[ -d $tmp/podman ]]; then
    P rm --all --force >/dev/null 2>&1 || true
    P system reset --force >/dev/null 2>&1 || true
  fi
  if ((have_crun)); then
    for id in $(crun --root "$tmp/crun-state" list -q 2>/dev/null); do
      crun --root "$tmp/crun-state" delete --force "$id" >/dev/null 2>&1 || true
    done
  fi
  if [[ -z $cgroups_before ]]; then
    for d in /sys/fs/cgroup/*/libpod_parent; do
      [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  fi
  [[ -n $had_var_lib_containers ]] || rm -rf /var/lib/containers
  # Anything mounted below the temp dir (podman's overlay) goes before the files.
  grep -o " ${tmp}[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The image: busybox-static with its applets, from a rootfs tarball (make-bundle.sh's tree).
"$repo/scripts/make-bundle.sh" "$tmp/bundle" -- /bin/true >/dev/null
tar --numeric-owner -C "$tmp/bundle/rootfs" -cf "$tmp/rootfs.tar" .
"$comet" --dir "$tmp/comet" image import --format rootfs --name bench/busybox:1 "$tmp/rootfs.tar" >/dev/null
comet_cmd="$comet --dir $tmp/comet run --rm bench/busybox:1 -- /bin/true"
names=(comet) cmds=("$comet_cmd")
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
  names+=(podman)
  cmds+=("podman --root $tmp/podman --runroot $tmp/podman-run --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --tmpdir $tmp/libpod-tmp run --rm --network=none localhost/bench-busybox:1 /bin/true")
fi
if ((have_crun)); then
  mkdir -p "$tmp/crun-state"
  names+=(crun)
  # `$$` (the shell hyperfine starts per run) makes each id unique.
  cmds+=("crun --root $tmp/crun-state run --bundle $tmp/bundle b-\$\$")
fi
for i in "${!names[@]}"; do
  out=$(sh -c "${cmds[$i]}" 2>&1) || die "${names[$i]} cannot run /bin/true: $out"
done

for ((r = 0; r < rounds; r++)); do
  args=()
  n=${#names[@]}
  for ((k = 0; k < n; k++)); do
    i=$(((k + r) % n))
    args+=(--command-name "${names[$i]}" "${cmds[$i]}")
  done
  echo "run.sh: round $((r + 1))/$rounds"
  hyperfine --style basic --warmup "$warmup" --runs "$runs" \
    --export-json "$tmp/round-$r.json" "${args[@]}" >/dev/null
done
# Nothing may be left by the runs themselves (--rm).
left=$(find "$tmp/comet/pods" -mindepth 2 -maxdepth 2 2>/dev/null | wc -l)
((left == 0)) || echo "run.sh: WARNING: comet run --rm left $left pod directories"

python3 - "$tmp" "$rounds" "${names[@]}" <<'PY'
import json, statistics, sys
tmp, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = {n: [] for n in names}
for r in range(rounds):
    for res in json.load(open(f"{tmp}/round-{r}.json"))["results"]:
        times[res["command"]].extend(res["times"])
med = {n: statistics.median(t) * 1000 for n, t in times.items()}
print(f"pod start (/bin/true): {rounds} rounds x {len(times['comet']) // rounds} runs each")
print(f"{'tool':8} {'median ms':>10} {'mean ms':>9} {'stdev':>7}")
for n in names:
    t = times[n]
    print(f"{n:8} {med[n]:10.2f} {statistics.mean(t)*1000:9.2f} {statistics.stdev(t)*1000:7.2f}")
goals = {"podman": 0.1, "crun": 1.5}
for peer, goal in goals.items():
    if peer in med:
        ratio = med["comet"] / med[peer]
        print(f"comet/{peer} = {ratio:.2f}   (goal <= {goal}: {'MET' if ratio <= goal else 'NOT MET'})")
PY
