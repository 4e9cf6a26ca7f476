# What podman leaves on the host outside its --root even when told otherwise: `podman import`
# writes c/image's blob-info cache to /var/lib/containers/cache, and the cgroupfs manager leaves
# libpod_parent (and conmon groups) behind. Sourced by podman_test.sh and bench/lib.sh:
# podman_host_note before podman runs, podman_host_cleanup at exit removes only what this run
# created.
# shellcheck shell=bash

podman_host_note() {
  podman_host_had_var_lib_containers=
  [[ -e /var/lib/containers ]] && podman_host_had_var_lib_containers=1
  podman_host_cgroups_before=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null || true)
}

podman_host_cleanup() {
  local d
  if [[ -z $podman_host_cgroups_before ]]; then
    for d in /sys/fs/cgroup/*/libpod_parent; do
      [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  fi
  [[ -n $podman_host_had_var_lib_containers ]] || rm -rf /var/lib/containers
}
