#!/usr/bin/env bash
# Image benchmark: pull + unpack of a ~200 MB, 5-layer image from a local registry
# (docker-registry on 127.0.0.1), `comet fetch` vs `skopeo copy docker://… oci:…` followed by
# `umoci unpack`; and import of a docker archive, `comet image import` vs `skopeo copy
# docker-archive:… oci:…` + `umoci unpack` and vs `podman load`. Rounds alternate the tools;
# prints medians and the ratios (goal for the pull: comet <= 0.5x skopeo+umoci).
# usage: bench/image/run.sh [--rounds N] [--layers N] [--mb-per-layer N]  (root)
# Environment: COMET (default: the newest build/*/src/cmd/comet), BENCH_TMP (default /var/tmp:
# the ext4 disk; results are disk-bound, so say which disk numbers come from).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/../lib.sh"
rounds=3 layers=5 mb=40
bench_parse_args 2,10 rounds=rounds layers=layers mb-per-layer=mb -- "$@"
bench_require_root "umoci and comet keep file ownership"
bench_require_tools docker-registry skopeo umoci python3
bench_find_comet
echo "run.sh: comet = $comet"

bench_make_tmp image
registry_pid=
cleanup() {
  [[ -z $registry_pid ]] || kill "$registry_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
echo "run.sh: working in $tmp ($(df -PT "$tmp" | awk 'NR==2 {print $2}'))"

# A registry on a free loopback port, storage in the temp dir.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/registry.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $tmp/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/')" 2>/dev/null && break
  sleep 0.1
done
ref="127.0.0.1:$port/bench/image:1"

echo "run.sh: building a $layers-layer image of ~$((layers * mb)) MB (uncompressed)"
python3 "$repo/bench/image/make-image.py" "$tmp/trees" "$layers" "$mb"
umoci init --layout "$tmp/layout" >/dev/null
umoci new --image "$tmp/layout:1" >/dev/null
for ((i = 0; i < layers; i++)); do
  umoci insert --image "$tmp/layout:1" "$tmp/trees/layer$i" / >/dev/null
done
rm -rf "$tmp/trees"
skopeo copy -q --dest-tls-verify=false "oci:$tmp/layout:1" "docker://$ref"
skopeo copy -q "oci:$tmp/layout:1" "docker-archive:$tmp/image.tar:bench/image:1"
rm -rf "$tmp/layout"
compressed=$(du -sm "$tmp/registry" | cut -f1)
echo "run.sh: pushed $ref (${compressed} MB in the registry); docker archive $(du -m "$tmp/image.tar" | cut -f1) MB"

now() { date +%s%N; }
declare -A times=()
# measure NAME COMMAND...: runs once, appends the wall time in ms; the disk is synced before
# each run so that one tool's write-back does not land in another's time.
measure() {
  local name=$1
  shift
  sync
  local start end
  start=$(now)
  "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; die "$name failed"; }
  end=$(now)
  times[$name]+="$(((end - start) / 1000000)) "
}
pull_comet() { "$comet" --dir "$tmp/comet" fetch -q "$ref"; }
pull_peer() {
  skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$tmp/peer:1" &&
    umoci unpack --image "$tmp/peer:1" "$tmp/bundle"
}
import_comet() { "$comet" --dir "$tmp/comet" image import "$tmp/image.tar"; }
import_peer() {
  skopeo copy -q "docker-archive:$tmp/image.tar" "oci:$tmp/peer:1" &&
    umoci unpack --image "$tmp/peer:1" "$tmp/bundle"
}
import_podman() {
  podman --root "$tmp/podman" --runroot "$tmp/podman-run" --storage-driver overlay load -q -i "$tmp/image.tar"
}
reset() { rm -rf "$tmp/comet" "$tmp/peer" "$tmp/bundle" "$tmp/podman" "$tmp/podman-run"; }

for ((r = 1; r <= rounds; r++)); do
  echo "run.sh: round $r/$rounds"
  # Alternate who goes first, so that drift on the shared machine hits both alike.
  if ((r % 2)); then order="comet peer"; else order="peer comet"; fi
  for who in $order; do reset; measure "pull_$who" "pull_$who"; done
  for who in $order podman; do
    [[ $who != podman ]] || command -v podman >/dev/null || continue
    reset
    measure "import_$who" "import_$who"
  done
done
reset

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '\n%-28s %10s   %s\n' "measure" "median ms" "runs (ms)"
for key in pull_comet pull_peer import_comet import_peer import_podman; do
  [[ -n ${times[$key]:-} ]] || continue
  printf '%-28s %10s   %s\n' "$key" "$(median "${times[$key]}")" "${times[$key]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
pull_ratio=$(ratio "$(median "${times[pull_comet]}")" "$(median "${times[pull_peer]}")")
import_ratio=$(ratio "$(median "${times[import_comet]}")" "$(median "${times[import_peer]}")")
echo
echo "pull+unpack   comet / (skopeo copy + umoci unpack) = $pull_ratio   (goal <= 0.5: $(awk -v r="$pull_ratio" 'BEGIN {print (r <= 0.5 ? "met" : "NOT met")}'))"
echo "docker-archive import  comet / (skopeo copy + umoci unpack) = $import_ratio"
if [[ -n ${times[import_podman]:-} ]]; then
  echo "docker-archive import  comet / podman load = $(ratio "$(median "${times[import_comet]}")" "$(median "${times[import_podman]}")")"
fi
