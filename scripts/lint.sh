#!/usr/bin/env bash
# Runs clang-tidy-14 with the repo's .clang-tidy over C++ sources, two at a time, and reports per
# file. Fails on any finding, and on a .clang-tidy that clang-tidy-14 cannot parse (it then
# silently falls back to its default checks and exits 0).
#
# usage: scripts/lint.sh [-p BUILD_DIR] [-j JOBS] [FILE...]
#   BUILD_DIR  holds compile_commands.json (default build/dev; configured if missing)
#   FILE...    sources to lint (default: every .cc under src/ and tests/ that the build compiles)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=build/dev
jobs=${LINT_JOBS:-2}
while getopts "p:j:h" opt; do
  case $opt in
    p) build=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

tidy=$(command -v clang-tidy-14 || true)
[[ -n $tidy ]] || { echo "lint: clang-tidy-14 not found (run scripts/install-deps.sh)" >&2; exit 1; }
if [[ ! -f $build/compile_commands.json ]]; then
  echo "lint: configuring $build for compile_commands.json"
  cmake --preset "$(basename "$build")" >/dev/null
fi

# clang-tidy-14 reports a broken config on stderr and carries on: stop here instead.
if config_out=$(cd src && "$tidy" --dump-config 2>&1) && ! grep -qiE 'error (parsing|reading)' <<<"$config_out"; then
  :
else
  echo "lint: .clang-tidy is not valid for clang-tidy-14:" >&2
  grep -iE 'error' <<<"$config_out" >&2 || true
  exit 1
fi

# The files the build knows; a layer skipped by src/CMakeLists.txt has no compile command.
mapfile -t known < <(python3 - "$build/compile_commands.json" "$root" <<'PY'
import json, os, sys
root = sys.argv[2]
for entry in json.load(open(sys.argv[1])):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    if path.startswith(root + "/"):
        print(os.path.relpath(path, root))
PY
)
declare -A compiled=()
for f in "${known[@]}"; do compiled[$f]=1; done

files=()
if (($#)); then
  for f in "$@"; do
    f=$(realpath --relative-to="$root" "$f")
    case $f in
      *.h) echo "lint: $f: headers are checked through the .cc files that include them" ;;
      *) if [[ -n ${compiled[$f]+x} ]]; then files+=("$f"); else echo "lint: $f: not in $build/compile_commands.json, skipped"; fi ;;
    esac
  done
else
  for f in "${known[@]}"; do [[ ($f == src/* || $f == tests/*) && $f == *.cc ]] && files+=("$f"); done
fi
((${#files[@]})) || { echo "lint: no files to lint"; exit 0; }

# clang-tidy-14 spends over a third of its time in glibc's malloc and page faults (it walks every
# system header's AST): with tcmalloc it runs about 2.5 times faster, the same findings.
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
if [[ -f $tcmalloc ]]; then
  export LD_PRELOAD=$tcmalloc${LD_PRELOAD:+:$LD_PRELOAD}
else
  echo "lint: $tcmalloc missing (scripts/install-deps.sh installs it): clang-tidy runs slower"
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export tidy build logs
# -Wno-error: g++'s -Werror from the dev preset would turn clang-only compiler warnings into
# errors here; compiler warnings are the compilers' job (dev and clang presets), not lint's.
lint_one() {
  local f=$1 log
  log=$logs/$(tr / _ <<<"$f").log
  local start=$SECONDS
  local rc=0
  "$tidy" -p "$build" --quiet --extra-arg=-Wno-error "$f" >"$log" 2>&1 || rc=1
  grep -qE '(warning|error):' "$log" && rc=1
  echo $rc >"$log.rc"
  echo $((SECONDS - start)) >"$log.time"
  # One line per file as it finishes, so that a long run shows progress.
  printf 'lint: %-5s %-50s %3ss\n' "$( ((rc)) && echo FAIL || echo ok)" "$f" $((SECONDS - start))
}
export -f lint_one

echo "lint: clang-tidy-14 on ${#files[@]} files, $jobs at a time"
# shellcheck disable=SC2016 # $1 is expanded by the inner bash
printf '%s\0' "${files[@]}" | xargs -0 -n1 -P "$jobs" bash -c 'lint_one "$1"' _

failed=0
declare -A seen=()
for f in "${files[@]}"; do
  log=$logs/$(tr / _ <<<"$f").log
  [[ -f $log.rc ]] || echo 1 >"$log.rc"
  findings=$(grep -E '(warning|error):' "$log" 2>/dev/null || true)
  if [[ $(cat "$log.rc") == 0 ]]; then
    continue
  fi
  ((failed++ == 0)) && echo "lint: findings, per file:"
  echo "  $f"
  # A finding in a header shows once per including file; print each finding once.
  repeated=0
  while IFS= read -r line; do
    key=${line%% \[*}
    if [[ -n ${seen[$key]+x} ]]; then
      repeated=$((repeated + 1))
      continue
    fi
    seen[$key]=1
    echo "    ${line#"$root"/}"
  done < <(grep -E '(warning|error):' "$log" || true)
  ((repeated == 0)) || echo "    (and $repeated finding(s) in headers, shown above)"
  if [[ -z $findings ]]; then
    sed 's/^/    /' "$log" 2>/dev/null | tail -20
  fi
done

if ((failed)); then
  echo "lint: $failed of ${#files[@]} files have clang-tidy findings" >&2
  exit 1
fi
echo "lint: ok (${#files[@]} files)"
