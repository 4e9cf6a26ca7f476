#!/usr/bin/env bash
# The whole check that `make test` and CI run: dependencies, format, layer order, the dev build
# with every test (unit, privileged, e2e, rootless), the ASan+UBSan build (clang-14) with the
# unit and privileged tests, and clang-tidy. When they run together, the ASan build and lint start
# in the background as soon as the dev build is done (see below). Runs every step even after a
# failure, prints a summary, and ends with ctest's closing line. Exits 0 only if every step
# passed.
#
# usage: scripts/test.sh [--fail-fast] [STEP...]
#   STEP: deps format layers dev asan lint (default: all, in this order)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1

all_steps=(deps format layers dev asan lint)
fail_fast=0
steps=()
for arg in "$@"; do
  case $arg in
    --fail-fast) fail_fast=1 ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    deps | format | layers | dev | asan | lint) steps+=("$arg") ;;
    *) echo "test: unknown step '$arg' (steps: ${all_steps[*]})" >&2; exit 2 ;;
  esac
done
((${#steps[@]})) || steps=("${all_steps[@]}")

logs=$root/build/test-logs
mkdir -p "$logs"
declare -A status=() seconds=() note=() failed_tests=()
failed=()
last_ctest_line=""
failed_ctest_line=""

banner() { printf '\n==== %s: %s\n' "$1" "$2"; }

# ctest_line LOG: ctest's closing line ("100% tests passed, 0 tests failed out of N") in LOG.
ctest_line() { grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -1; }

# failed_test_names LOG: the tests ctest lists after "The following tests FAILED:" in LOG, one per
# line ("  17 - cli_test.Run.Flags (Failed)"), so that the summary CI keeps shows what failed.
failed_test_names() {
  sed -n '/^The following tests FAILED:/,/^[^[:space:]]/{/^[[:space:]]/p}' "$1"
}

# run_step NAME DESCRIPTION COMMAND...: runs COMMAND, streaming its output and logging it.
run_step() {
  local name=$1 description=$2
  shift 2
  banner "$name" "$description"
  local start=$SECONDS rc
  "$@" 2>&1 | tee "$logs/$name.log"
  rc=${PIPESTATUS[0]}
  seconds[$name]=$((SECONDS - start))
  if ((rc == 0)); then
    status[$name]=ok
  else
    status[$name]=FAILED
    failed+=("$name")
  fi
  local line
  line=$(ctest_line "$logs/$name.log")
  if ((rc != 0)); then
    failed_tests[$name]=$(failed_test_names "$logs/$name.log")
  fi
  if [[ -n $line ]]; then
    note[$name]=$(sed -E 's/^([0-9]+%) tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\3 tests, \2 failed/' <<<"$line")
    last_ctest_line=$line
    ((rc == 0)) || failed_ctest_line=$line
  fi
  if ((rc != 0 && fail_fast)); then
    summary
    exit 1
  fi
}

summary() {
  banner summary "total $((SECONDS / 60))m$((SECONDS % 60))s, logs in build/test-logs/"
  local s
  for s in "${steps[@]}"; do
    printf '  %-8s %-7s %5ss  %s\n' "$s" "${status[$s]:-not run}" "${seconds[$s]:-0}" "${note[$s]:-}"
  done
  for s in "${steps[@]}"; do
    [[ -n ${failed_tests[$s]:-} ]] && printf 'test: %s: failed tests:\n%s\n' "$s" "${failed_tests[$s]}"
  done
  if ((${#failed[@]})); then
    echo "test: FAILED: ${failed[*]}"
  else
    echo "test: all steps passed"
  fi
  # CI reads ctest's closing line: the failing run's if one failed, else the last run's.
  if [[ -n $failed_ctest_line ]]; then
    echo "$failed_ctest_line"
  elif [[ -n $last_ctest_line ]]; then
    echo "$last_ctest_line"
  fi
}

# The dev tests leave most of the two cores idle (they wait on containers and timers), and neither
# the ASan build nor lint needs them: when asked for with dev, both start in the background as
# soon as the dev build is done, the ASan build at a lower priority than the tests and lint at
# the lowest, and their steps wait for them. (run_step runs each step in a pipeline's subshell: a
# background job reports its exit code through a file, not through `wait`.)
lint_log=$logs/lint-background.log
lint_rc=$logs/lint-background.rc
lint_started=$logs/lint-background.started
rm -f "$lint_rc" "$lint_started"
asan_log=$logs/asan-build-background.log
asan_rc=$logs/asan-build-background.rc
asan_started=$logs/asan-build-background.started
rm -f "$asan_rc" "$asan_started"
want_lint=0
want_asan=0
for s in "${steps[@]}"; do
  [[ $s == lint ]] && want_lint=1
  [[ $s == asan ]] && want_asan=1
done

asan_build() {
  cmake --preset asan && cmake --build --preset asan
}

dev_step() {
  cmake --preset dev || return 1
  cmake --build --preset dev || return 1
  if ((want_lint)); then
    # Its own output goes to its log: holding this step's pipe to tee would keep the step open
    # until lint ends.
    (
      rc=0
      nice -n 19 scripts/lint.sh -p build/dev || rc=$?
      echo "$rc" >"$lint_rc"
    ) >"$lint_log" 2>&1 </dev/null &
    touch "$lint_started"
    echo "test: lint started in the background (log $lint_log)"
  fi
  if ((want_asan)); then
    (
      rc=0
      nice -n 10 bash -c "$(declare -f asan_build); asan_build" || rc=$?
      echo "$rc" >"$asan_rc"
    ) >"$asan_log" 2>&1 </dev/null &
    touch "$asan_started"
    echo "test: the ASan build started in the background (log $asan_log)"
  fi
  ctest --preset dev
}

asan_step() {
  if [[ -f $asan_started ]]; then
    while [[ ! -f $asan_rc ]]; do sleep 2; done
    cat "$asan_log"
    [[ $(cat "$asan_rc") == 0 ]] || return 1
  else
    asan_build || return 1
  fi
  ctest --preset asan
}

wait_for_lint() {
  while [[ ! -f $lint_rc ]]; do sleep 2; done
  cat "$lint_log"
  return "$(cat "$lint_rc")"
}

for step in "${steps[@]}"; do
  case $step in
    deps)
      run_step deps "install Debian packages (scripts/install-deps.sh)" scripts/install-deps.sh
      if [[ ${status[deps]} != ok ]]; then
        summary
        exit 1
      fi
      ;;
    format)
      run_step format "clang-format and whitespace (scripts/check-format.sh)" scripts/check-format.sh ;;
    layers)
      run_step layers "include order of the layers (scripts/check-layers.sh)" scripts/check-layers.sh ;;
    dev)
      run_step dev "configure, build and run every test of the dev preset (Debug, -Werror)" \
        dev_step ;;
    asan)
      run_step asan "the asan preset: clang-14 with ASan+UBSan, its unit and privileged tests" \
        asan_step ;;
    lint)
      if [[ -f $lint_started ]]; then
        run_step lint "clang-tidy-14 over src/ and tests/ (scripts/lint.sh), started after the dev build" \
          wait_for_lint
      else
        run_step lint "clang-tidy-14 over src/ and tests/ (scripts/lint.sh)" scripts/lint.sh -p build/dev
      fi ;;
  esac
done

summary
((${#failed[@]} == 0))
