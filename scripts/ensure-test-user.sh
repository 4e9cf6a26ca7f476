#!/usr/bin/env bash
# Creates the unprivileged account the rootless end-to-end tests run as (default comet-test),
# with a /etc/subuid and /etc/subgid range for newuidmap/newgidmap. Idempotent; root only.
# Prints the account's uid. usage: ensure-test-user.sh [NAME]
set -euo pipefail
name=${1:-comet-test}
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-test-user: must run as root" >&2
  exit 1
fi
if ! id -u "$name" >/dev/null 2>&1; then
  # --add-subids-for-system is not needed: a regular (non-system) account gets subids by default
  # from useradd (SUB_UID_COUNT in /etc/login.defs), but older shadow versions do not add them.
  useradd --create-home --shell /bin/sh --comment "comet rootless tests" "$name" >/dev/null
fi
for file in /etc/subuid /etc/subgid; do
  touch "$file"
  if ! grep -q "^$name:" "$file"; then
    # Pick a 65536-id range above every range already listed (and above 100000).
    start=$(awk -F: 'BEGIN { m = 100000 } { e = $2 + $3; if (e > m) m = e } END { print m }' "$file")
    echo "$name:$start:65536" >>"$file"
  fi
done
# Rootless pod networking (pasta, slirp4netns) opens /dev/net/tun as the user: Debian's udev
# rule makes it 0666; machines without udev (containers, some VMs) leave the kernel's 0600.
if [[ -c /dev/net/tun ]] && [[ $(stat -c %a /dev/net/tun) != 666 ]]; then
  chmod 0666 /dev/net/tun
fi
id -u "$name"
