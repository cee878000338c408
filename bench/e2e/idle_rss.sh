#!/usr/bin/env bash
# Idle memory per connection: each server in turn holds N idle WebSocket
# connections (handshake done, nothing sent); the growth of its VmRSS
# (/proc/PID/status) divided by N is its memory per idle connection.
#
#   bash bench/e2e/idle_rss.sh [-n 10000] [--out FILE.md] SERVER...
#
# SERVER as in bench/e2e/servers.sh: ws6455, node, wslay, wslay-naive or
# cmd:COMMAND (anything printing "listening on ws://HOST:PORT/"). Needs
# build/bench/e2e/loadgen_e2e (make bench-e2e-build). The descriptor limit
# is raised to the hard limit (each side needs N + a few).
#
# VmRSS before: the server started, 50 connections opened and closed (so
# one-off allocations of the first connection are not counted per
# connection), 0.5 s of rest. After: N connections open, 2 s of rest.
# Kernel socket buffers are not in VmRSS and are not counted.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export LC_ALL=C

N=10000 OUT=""
ARGS=()
while [ $# -gt 0 ]; do
    case $1 in
    -n) N=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$1") ;;
    esac
    shift
done
[ ${#ARGS[@]} -gt 0 ] || ARGS=(ws6455 node wslay)

LOADGEN=build/bench/e2e/loadgen_e2e
E2E_OUT=${E2E_OUT:-build/bench/e2e}
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
source bench/e2e/servers.sh
[ -x "$LOADGEN" ] || { echo "idle_rss.sh: $LOADGEN missing (make bench-e2e-build)" >&2; exit 1; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 100)) ]; then
    echo "idle_rss.sh: the descriptor limit ($(ulimit -n)) is below $N + 100" >&2
    exit 1
fi

rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }

FAILED=0
TABLE=$(mktemp)
for s in "${ARGS[@]}"; do
    server_start "$s" || { FAILED=1; continue; }
    # The first connections allocate once-only things (buffers, JIT code):
    # not part of the cost per connection.
    "$LOADGEN" --port "$SERVER_PORT" --idle 50 --hold 0 >/dev/null 2>>"$E2E_OUT/logs/idle-loadgen.log"
    sleep 0.5
    before=$(rss_kib "$SERVER_PID")
    label=$(server_label "$s")
    log="$E2E_OUT/logs/idle-$label.out"
    "$LOADGEN" --port "$SERVER_PORT" --idle "$N" --hold 600 >"$log" 2>>"$E2E_OUT/logs/idle-loadgen.log" &
    gen=$!
    PIDS+=("$gen")
    ok=0
    for _ in $(seq 600); do
        grep -q '^idle open' "$log" && { ok=1; break; }
        kill -0 "$gen" 2>/dev/null || break
        sleep 0.1
    done
    if [ "$ok" = 1 ]; then
        sleep 2
        after=$(rss_kib "$SERVER_PID")
        per=$(((after - before) * 1024 / N))
        printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$N" "$before" "$after" "$per" >>"$TABLE"
        echo "== $label: VmRSS $before KiB -> $after KiB with $N idle connections: $per B per connection"
    else
        echo "== $s: the $N connections did not all open (see $E2E_OUT/logs/idle-loadgen.log)" >&2
        FAILED=1
    fi
    kill "$gen" 2>/dev/null
    wait "$gen" 2>/dev/null
    server_stop "$SERVER_PID"
done

if [ -s "$TABLE" ]; then
    md=$(
        echo "### Idle memory per connection"
        echo
        echo "    date: $(date -u '+%Y-%m-%d %H:%M UTC'); bash bench/e2e/idle_rss.sh -n $N ${ARGS[*]}"
        for s in "${ARGS[@]}"; do echo "    server $(server_label "$s"): $(server_version "$s")"; done
        echo
        echo "| server | idle connections | VmRSS before (KiB) | VmRSS after (KiB) | bytes per connection |"
        echo "|---|---:|---:|---:|---:|"
        awk -F'\t' '{ printf "| %s | %d | %d | %d | %d |\n", $1, $2, $3, $4, $5 }' "$TABLE"
        echo
        echo "VmRSS of the server process; kernel socket memory is not included."
    )
    [ -n "$OUT" ] && echo "$md" >"$OUT" && echo "written: $OUT"
fi
rm -f "$TABLE"
exit $FAILED
