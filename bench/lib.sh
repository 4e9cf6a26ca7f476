# Setup shared by the benchmark scripts (bench/*/run.sh), sourced, never run: option parsing,
# preconditions, finding the built binaries, and a private podman store with its cleanup.
# Sets `repo` (the checkout). Functions that fail call die, which exits the script.
# shellcheck shell=bash

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# podman_host_note and podman_host_cleanup.
# shellcheck source=tests/e2e/podman_host.sh
. "$repo/tests/e2e/podman_host.sh"

die() {
  echo "run.sh: $*" >&2
  exit 1
}

# bench_parse_args HELP_LINES OPTION=VARIABLE... -- "$@": sets VARIABLE from each
# `--OPTION VALUE`; -h/--help prints lines HELP_LINES (a sed range, "2,10") of the script.
bench_parse_args() {
  local help=$1 spec
  local -A var=()
  shift
  while [[ $1 != -- ]]; do
    spec=$1
    var[--${spec%%=*}]=${spec#*=}
    shift
  done
  shift
  while (($#)); do
    if [[ -n ${var[$1]:-} ]]; then
      (($# >= 2)) || die "$1 needs a value"
      printf -v "${var[$1]}" '%s' "$2"
      shift 2
    elif [[ $1 == -h || $1 == --help ]]; then
      sed -n "${help}p" "$0"
      exit 0
    else
      echo "run.sh: unknown argument $1" >&2
      exit 2
    fi
  done
}

# bench_require_root WHY: dies unless run as root.
bench_require_root() {
  [[ $(id -u) -eq 0 ]] || die "run as root${1:+ ($1)}"
}

# bench_require_tools TOOL...: dies naming the first tool that is not on PATH.
bench_require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh)"
  done
}

# bench_newest_binary NAME: the newest build/*/src/cmd/NAME, or nothing.
bench_newest_binary() {
  # shellcheck disable=SC2012 # newest by mtime; the paths are ours
  ls -t "$repo"/build/*/src/cmd/"$1" 2>/dev/null | head -1 || true
}

# bench_find_comet: sets `comet` to $COMET or the newest built comet; dies when there is none.
bench_find_comet() {
  comet=${COMET:-$(bench_newest_binary comet)}
  [[ -n $comet && -x $comet ]] || die "comet not found; build it or set COMET"
}

# bench_check_podman: sets have_podman to 1 when podman and conmon are installed, else 0 (and
# says so, followed by WHAT: "skipped", "comet only").
bench_check_podman() {
  have_podman=1
  if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
    have_podman=0
    echo "run.sh: podman/conmon missing: $1"
  fi
}

# bench_rerun_with_hugetlb_v1 ARGS...: crun 1.8 (also under podman) refuses hybrid cgroups while
# hugetlb sits on the v2 tree: re-runs the script with ARGS (all tools alike) inside the mount
# namespace tests/e2e/with-hugetlb-v1.sh sets up. Returns when already there.
bench_rerun_with_hugetlb_v1() {
  [[ -z ${COMET_BENCH_WRAPPED:-} ]] || return 0
  export COMET_BENCH_WRAPPED=1
  exec "$repo/tests/e2e/with-hugetlb-v1.sh" "$0" "$@"
}

# bench_rerun_with_tmpfs_run ARGS...: on a systemd host /run is a tmpfs, and every tool here keeps
# its per-boot state there (comet's volatile pod dirs, crun's and podman's run roots). Where /run
# is on disk instead (this sandbox: ext4), re-runs the script with ARGS in a private mount
# namespace whose /run is a fresh tmpfs, so that all tools are measured on the usual layout
# (prints a note saying so). Returns when /run is a tmpfs already.
bench_rerun_with_tmpfs_run() {
  [[ $(stat -f -c %T /run) != tmpfs ]] || return 0
  [[ -z ${COMET_BENCH_TMPFS_RUN:-} ]] || die "/run is still not a tmpfs after the re-run"
  export COMET_BENCH_TMPFS_RUN=1
  echo "run.sh: /run is on $(stat -f -c %T /run) here, not a tmpfs as on a systemd host:" \
    "every tool runs with /run on a private tmpfs (BENCH_HOST_RUN=1: keep the host's /run)"
  # shellcheck disable=SC2016 # the inner bash expands these
  exec unshare --mount --propagation private -- bash -c \
    'mount -t tmpfs -o mode=0755,nosuid,nodev,size=10% comet-bench-run /run && exec "$@"' \
    tmpfs-run "$0" "$@"
}

# bench_hyperfine_rounds: runs hyperfine $rounds times over the commands cmds[i] named names[i]
# (--runs $runs, --warmup $warmup), rotating their order each round so that drift on the shared
# machine hits all alike; round r's results go to $tmp/round-r.json.
# shellcheck disable=SC2154 # names, cmds, rounds, runs, warmup and tmp are the script's
bench_hyperfine_rounds() {
  local r k i n=${#names[@]}
  local -a args
  for ((r = 0; r < rounds; r++)); do
    args=()
    for ((k = 0; k < n; k++)); do
      i=$(((k + r) % n))
      args+=(--command-name "${names[$i]}" "${cmds[$i]}")
    done
    echo "run.sh: round $((r + 1))/$rounds"
    hyperfine --style basic --warmup "$warmup" --runs "$runs" \
      --export-json "$tmp/round-$r.json" "${args[@]}" >/dev/null
  done
}

# bench_make_tmp NAME: sets `tmp` to a new directory under $BENCH_TMP (default /var/tmp, the
# disk) named after the benchmark.
bench_make_tmp() {
  tmp=$(mktemp -d "${BENCH_TMP:-/var/tmp}/comet-bench-$1-XXXXXX")
  # On ext4, the top of a directory hierarchy (chattr +T): the stores made in it (comet's data
  # dir, podman's storage) get block groups of their own instead of sharing the temp dir's. ext4
  # without a journal searches past the inodes freed in the last minutes at each inode it makes,
  # so one tool's file churn (podman's, and that of earlier runs) would otherwise slow the next
  # tool's. Elsewhere a no-op.
  chattr +T "$tmp" 2>/dev/null || true
}

# bench_remove_tmp: unmounts whatever is mounted below $tmp (podman's overlay), deepest first,
# then removes it.
bench_remove_tmp() {
  grep -o " ${tmp}[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$tmp"
}

# podman with all of its state in $tmp. Call bench_podman_setup first.
P() {
  podman --root "$tmp/podman" --runroot "$tmp/podman-run" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend file --tmpdir "$tmp/libpod-tmp" "$@"
}
# The same command line as one string, for hyperfine.
bench_podman_command() {
  echo "podman --root $tmp/podman --runroot $tmp/podman-run --storage-driver overlay" \
    "--cgroup-manager cgroupfs --events-backend file --tmpdir $tmp/libpod-tmp"
}

# bench_podman_setup: podman configuration files in $tmp (no network, cgroupfs, file events, no
# registry search) so that nothing from /etc leaks in, and the image $tmp/rootfs.tar imported as
# localhost/bench-busybox:1.
bench_podman_setup() {
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
}

# bench_podman_cleanup: removes every container and the store (best effort).
bench_podman_cleanup() {
  ((have_podman)) && [[ -d $tmp/podman ]] || return 0
  P rm --all --force --time 0 >/dev/null 2>&1 || true
  P system reset --force >/dev/null 2>&1 || true
}

# bench_comet_image: the busybox-static image ($tmp/bundle from scripts/make-bundle.sh and its
# rootfs as $tmp/rootfs.tar) imported into comet's store $tmp/comet as bench/busybox:1.
bench_comet_image() {
  "$repo/scripts/make-bundle.sh" "$tmp/bundle" -- /bin/true >/dev/null
  tar --numeric-owner -C "$tmp/bundle/rootfs" -cf "$tmp/rootfs.tar" .
  "$comet" --dir "$tmp/comet" image import --format rootfs --name bench/busybox:1 \
    "$tmp/rootfs.tar" >/dev/null
}

# bench_comet_cleanup: stops every running pod of $tmp/comet (in parallel batches: each stop
# waits for its pod) and collects them all (best effort).
bench_comet_cleanup() {
  [[ -d $tmp/comet ]] || return 0
  "$comet" --dir "$tmp/comet" list --full --no-legend 2>/dev/null |
    awk '$0 ~ /running/ {print $1}' | sort -u |
    xargs -r -n 10 -P 4 "$comet" --dir "$tmp/comet" stop --force >/dev/null 2>&1 || true
  # The first gc may only move exited pods to garbage; the second removes them.
  "$comet" --dir "$tmp/comet" gc --grace-period=0s >/dev/null 2>&1 || true
  "$comet" --dir "$tmp/comet" gc --grace-period=0s >/dev/null 2>&1 || true
}
