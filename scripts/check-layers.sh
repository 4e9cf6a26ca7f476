#!/usr/bin/env bash
# Checks that #include dependencies point down the layer order of docs/architecture.md: a file
# in src/<layer>/ may include its own layer and layers of a lower rank only; tests/ may include
# any layer below cmd/; nothing in src/ includes tests/ except unit tests (*_test.cc, and their
# helpers *_test_*.{h,cc}) and fakes,
# which may include tests/testing/. Prints every violation as file:line: message; exits 1 if any.
#
# usage: scripts/check-layers.sh [REPO_DIR]
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$root"

# Rank of each layer, lowest first. Layers on the same rank are peers and may not include each
# other (so no cycle can form between them). Planned layers (DESIGN.md §6) are listed already so
# that adding their folder needs no change here.
declare -A rank=(
  [base]=0
  [os]=1
  [oci]=2
  [cgroup]=3 [seccomp]=3 [cdi]=3
  [runtime]=4
  [image]=5 [network]=5
  [pod]=6
  [supervisor]=7 [kube]=7
  [cli]=8 [api]=8 [cri]=8 [node]=8
  [cmd]=9
)
# Include roots that are not layers: test helpers and the e2e suite's own headers.
test_roots="testing e2e payload"

violations=0
fail() {
  echo "check-layers: $1" >&2
  violations=$((violations + 1))
}

is_test_root() {
  local r
  for r in $test_roots; do [[ $1 == "$r" ]] && return 0; done
  return 1
}

# check_file FILE OWNER OWNER_RANK IS_TEST: checks every `#include "root/..."` of FILE.
check_file() {
  local file=$1 owner=$2 owner_rank=$3 is_test=$4
  local lineno target inc
  while IFS=: read -r lineno inc; do
    target=${inc#*\"}
    target=${target%%/*}
    [[ $inc == *\"*/* ]] || continue # "local.h" beside the file: same layer
    if [[ -n ${rank[$target]+x} ]]; then
      if [[ $target == "$owner" ]]; then
        continue
      fi
      if ((rank[$target] >= owner_rank)); then
        fail "$file:$lineno: $owner may not include ${inc#*#include } ($target is not below $owner)"
      fi
    elif [[ $target == v1alpha ]]; then
      # The api-service's generated protobuf/gRPC code (proto/): only the api layer, the node
      # agent (its client), the mains and tests may see it, so nothing else drags gRPC in.
      if [[ $owner != api && $owner != node && $owner != cmd && $is_test != 1 ]]; then
        fail "$file:$lineno: only src/api, src/node, src/cmd and tests may include ${inc#*#include } (generated gRPC code)"
      fi
    elif is_test_root "$target"; then
      if [[ $is_test != 1 ]]; then
        fail "$file:$lineno: production code may not include ${inc#*#include } (tests/ only)"
      elif [[ $owner != tests/* && $target != testing ]]; then
        fail "$file:$lineno: unit tests may include tests/testing/ only, not ${inc#*#include }"
      elif [[ $owner == tests/testing && $target != testing ]]; then
        fail "$file:$lineno: tests/testing may not include ${inc#*#include }"
      fi
    else
      fail "$file:$lineno: unknown include root '$target' in ${inc#*#include } (add the layer to scripts/check-layers.sh)"
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
    sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*/\1:#include /')
}

files=0
shopt -s nullglob
for dir in src/*/; do
  layer=$(basename "$dir")
  if [[ -z ${rank[$layer]+x} ]]; then
    fail "src/$layer/: unknown layer (add it with its rank to scripts/check-layers.sh)"
    continue
  fi
  while IFS= read -r -d '' f; do
    is_test=0
    case $f in *_test.cc | *_test.h | *_test_*.cc | *_test_*.h | */fake_*.h | */testing/*) is_test=1 ;; esac
    check_file "$f" "$layer" "${rank[$layer]}" "$is_test"
    files=$((files + 1))
  done < <(find "$dir" -type f \( -name '*.h' -o -name '*.cc' -o -name '*.c' \) -print0)
done
# tests/, fuzz/ and bench/ sit above every library layer and below cmd/.
for dir in tests/*/ fuzz/ bench/; do
  [[ -d $dir ]] || continue
  owner=${dir%/}
  while IFS= read -r -d '' f; do
    check_file "$f" "$owner" "${rank[cmd]}" 1
    files=$((files + 1))
  done < <(find "$dir" -type f \( -name '*.h' -o -name '*.cc' -o -name '*.c' \) -print0)
done

if ((violations)); then
  echo "check-layers: $violations violation(s) in $files files; the order is in docs/architecture.md" >&2
  exit 1
fi
echo "check-layers: ok ($files files)"
