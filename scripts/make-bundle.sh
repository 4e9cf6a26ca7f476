#!/usr/bin/env bash
# Builds an OCI bundle (rootfs + config.json) from Debian's busybox-static, runnable by
# comet-runtime, crun and runc. The config follows `runc spec` defaults, except that the process
# is non-interactive (terminal false) and by default prints "hello from comet".
#
# usage: make-bundle.sh <dir> [--rootless] [--with-checker PATH] [--terminal]
#                       [--host-uid N] [--host-gid N] [--force] [-- ARGS...]
#   <dir>               bundle directory to create (must not exist or be empty, unless --force)
#   --rootless          add a user namespace mapping container root to --host-uid/--host-gid
#                       (default: the caller's ids), bind /sys instead of mounting sysfs, no
#                       network namespace, no cgroup mount and no device rules
#   --with-checker PATH copy PATH (tests/payload's static checker) to /bin/checker
#   --terminal          set process.terminal (needs --console-socket or a tty)
#   -- ARGS...          process.args (default: /bin/echo hello from comet)
set -euo pipefail

die() { echo "make-bundle: $*" >&2; exit 1; }

dir="" rootless=0 checker="" terminal=false force=0
host_uid=$(id -u) host_gid=$(id -g)
args=(/bin/echo hello from comet)
while (($#)); do
  case $1 in
    --rootless) rootless=1 ;;
    --with-checker) checker=${2:?--with-checker needs a path}; shift ;;
    --terminal) terminal=true ;;
    --host-uid) host_uid=${2:?}; shift ;;
    --host-gid) host_gid=${2:?}; shift ;;
    --force) force=1 ;;
    --) shift; args=("$@"); break ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) [[ -z $dir ]] || die "only one bundle directory may be given"; dir=$1 ;;
  esac
  shift
done
[[ -n $dir ]] || die "usage: make-bundle.sh <dir> [--rootless] [--with-checker PATH] [-- ARGS...]"
((${#args[@]})) || die "process args must not be empty"

busybox=""
for candidate in /bin/busybox /usr/bin/busybox; do
  if [[ -x $candidate ]] && ! ldd "$candidate" >/dev/null 2>&1; then busybox=$candidate; break; fi
done
[[ -n $busybox ]] || die "no static busybox found (apt-get install busybox-static)"
[[ -z $checker || -x $checker ]] || die "checker $checker is not an executable file"
python=$(command -v /usr/bin/python3 python3 | head -1)
[[ -n $python ]] || die "python3 is needed to write config.json"

if [[ -e $dir && -n $(ls -A "$dir" 2>/dev/null) && $force -eq 0 ]]; then
  die "$dir exists and is not empty (use --force to overwrite)"
fi
rootfs=$dir/rootfs
mkdir -p "$rootfs"
for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp root run var/tmp home/user; do
  mkdir -p "$rootfs/$d"
done
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
cp "$busybox" "$rootfs/bin/busybox"
# One symlink per applet at the path busybox itself would install it to.
while read -r applet; do
  [[ -n $applet && $applet != bin/busybox ]] || continue
  [[ -e $rootfs/$applet || -L $rootfs/$applet ]] || ln -s /bin/busybox "$rootfs/$applet"
done < <("$busybox" --list-full)
[[ -z $checker ]] || cp "$checker" "$rootfs/bin/checker"

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:test user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
EOF
echo comet >"$rootfs/etc/hostname"
chown 1000:1000 "$rootfs/home/user" 2>/dev/null || true

ROOTLESS=$rootless TERMINAL=$terminal HOST_UID=$host_uid HOST_GID=$host_gid \
  "$python" - "$dir/config.json" "${args[@]}" <<'PY'
import json, os, sys

out, args = sys.argv[1], sys.argv[2:]
rootless = os.environ["ROOTLESS"] == "1"
caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
mounts = [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
]
namespaces = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]
linux = {
    "resources": {"devices": [{"allow": False, "access": "rwm"}]},
    "namespaces": namespaces,
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                    "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
}
if rootless:
    # An unprivileged user cannot mount sysfs outside its own network namespace, create device
    # rules or mount cgroup v1: bind /sys, share the host network, drop the rest.
    mounts = [m for m in mounts if m["destination"] != "/sys/fs/cgroup"]
    for m in mounts:
        if m["destination"] == "/sys":
            m.update({"type": "none", "source": "/sys",
                      "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})
        if "options" in m:
            m["options"] = [o for o in m["options"] if not o.startswith("gid=")]
    linux["namespaces"] = [n for n in namespaces if n["type"] != "network"] + [{"type": "user"}]
    linux["uidMappings"] = [{"containerID": 0, "hostID": int(os.environ["HOST_UID"]), "size": 1}]
    linux["gidMappings"] = [{"containerID": 0, "hostID": int(os.environ["HOST_GID"]), "size": 1}]
    del linux["resources"]
config = {
    "ociVersion": "1.0.2",
    "process": {
        "terminal": os.environ["TERMINAL"] == "true",
        "user": {"uid": 0, "gid": 0},
        "args": args,
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
        "cwd": "/",
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "comet",
    "mounts": mounts,
    "linux": linux,
}
with open(out, "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
PY
echo "$dir"
