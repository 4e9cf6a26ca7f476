#!/usr/bin/env bash
# Runs clang-tidy-14 with the repo's .clang-tidy over C++ sources, two runs at a time, batching
# files compiled alike (scripts/lint-batches.py), and reports per file. Fails on any finding, and
# on a .clang-tidy that clang-tidy-14 cannot parse (it then silently falls back to its default
# checks and exits 0).
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

# Batches of files compiled alike, each file again on its own when its batch is not clean
# (scripts/lint-batches.py says why). -Wno-error: g++'s -Werror from the dev preset would turn
# clang-only compiler warnings into errors here; compiler warnings are the compilers' job.
exec python3 "$root/scripts/lint-batches.py" --build "$build" --jobs "$jobs" --tidy "$tidy" \
  --root "$root" "${files[@]}"
