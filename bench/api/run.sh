#!/usr/bin/env bash
# api-service benchmark (issue 5): with --pods pods on disk (prepared, plus a few exited), the
# latency of ListPods(detail=true), ListPods filtered by annotation and InspectPod, p50/p99 over
# --calls calls from each of --clients concurrent gRPC clients; and the delay from a pod's state
# change (the time its writer logged it) to its event reaching a ListenEvents client, over
# --events pod prepares. Goals: ListPods p99 <= 20 ms, InspectPod p99 <= 2 ms, event delay
# p99 <= 50 ms. rkt's api-service is not packaged anywhere, so there is no peer: absolute figures.
# usage: bench/api/run.sh [--pods N] [--clients N] [--calls N] [--events N]  (root)
# Environment: COMET (default: the newest build/*/src/cmd/comet); comet-api-service beside it and
# api_load in its build dir's bench/ (or $API_LOAD). Traffic: 127.0.0.1 only.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/../lib.sh"
pods=1000 clients=4 calls=1000 events=100
bench_parse_args 2,10 pods=pods clients=clients calls=calls events=events -- "$@"
bench_require_root "comet prepare and run as root"
bench_require_tools python3 tar
bench_find_comet
service=$(dirname "$comet")/comet-api-service
load=${API_LOAD:-$(dirname "$comet")/../../bench/api_load}
[[ -x $service ]] || die "comet-api-service not found beside $comet"
[[ -x $load ]] || die "api_load not found at $load (cmake --build <dir> --target api_load)"
echo "run.sh: comet = $comet"

bench_make_tmp api
service_pid=""
cleanup() {
  trap - EXIT INT TERM
  set +e +o pipefail
  [[ -n $service_pid ]] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  "$comet" --dir "$tmp/comet" gc --grace-period=0s --expire-prepared=0s >/dev/null 2>&1
  "$comet" --dir "$tmp/comet" gc --grace-period=0s >/dev/null 2>&1
  bench_remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_comet_image
c=("$comet" --dir "$tmp/comet")
# The kubelet filtered on an annotation every pod of its own carried: one group in ten here.
echo "run.sh: preparing $pods pods"
start=$SECONDS
# shellcheck disable=SC2016 # expanded by the inner sh, per pod
seq 1 "$pods" | xargs -P 2 -I{} sh -c \
  '"$@" prepare --net=none --annotation=bench/group=g$(({} % 10)) --annotation=bench/n={} bench/busybox:1 -- /bin/true >/dev/null' \
  _ "${c[@]}"
for _ in 1 2 3 4 5; do
  "${c[@]}" run --net=none bench/busybox:1 -- /bin/true >/dev/null
done
echo "run.sh: $pods prepared + 5 exited pods in $((SECONDS - start)) s"
"${c[@]}" list --no-legend --full | awk '{print $1}' | sort -u >"$tmp/ids"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$service" --dir "$tmp/comet" --listen "127.0.0.1:$port" 2>"$tmp/service.log" &
service_pid=$!
for _ in $(seq 100); do
  grep -q listening "$tmp/service.log" 2>/dev/null && break
  sleep 0.1
done
grep -q listening "$tmp/service.log" || die "comet-api-service did not start: $(cat "$tmp/service.log")"
target=127.0.0.1:$port

# One warm-up pass fills the service's cache, as a long-running service's would be.
"$load" --target "$target" list --detail --clients 1 --calls 2 >/dev/null
results=$tmp/results
{
  "$load" --target "$target" list --detail --clients "$clients" --calls "$calls"
  "$load" --target "$target" list --annotation bench/group=g3 --clients "$clients" --calls "$calls"
  "$load" --target "$target" inspect --ids "$tmp/ids" --clients "$clients" --calls "$calls"
} >"$results"

# Events: a listener, then --events prepares, each logging pod-prepared.
"$load" --target "$target" events --data-dir "$tmp/comet" --count "$events" >"$tmp/events.out" &
listener=$!
for _ in $(seq 100); do
  grep -q listening "$tmp/events.out" 2>/dev/null && break
  sleep 0.1
done
for _ in $(seq 1 "$events"); do
  "${c[@]}" prepare bench/busybox:1 -- /bin/true >/dev/null
done
wait "$listener" || die "the ListenEvents client did not see $events events: $(cat "$tmp/events.out")"
grep event_delay "$tmp/events.out" >>"$results"

python3 - "$results" "$pods" "$clients" "$calls" <<'PY'
import sys
results, pods, clients, calls = sys.argv[1], *map(int, sys.argv[2:])
rows = {}
for line in open(results):
    what, *pairs = line.split()
    rows[what] = dict(p.split("=") for p in pairs)
print(f"api-service: {pods} pods on disk, {clients} clients x {calls} calls each")
print(f"{'call':22} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} {'items':>6}")
for what, r in rows.items():
    print(f"{what:22} {float(r['p50_ms']):8.2f} {float(r['p99_ms']):8.2f} "
          f"{float(r['max_ms']):8.2f} {r['errors']:>7} {r['items']:>6}")
goals = {"list_pods_detail": 20, "list_pods_annotation": 20, "inspect_pod": 2, "event_delay": 50}
for what, goal in goals.items():
    if what in rows:
        p99 = float(rows[what]["p99_ms"])
        print(f"{what} p99 = {p99:.2f} ms   (goal <= {goal} ms: {'MET' if p99 <= goal else 'NOT MET'})")
PY
