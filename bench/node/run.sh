#!/usr/bin/env bash
# Node benchmark: the time from a Pod manifest appearing to all of its containers running, for 1
# pod and for N pods (default 20) at once: comet's node agent (comet-node watching a manifest
# directory, with comet-api-service as its view of the pods) vs `podman kube play` of the same
# YAML (only the image reference differs: each engine's copy of the same busybox-static rootfs).
# Each pod has two containers (a server and a sidecar, `sleep`), no network but loopback (the
# agent's --net=none, podman's --network none). Rounds alternate who goes first; prints medians,
# and the ratios comet/podman.
#
# comet: the manifests are renamed into the watched directory at t0 (one file per pod, all in one
# go); the clock stops when `comet list` shows every app of the N pods running (polled every
# 10 ms). podman: `podman kube play` of one file with the N Pods, from its start until it returns
# (it returns once the containers run; checked afterwards with `podman ps`).
# Between rounds both are taken down (manifests removed / `kube down`) and their pods removed.
#
# usage: bench/node/run.sh [--rounds N] [--pods N]  (root; default 5 rounds, 20 pods)
# Environment: COMET (default: the newest build/*/src/cmd/comet; comet-node, comet-api-service
# and comet-supervisor beside it). Where systemd is not PID 1 (this machine) the agent supervises
# its pods directly (--pod-supervision=auto), as it would on such a node.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/../lib.sh"
rounds=5 pods=20
bench_parse_args 2,19 rounds=rounds pods=pods -- "$@"
[[ $rounds =~ ^[1-9][0-9]*$ && $pods =~ ^[1-9][0-9]*$ ]] || die "--rounds and --pods take counts"
((pods <= 100)) || die "--pods: at most 100"
bench_require_root "comet-node runs rootful pods; podman as root"
bench_require_tools python3 tar
bench_find_comet
bin=$(dirname "$comet")
for tool in comet-node comet-api-service comet-supervisor; do
  [[ -x $bin/$tool ]] || die "$tool not found beside $comet"
done
bench_check_podman "comet only"
if ((have_podman)); then
  bench_rerun_with_hugetlb_v1 "$@"
fi
[[ -n ${BENCH_HOST_RUN:-} ]] || bench_rerun_with_tmpfs_run "$@"
echo "run.sh: comet = $comet, $rounds rounds of 1 and $pods pods"

bench_make_tmp node
podman_host_note
C() { "$comet" --dir "$tmp/comet" "$@"; }
service_pid='' agent_pid=''
cleanup() {
  trap - EXIT INT TERM
  # Best effort: every step runs whatever the previous one did.
  set +e +o pipefail
  echo "run.sh: cleaning up"
  rm -f "$tmp"/manifests/*.yaml
  [[ -z $agent_pid ]] || { kill "$agent_pid"; wait "$agent_pid"; } 2>/dev/null
  [[ -z $service_pid ]] || { kill "$service_pid"; wait "$service_pid"; } 2>/dev/null
  bench_comet_cleanup
  bench_podman_cleanup
  podman_host_cleanup
  bench_remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_comet_image
((have_podman)) && bench_podman_setup

# pod_yaml NAME IMAGE: one Pod, two containers that run until stopped.
pod_yaml() {
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: default
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: $2
    command: ["/bin/sleep", "3600"]
  - name: sidecar
    image: $2
    command: ["/bin/sleep", "3600"]
EOF
}

mkdir -p "$tmp/manifests" "$tmp/staged" "$tmp/agent"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/comet-api-service" --dir "$tmp/comet" --listen "127.0.0.1:$port" 2>"$tmp/service.log" &
service_pid=$!
"$bin/comet-node" --rkt-path="$comet" --rkt-api-endpoint="127.0.0.1:$port" \
  --pod-manifest-path="$tmp/manifests" --root-dir="$tmp/agent" --dir="$tmp/comet" \
  --unit-dir="$tmp/agent/units" --net=none 2>"$tmp/agent.log" &
agent_pid=$!
sleep 1
kill -0 "$service_pid" 2>/dev/null || die "comet-api-service did not start: $(cat "$tmp/service.log")"
kill -0 "$agent_pid" 2>/dev/null || die "comet-node did not start: $(cat "$tmp/agent.log")"

# comet_round N ROUND: prints the milliseconds from the rename of N manifests into the watched
# directory to 2N running apps (`comet list`, polled every 10 ms by one resident python, so that
# no interpreter start is in the figure); then removes them and waits for their pods to be gone.
comet_round() {
  local n=$1 r=$2 i deadline
  rm -f "$tmp"/staged/*
  for ((i = 0; i < n; i++)); do
    pod_yaml "bench-$n-$r-$i" bench/busybox:1 >"$tmp/staged/bench-$n-$r-$i.yaml"
  done
  python3 - "$comet" "$tmp" "$n" <<'PY' || die "comet: $n pods not running after 120 s (see $tmp/agent.log)"
import glob, json, os, subprocess, sys, time
comet, tmp, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
staged = sorted(glob.glob(os.path.join(tmp, "staged", "*.yaml")))
start = time.monotonic()
# rename(2) into the watched directory: each manifest appears whole.
for path in staged:
    os.rename(path, os.path.join(tmp, "manifests", os.path.basename(path)))
while True:
    out = subprocess.run([comet, "--dir", os.path.join(tmp, "comet"), "list", "--format=json"],
                         capture_output=True, text=True, check=False).stdout
    try:
        running = sum(1 for p in json.loads(out or "[]") for a in p.get("apps", [])
                      if a.get("state") == "running")
    except ValueError:
        running = 0
    if running >= 2 * n:
        break
    if time.monotonic() - start > 120:
        sys.exit(1)
    time.sleep(0.01)
print(round((time.monotonic() - start) * 1000))
PY
  rm -f "$tmp"/manifests/*.yaml
  deadline=$(($(date +%s) + 120))
  while [[ -n $(C list --no-legend 2>/dev/null | awk '$0 ~ /running/') ]]; do
    (($(date +%s) < deadline)) || die "comet: pods still running 120 s after their removal"
    sleep 0.1
  done
  C gc --grace-period=0s >/dev/null 2>&1 || true
  C gc --grace-period=0s >/dev/null 2>&1 || true
}

# podman_round N ROUND: prints the milliseconds `podman kube play` of N pods takes; then takes
# them down.
podman_round() {
  local n=$1 r=$2 i start ms
  : >"$tmp/podman.yaml"
  for ((i = 0; i < n; i++)); do
    ((i == 0)) || echo "---" >>"$tmp/podman.yaml"
    pod_yaml "bench-$n-$r-$i" localhost/bench-busybox:1 >>"$tmp/podman.yaml"
  done
  start=$(date +%s%N)
  P kube play --network none "$tmp/podman.yaml" >"$tmp/podman-play.log" 2>&1 ||
    die "podman kube play failed: $(tail -5 "$tmp/podman-play.log")"
  ms=$((($(date +%s%N) - start) / 1000000))
  local running
  running=$(P ps --filter status=running --format '{{.Names}}' | grep -c -- '-\(server\|sidecar\)$' || true)
  ((running == 2 * n)) || die "podman: $running of $((2 * n)) containers running after kube play"
  echo "$ms"
  P kube down "$tmp/podman.yaml" >/dev/null 2>&1 || die "podman kube down failed"
  P pod rm --all --force >/dev/null 2>&1 || true
}

# One warm-up round of each (first starts fill caches), not counted.
comet_round 1 warm >/dev/null
((have_podman)) && podman_round 1 warm >/dev/null

: >"$tmp/results"
for n in 1 "$pods"; do
  for ((r = 0; r < rounds; r++)); do
    echo "run.sh: $n pod(s), round $((r + 1))/$rounds"
    if ((have_podman && r % 2 == 1)); then
      echo "podman $n $(podman_round "$n" "$r")" >>"$tmp/results"
    fi
    echo "comet $n $(comet_round "$n" "$r")" >>"$tmp/results"
    if ((have_podman && r % 2 == 0)); then
      echo "podman $n $(podman_round "$n" "$r")" >>"$tmp/results"
    fi
  done
done

python3 - "$tmp/results" "$pods" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
print("\nmanifest to all containers running (ms), medians over the rounds:")
print(f"{'pods':>5} {'comet':>9} {'podman':>9} {'comet/podman':>13}   (all comet runs | podman runs)")
for n in ("1", sys.argv[2]):
    c = [int(r[2]) for r in rows if r[0] == "comet" and r[1] == n]
    p = [int(r[2]) for r in rows if r[0] == "podman" and r[1] == n]
    cm = statistics.median(c)
    pm = statistics.median(p) if p else None
    ratio = f"{cm / pm:.2f}" if pm else "-"
    print(f"{n:>5} {cm:9.0f} {pm if pm is not None else '-':>9} {ratio:>13}   {c} | {p}")
PY
