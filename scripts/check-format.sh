#!/usr/bin/env bash
# Checks formatting: clang-format-14 (the repo's .clang-format) on the tracked C/C++ files; on
# every tracked text file: no trailing whitespace, no CRLF, a final newline; shellcheck on the
# shell scripts. Read-only; prints each offending file and exits 1.
# `scripts/check-format.sh --fix` reformats the C/C++ files.
#
# usage: scripts/check-format.sh [--fix]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
fix=0
[[ ${1:-} == --fix ]] && fix=1

clang_format=$(command -v clang-format-14 || command -v clang-format || true)
[[ -n $clang_format ]] || { echo "check-format: clang-format-14 not found (run scripts/install-deps.sh)" >&2; exit 1; }

# Tracked files plus new, not yet ignored ones, so that a developer sees problems before a commit.
# Outside a git work tree (a tarball, or a clone git refuses as "dubious ownership"): every file
# but build/ and .git/.
list_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard -- "$@"
  else
    local patterns=() p
    for p in "$@"; do patterns+=(-o -path "./$p"); done
    if (($#)); then
      find . \( -path ./build -o -path ./.git \) -prune -o -type f \( -false "${patterns[@]}" \) -printf '%P\0'
    else
      find . \( -path ./build -o -path ./.git \) -prune -o -type f -printf '%P\0'
    fi
  fi
}
mapfile -d '' sources < <(list_files '*.h' '*.cc' '*.c')
mapfile -d '' texts < <(list_files)

bad=0
existing=()
for f in "${sources[@]}"; do [[ -f $f ]] && existing+=("$f"); done
if ((${#existing[@]})); then
  if ((fix)); then
    "$clang_format" -i "${existing[@]}"
  else
    # --dry-run -Werror prints each diff as a warning; name the files once at the end.
    for f in "${existing[@]}"; do
      if ! "$clang_format" --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "check-format: $f: not clang-format clean (scripts/check-format.sh --fix)" >&2
        bad=$((bad + 1))
      fi
    done
  fi
fi

for f in "${texts[@]}"; do
  [[ -f $f && -s $f ]] || continue
  # Fuzz corpora are inputs, byte for byte (tars, compressed streams, hostile documents).
  [[ $f != fuzz/corpus/* ]] || continue
  # Skip binary files (those containing NUL bytes).
  if grep -qP '\x00' "$f" 2>/dev/null; then continue; fi
  if grep -q $'\r' "$f"; then
    echo "check-format: $f: CRLF line endings" >&2
    bad=$((bad + 1))
  fi
  if line=$(grep -nE '[[:space:]]+$' "$f" | head -1 | cut -d: -f1) && [[ -n $line ]]; then
    echo "check-format: $f:$line: trailing whitespace" >&2
    bad=$((bad + 1))
  fi
  if [[ $(tail -c1 "$f" | od -An -c | tr -d ' ') != '\n' ]]; then
    echo "check-format: $f: no newline at end of file" >&2
    bad=$((bad + 1))
  fi
done

# Shell scripts: shellcheck at warning level (style notes are left to the author), following the
# files they source (-x; `# shellcheck source=` paths are relative to the repository root).
mapfile -d '' scripts < <(list_files '*.sh' '.ci/run')
if ((${#scripts[@]})) && command -v shellcheck >/dev/null; then
  for f in "${scripts[@]}"; do
    [[ -f $f ]] || continue
    if ! shellcheck -x --severity=warning --format=gcc "$f" >&2; then
      bad=$((bad + 1))
    fi
  done
fi

if ((bad)); then
  echo "check-format: $bad problem(s)" >&2
  exit 1
fi
echo "check-format: ok (${#existing[@]} C/C++ files, ${#texts[@]} files)"
