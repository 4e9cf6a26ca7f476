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

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/../lib.sh"
rounds=4 runs=10 warmup=3
bench_parse_args 2,10 rounds=rounds runs=runs warmup=warmup -- "$@"
bench_require_root "podman and crun as root; comet rootful"
bench_require_tools hyperfine python3 tar
bench_find_comet
supervisor=${COMET_SUPERVISOR:-$(dirname "$comet")/comet-supervisor}
[[ -x $supervisor ]] || die "comet-supervisor not found beside $comet (set COMET_SUPERVISOR)"
bench_check_podman skipped
have_crun=1
command -v crun >/dev/null || { have_crun=0; echo "run.sh: crun missing: skipped"; }
# crun's state in /run as by default (comet's volatile pod dirs are there too).
crun_root=/run/comet-bench-crun-$$
# Everything, comet too, runs under the same cgroup layout.
if ((have_crun || have_podman)); then
  bench_rerun_with_hugetlb_v1 "$@"
fi
[[ -n ${BENCH_HOST_RUN:-} ]] || bench_rerun_with_tmpfs_run "$@"
echo "run.sh: comet = $comet"

bench_make_tmp pod-start
podman_host_note
cleanup() {
  trap - EXIT INT TERM
  # Best effort: every step runs whatever the previous one did.
  set +e +o pipefail
  bench_comet_cleanup
  bench_podman_cleanup
  if ((have_crun)); then
    for id in $(crun --root "$crun_root" list -q 2>/dev/null); do
      crun --root "$crun_root" delete --force "$id" >/dev/null 2>&1 || true
    done
    rm -rf "$crun_root"
  fi
  podman_host_cleanup
  bench_remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The image: busybox-static with its applets, from a rootfs tarball (make-bundle.sh's tree).
bench_comet_image
# No network but loopback for any of them (podman: --network=none; bench/net measures networks).
comet_cmd="$comet --dir $tmp/comet run --rm --net=none bench/busybox:1 -- /bin/true"
names=(comet) cmds=("$comet_cmd")
if ((have_podman)); then
  bench_podman_setup
  names+=(podman)
  cmds+=("$(bench_podman_command) run --rm --network=none localhost/bench-busybox:1 /bin/true")
fi
if ((have_crun)); then
  mkdir -p "$crun_root"
  names+=(crun)
  # `$$` (the shell hyperfine starts per run) makes each id unique.
  cmds+=("crun --root $crun_root run --bundle $tmp/bundle b-\$\$")
fi
for i in "${!names[@]}"; do
  out=$(sh -c "${cmds[$i]}" 2>&1) || die "${names[$i]} cannot run /bin/true: $out"
done

bench_hyperfine_rounds
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
