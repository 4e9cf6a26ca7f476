#!/usr/bin/env bash
# Runs the Rootless* end-to-end tests as an unprivileged user. As root (CI), it creates the
# account with scripts/ensure-test-user.sh and drops to it with setpriv; as a normal user it
# runs them directly. usage: run-rootless.sh PATH/TO/runtime_e2e_test [gtest args...]
# Environment: COMET_RUNTIME (runtime under test; else COMET_E2E_DEFAULT_RUNTIME, set by ctest;
# else crun), COMET_TEST_USER (default comet-test).
set -euo pipefail
test_binary=$(readlink -f "${1:?usage: run-rootless.sh runtime_e2e_test [args]}")
shift
here=$(cd "$(dirname "$0")" && pwd)
filter=(--gtest_filter='Rootless*' "$@")

export COMET_RUNTIME=${COMET_RUNTIME:-${COMET_E2E_DEFAULT_RUNTIME:-crun}}
if [[ $(id -u) -ne 0 ]]; then
  exec "$test_binary" "${filter[@]}"
fi

user=${COMET_TEST_USER:-comet-test}
uid=$("$here/../../scripts/ensure-test-user.sh" "$user" | tail -1)
gid=$(id -g "$user")
# The user's own temp dir (bundles and --root state dirs go there), removed afterwards.
tmp=$(mktemp -d /tmp/comet-rootless-XXXXXX)
chown "$uid:$gid" "$tmp"
trap 'rm -rf "$tmp"' EXIT
# Every directory above the binaries must be searchable by the user.
for path in "$test_binary" "$COMET_RUNTIME" "${COMET_CHECKER:-}"; do
  [[ $path != /* ]] && continue
  if ! setpriv --reuid="$uid" --regid="$gid" --clear-groups test -r "$path" -a -x "$path"; then
    echo "run-rootless: $path is not readable and executable by $user" >&2
    exit 1
  fi
done
# The multi-range tests map the user's /etc/subuid and /etc/subgid ranges through these.
for helper in newuidmap newgidmap; do
  if ! command -v "$helper" >/dev/null; then
    echo "run-rootless: $helper not found (Debian: apt-get install uidmap)" >&2
    exit 1
  fi
done
wrapper=()
# crun 1.8 refuses hybrid cgroups while hugetlb sits on the v2 tree (see with-hugetlb-v1.sh).
if [[ $(basename "$COMET_RUNTIME") == crun ]]; then
  wrapper=("$here/with-hugetlb-v1.sh")
fi
# The tests run in a network namespace of their own (the network rule: their traffic stays in
# namespaces the tests made): lo, and for rootless pod networking (pasta copies the outside
# interface and route into the pod) a veth pair with both ends in it, one with a TEST-NET-1
# (RFC 5737) address and the default route, the other without an address: whatever took that
# route would die there.
netns=(unshare --net -- sh -c 'ip link set lo up && ip link add comet-rl0 type veth peer name \
comet-rl1 && ip link set comet-rl1 up && ip link set comet-rl0 up && ip addr add 192.0.2.1/24 \
dev comet-rl0 && ip route add default via 192.0.2.254 dev comet-rl0 && exec "$@"' netns)
set +e
"${wrapper[@]}" "${netns[@]}" setpriv --reuid="$uid" --regid="$gid" --clear-groups --reset-env \
  env TMPDIR="$tmp" HOME="$tmp" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
  XDG_RUNTIME_DIR="$tmp" COMET_RUNTIME="$COMET_RUNTIME" \
  ${COMET_CHECKER:+COMET_CHECKER="$COMET_CHECKER"} \
  "$test_binary" "${filter[@]}"
rc=$?
set -e
# Nothing of this run may be left running: no process that inherited its TMPDIR (the tests,
# runtimes, hooks) and none rooted below it (containers, whatever their uid: subordinate ids
# too). Other runs as the same user do not count, nor do zombies awaiting pid 1's reaping.
alive() {
  local dir root
  for dir in /proc/[0-9]*; do
    root=$(readlink "$dir/root" 2>/dev/null) || continue
    if [[ $root == "$tmp"/* ]] || grep -qzxF "TMPDIR=$tmp" "$dir/environ" 2>/dev/null; then
      ps -o stat=,pid=,user=,args= -p "${dir#/proc/}" | grep -v '^Z'
    fi
  done
}
for _ in $(seq 50); do [[ -z $(alive) ]] && break; sleep 0.1; done
if [[ -n $(alive) ]]; then
  echo "run-rootless: processes of this run left running:" >&2
  alive >&2
  rc=1
fi
exit $rc
