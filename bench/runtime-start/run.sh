#!/usr/bin/env bash
# Container start benchmark: `run` of a busybox bundle whose process is /bin/true, for
# comet-runtime, crun and runc, measured with hyperfine in interleaved rounds (each round runs
# every runtime, in a rotated order, so that machine drift hits all alike). Prints medians, the
# ratios comet/crun and comet/runc (goal: comet/crun <= 1.0) and each runtime's peak RSS.
# usage: bench/runtime-start/run.sh [--rounds N] [--runs N] [--warmup N]  (root)
# Environment: COMET_RUNTIME (default: the newest build/*/src/cmd/comet-runtime).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/../lib.sh"
rounds=4 runs=10 warmup=3
bench_parse_args 2,8 rounds=rounds runs=runs warmup=warmup -- "$@"
bench_require_root "the runtimes create cgroups and namespaces"
bench_require_tools hyperfine
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (package time; scripts/install-deps.sh)"

comet=${COMET_RUNTIME:-$(bench_newest_binary comet-runtime)}
declare -A bin=()
[[ -n $comet && -x $comet ]] && bin[comet]=$comet || echo "run.sh: comet-runtime not found; set COMET_RUNTIME (measuring the peers only)"
for peer in crun runc; do
  path=$(command -v $peer || true)
  [[ -n $path ]] && bin[$peer]=$path || echo "run.sh: $peer not installed; skipped"
done
names=()
for n in comet crun runc; do [[ -n ${bin[$n]:-} ]] && names+=("$n"); done
((${#names[@]} >= 1)) || die "no runtime to measure"

# crun 1.8 refuses hybrid cgroups while hugetlb sits on the v2 tree; run everything (all
# runtimes alike) inside the namespace that with-hugetlb-v1.sh sets up.
if [[ -n ${bin[crun]:-} ]]; then
  bench_rerun_with_hugetlb_v1 "$@"
fi

[[ -z ${bin[comet]:-} ]] || echo "run.sh: comet-runtime = ${bin[comet]}"
tmp=$(mktemp -d /tmp/comet-bench-XXXXXX)
cleanup() {
  for n in "${names[@]}"; do
    for id in $("${bin[$n]}" --root "$tmp/state-$n" list -q 2>/dev/null); do
      "${bin[$n]}" --root "$tmp/state-$n" delete --force "$id" >/dev/null 2>&1 || true
    done
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
"$repo/scripts/make-bundle.sh" "$tmp/bundle" -- /bin/true >/dev/null

# One command per runtime; `$$` (the shell hyperfine starts per run) makes each id unique.
cmd() { echo "${bin[$1]} --root $tmp/state-$1 run --bundle $tmp/bundle b-$1-\$\$"; }
cmds=()
for n in "${names[@]}"; do
  mkdir -p "$tmp/state-$n"
  cmds+=("$(cmd "$n")")
  out=$(sh -c "$(cmd "$n")" 2>&1) || die "$n cannot run the bundle: $out"
done

bench_hyperfine_rounds

# Peak RSS (KiB) over a few runs of each runtime, as GNU time reports it (the largest of the
# runtime process and the children it waited for).
declare -A rss=()
for n in "${names[@]}"; do
  peak=0
  for _ in 1 2 3 4 5; do
    /usr/bin/time -o "$tmp/rss" -f %M sh -c "exec $(cmd "$n")" >/dev/null 2>&1 || true
    kib=$(tail -1 "$tmp/rss")
    ((kib > peak)) && peak=$kib
  done
  rss[$n]=$peak
done

python3 - "$tmp" "$rounds" "${names[@]}" <<PY
import json, statistics, sys
tmp, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = {n: [] for n in names}
for r in range(rounds):
    for res in json.load(open(f"{tmp}/round-{r}.json"))["results"]:
        times[res["command"]].extend(res["times"])
rss = {$(for n in "${names[@]}"; do printf '"%s": %s, ' "$n" "${rss[$n]}"; done)}
med = {n: statistics.median(t) * 1000 for n, t in times.items()}
print(f"runtime start: {rounds} rounds x {len(times[names[0]]) // rounds} runs per runtime")
print(f"{'runtime':8} {'median ms':>10} {'mean ms':>9} {'stdev':>7} {'peak RSS KiB':>13}")
for n in names:
    t = times[n]
    print(f"{n:8} {med[n]:10.2f} {statistics.mean(t)*1000:9.2f} {statistics.stdev(t)*1000:7.2f} {rss[n]:13}")
if "comet" in med:
    for peer in ("crun", "runc"):
        if peer in med:
            print(f"comet/{peer} = {med['comet'] / med[peer]:.2f}")
    if "crun" in med:
        ratio = med["comet"] / med["crun"]
        print(f"goal comet/crun <= 1.00: {'MET' if ratio <= 1.0 else 'NOT MET'} ({ratio:.2f})")
elif "crun" in med and "runc" in med:
    print(f"crun/runc = {med['crun'] / med['runc']:.2f}")
PY
