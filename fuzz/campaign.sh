#!/usr/bin/env bash
# Long libFuzzer campaigns measured in CPU time, not wall time.
#
#   fuzz/campaign.sh BUILD_DIR CPU_SECONDS JOBS target...
#
# Builds the targets into BUILD_DIR (make B=BUILD_DIR fuzz-build) and runs
# JOBS of them at a time. libFuzzer's -max_total_time counts wall seconds,
# which on a shared machine can be far more than the CPU the target got; so
# each fuzzer runs open-ended and is interrupted (SIGINT, after which
# libFuzzer prints its final stats) once its own user + system time reaches
# CPU_SECONDS. One line per target is appended to BUILD_DIR/fuzz/campaign.tsv:
#
#   target  cpu_s  wall_s  executions  cov  ft  corpus  exit  artifacts
#
# exit is libFuzzer's: 72 = interrupted at the budget (a clean run); anything
# else but 0 is a finding, with its reproducer in BUILD_DIR/fuzz/artifacts/.
# The work corpus (BUILD_DIR/fuzz/corpus-work/<target>) is seeded from
# fuzz/corpus/<target> and kept between campaigns.
set -u
[ $# -ge 4 ] || { echo "usage: $0 BUILD_DIR CPU_SECONDS JOBS target..." >&2; exit 2; }
b=$1 budget=$2 jobs=$3
shift 3
cd "$(dirname "$0")/.." || exit 2
make --no-print-directory B="$b" fuzz-build >/dev/null || exit 2
fz=$b/fuzz
mkdir -p "$fz/logs"
tick=$(getconf CLK_TCK)

# CPU seconds (user + system) of a live process, from /proc/PID/stat.
cpu_seconds() {
    # Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
    local rest
    rest=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    set -- $rest
    echo $(( (${12} + ${13}) / tick ))
}

run_one() {
    local t=$1 work=$fz/corpus-work/$1 art=$fz/artifacts/$1 log=$fz/logs/$1.campaign.log
    mkdir -p "$work" "$art"
    cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
    local dict=""
    [ -f fuzz/"$t".dict ] && dict="-dict=fuzz/$t.dict"
    local start=$SECONDS cpu=0
    "$fz/fuzz_$t" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
        $dict -artifact_prefix="$art/" "$work" >"$log" 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        cpu=$(cpu_seconds "$pid")
        if [ "$cpu" -ge "$budget" ]; then kill -INT "$pid"; break; fi
        sleep 5
    done
    wait "$pid"
    local rc=$?
    local wall=$((SECONDS - start))
    local execs last cov ft corp
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -n 1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$cpu" "$wall" "${execs:-?}" "${cov:-?}" \
        "${ft:-?}" "${corp:-?}" "$rc" "$(ls "$art" | wc -l)" >>"$fz/campaign.tsv"
    echo "campaign: $t done: cpu ${cpu}s wall ${wall}s exit $rc"
}

for t in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_one "$t" &
done
wait
