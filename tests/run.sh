#!/bin/sh
# Runs every test binary given, then the shell tests in tests/sh/, and ends
# with one summary line across all of them. Exit status 1 if anything failed.
# VALGRIND=1 runs the binaries under valgrind with leak checking.
# TEST_RUNNER="cmd args" runs each binary through cmd (qemu-user for cross
# builds). TESTS_SH=0 leaves out the shell tests (cross and amalgamation runs:
# they check the native build's library, not the code under test).
# TEST_TIMEOUT=SECONDS stops a binary that runs longer (emulated runs).
# TEST_JOBS=N binaries at a time (default: the number of CPUs); their
# outputs are printed whole and in the order given.

# run.sh --one DIR N: the N-th binary of DIR/list, its output in DIR/N.log,
# its exit status in DIR/N.rc (what the parallel runs below call; only the
# numbers go through xargs, so paths may hold any character but newline).
if [ "${1:-}" = --one ]; then
    [ -n "${3:-}" ] || exit 0 # xargs without input may still run us once
    t=$(sed -n "${3}p" "$2/list")
    if [ -n "$VALGRIND" ]; then
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
            "$t" >"$2/$3.log" 2>&1
    else
        # shellcheck disable=SC2086 # TEST_RUNNER is a command with arguments
        ${TEST_TIMEOUT:+timeout -k 10 "$TEST_TIMEOUT"} ${TEST_RUNNER:-} "$t" >"$2/$3.log" 2>&1
    fi
    echo $? >"$2/$3.rc"
    exit 0
fi

passed=0; failed=0; bad=""
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
log=$dir/sh.log
jobs=${TEST_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
# xargs -P (GNU, BSD and busybox findutils) runs them side by side.
for t in "$@"; do printf '%s\n' "$t"; done >"$dir/list"
awk '{ print NR }' "$dir/list" | xargs -n 1 -P "$jobs" sh "$0" --one "$dir"
i=0
for t in "$@"; do
    i=$((i + 1))
    cat "$dir/$i.log"
    rc=$(cat "$dir/$i.rc" 2>/dev/null || echo 1)
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$dir/$i.log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$dir/$i.log" | tail -n 1)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ "$rc" -ne 0 ] && [ -z "$f" ]; then failed=$((failed + 1)); fi
    [ "$rc" -ne 0 ] && bad="$bad $(basename "$t")"
done
if [ -z "$VALGRIND" ] && [ "${TESTS_SH:-1}" != 0 ]; then
    for s in tests/sh/test_*.sh; do
        [ -f "$s" ] || continue
        if sh "$s" >"$log" 2>&1; then
            passed=$((passed + 1)); echo "[       OK ] $s"
        else
            failed=$((failed + 1)); bad="$bad $(basename "$s")"; cat "$log"; echo "[  FAILED  ] $s"
        fi
    done
fi
echo "[==========] all suites:${bad:+ failing:$bad}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ -z "$bad" ]
