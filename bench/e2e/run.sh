#!/usr/bin/env bash
# The end-to-end echo benchmark (`make bench-e2e`, which builds everything
# first): ws6455's echo_server, uWebSockets (through uWebSockets.js), Node
# `ws` and a wslay echo server under the same closed-loop load over
# loopback, then the idle-memory benchmark.
#
#   bash bench/e2e/run.sh [options]
#     --seconds S          measured seconds per run (default 5)
#     --warmup S           seconds of load before each measured window (default 1)
#     --syscall-seconds S  measured seconds of the separate syscall-counting run
#                          (default 2; 0 skips it)
#     --servers LIST       comma-separated (default ws6455,uws,node,wslay; also
#                          wslay-naive, cmd:COMMAND; see servers.sh). uws is
#                          left out, with a warning, when npm cannot install it
#     --sizes LIST         payload bytes (default 16,1024)
#     --depths LIST        messages in flight per connection (default 1,16)
#     --connections N      (default 100)
#     --reps N             runs per case and server, the median by msgs/s is
#                          kept (default 1)
#     --idle N             connections of the idle-memory run (default 10000; 0 skips)
#     --out DIR            (default build/bench/e2e)
#     --copy-svg DIR       copy the plots there too (e.g. docs/img)
#     --nice N             servers and generator at nice N in sessions of their
#                          own (default -20 as root; 0: unchanged); see servers.sh
#
# Output: DIR/results.md (markdown), DIR/results.txt (text), DIR/results.tsv,
# DIR/*.svg (gnuplot), DIR/idle.md, DIR/logs/. Servers run on CPU 1 and the
# load generator on CPU 0 (taskset) when the machine has two CPUs or more.
# Cases run in turn across servers (16 B depth 1 on every server, then the
# next case), so a disturbance on this shared machine touches all alike.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export LC_ALL=C

SECONDS_=5 WARMUP=1 SYS_SECONDS=2 SERVERS=ws6455,uws,node,wslay SIZES=16,1024 DEPTHS=1,16
CONNS=100 REPS=1 IDLE=10000 COPY_SVG="" E2E_NICE=""
[ "$(id -u)" = 0 ] && E2E_NICE=-20
E2E_OUT=build/bench/e2e
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) SECONDS_=$2 ;;
    --warmup) WARMUP=$2 ;;
    --syscall-seconds) SYS_SECONDS=$2 ;;
    --servers) SERVERS=$2 ;;
    --sizes) SIZES=$2 ;;
    --depths) DEPTHS=$2 ;;
    --connections) CONNS=$2 ;;
    --reps) REPS=$2 ;;
    --idle) IDLE=$2 ;;
    --out) E2E_OUT=$2 ;;
    --copy-svg) COPY_SVG=$2 ;;
    --nice) E2E_NICE=$2 ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (--help)" >&2; exit 2 ;;
    esac
    shift 2 || { echo "run.sh: $1 needs a value" >&2; exit 2; }
done

LOADGEN=build/bench/e2e/loadgen_e2e
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
source bench/e2e/servers.sh

[ -x "$LOADGEN" ] || { echo "run.sh: $LOADGEN missing (make bench-e2e builds it)" >&2; exit 1; }
mkdir -p "$E2E_OUT/logs"
rm -f "$E2E_OUT"/main.raw "$E2E_OUT"/sys.raw "$E2E_OUT"/idle.md

# ---- pinning: server on CPU 1, generator on CPU 0
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    SERVER_CPU=1 GEN=(taskset -c 0 "$LOADGEN")
    PINNING="server pinned to CPU 1, load generator to CPU 0 (taskset)"
else
    SERVER_CPU="" GEN=("$LOADGEN")
    PINNING="not pinned (fewer than 2 CPUs or no taskset)"
fi
if [ -n "$E2E_NICE" ] && [ "$E2E_NICE" != 0 ]; then
    PINNING="$PINNING; both at nice $E2E_NICE in autogroups of their own"
else
    E2E_NICE=""
fi
export E2E_NICE
SYSCALLS_OK=0
if [ "$SYS_SECONDS" != 0 ]; then
    if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
        SYSCALLS_OK=1
    else
        echo "run.sh: perf cannot count raw_syscalls:sys_enter here: syscalls/msg not measured" >&2
    fi
fi

# ---- start every server (idle ones cost nothing)
IFS=, read -ra ASKED <<<"$SERVERS"
declare -A PORT PID LABEL
LABELS=() SERVER_LIST=()
for s in "${ASKED[@]}"; do
    if ! server_start "$s" "$SERVER_CPU"; then
        # uWS comes from npm (about 100 MB): a machine without it still
        # benchmarks the rest.
        [ "$s" = uws ] || exit 1
        echo "run.sh: warning: uws left out (it did not start: npm install ${E2E_UWS_PACKAGE}, or see $E2E_OUT/logs/)" >&2
        continue
    fi
    SERVER_LIST+=("$s")
    PORT[$s]=$SERVER_PORT PID[$s]=$SERVER_PID LABEL[$s]=$(server_label "$s")
    LABELS+=("${LABEL[$s]}")
done

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)"
    echo "pinning: $PINNING"
    if [ "$REPS" = 1 ]; then runs="one run per case and server"; else runs="median by msgs/s of $REPS runs"; fi
    echo "load: $CONNS connections, closed loop, text messages, ${WARMUP} s warm-up + ${SECONDS_} s measured, $runs; syscalls counted in a separate run of ${SYS_SECONDS} s"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    for s in "${SERVER_LIST[@]}"; do echo "server ${LABEL[$s]}: $(server_version "$s")"; done
} >"$E2E_OUT/info.txt"
cat "$E2E_OUT/info.txt"

# ---- the runs
IFS=, read -ra SIZE_LIST <<<"$SIZES"
IFS=, read -ra DEPTH_LIST <<<"$DEPTHS"
FAILED=0
run_gen() { # FILE PREFIX ARGS...: one loadgen run, its result line appended to FILE
    local file=$1 prefix=$2 out="$E2E_OUT/logs/loadgen.out"
    shift 2
    e2e_prefix
    "${E2E_PREFIX[@]}" "${GEN[@]}" "$@" >"$out" 2>>"$E2E_OUT/logs/loadgen.log" &
    local gp=$!
    PIDS+=("$gp")
    e2e_boost "$gp"
    wait "$gp"
    local line
    line=$(grep '^result ' "$out")
    if [ -z "$line" ]; then
        echo "   FAILED: loadgen $* (see $E2E_OUT/logs/)" >&2
        FAILED=1
        return 1
    fi
    echo "$line" >>"$file"
    # progress: the figures that matter, not the whole line
    awk -v prefix="$prefix" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
        if ("syscalls_per_msg" in r) { b = ""; for (i = 2; i <= NF; i++) if ($i ~ /^sc_/) b = b " " substr($i, 4)
            printf "%s%s syscalls/msg:%s\n", prefix, r["syscalls_per_msg"], b }
        else printf "%s%s msgs/s, p50 %s us, p99 %s us, server %s us/msg (%s CPU), generator %s CPU, others %s CPU\n",
            prefix, r["msgs_per_s"], r["p50_us"], r["p99_us"], r["server_cpu_us_per_msg"], r["server_util"], r["gen_util"], r["other_util"] }' <<<"$line"
}
for size in "${SIZE_LIST[@]}"; do
    for depth in "${DEPTH_LIST[@]}"; do
        for rep in $(seq "$REPS"); do
            for s in "${SERVER_LIST[@]}"; do
                kill -0 "${PID[$s]}" 2>/dev/null || { echo "run.sh: server $s died" >&2; exit 1; }
                echo "== $s, $size B, depth $depth$([ "$REPS" = 1 ] || echo " (run $rep of $REPS)")"
                common=(--port "${PORT[$s]}" --server-pid "${PID[$s]}" --label "${LABEL[$s]}" --size "$size"
                    --depth "$depth" --connections "$CONNS" --warmup "$WARMUP")
                run_gen "$E2E_OUT/main.raw" "   " "${common[@]}" --seconds "$SECONDS_"
                if [ "$SYSCALLS_OK" = 1 ] && [ "$rep" = 1 ]; then
                    run_gen "$E2E_OUT/sys.raw" "   " "${common[@]}" --seconds "$SYS_SECONDS" --syscalls
                fi
            done
        done
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$E2E_OUT/info.txt"
for s in "${SERVER_LIST[@]}"; do server_stop "${PID[$s]}"; done
PIDS=()

# ---- idle memory
if [ "$IDLE" != 0 ]; then
    bash bench/e2e/idle_rss.sh -n "$IDLE" --out "$E2E_OUT/idle.md" "${SERVER_LIST[@]}" || FAILED=1
fi

# ---- tables and plots
echo
bash bench/e2e/report.sh "$E2E_OUT" "$SYSCALLS_OK" "${LABELS[@]}" || FAILED=1
if [ -n "$COPY_SVG" ]; then
    mkdir -p "$COPY_SVG"
    cp "$E2E_OUT"/e2e-*.svg "$COPY_SVG"/ && echo "plots copied to $COPY_SVG/"
fi
echo "bench-e2e took $SECONDS s"
exit $FAILED
