#!/usr/bin/env bash
# Server CPU per chat message with few and with many idle connections
# (issue 13's target: with 10,000 idle connections a message costs at most
# 1.5x what it costs with 10). Not part of make interop: run it with
#
#   make chat-bench                      (or: bash tests/interop/chat_bench.sh [IDLE...])
#
# For each IDLE count (default: 10 10000) it starts a fresh chat_server,
# connects IDLE clients that join 100 other rooms and stay silent, then
# 10 members of one room send MESSAGES messages each at RATE messages/s
# (every message goes to the 9 others), and reads the server's CPU time
# (/proc/PID/schedstat) over the message phase. REDIS=1 runs the same with
# the server linked to a throwaway redis-server.
set -uo pipefail
cd "$(dirname "$0")/../.."
EX=build/examples
SERVER=${CHAT_SERVER:-$EX/chat_server} # another build to compare with
IB=build/interop
MESSAGES=${MESSAGES:-2000}
RATE=${RATE:-4000}
ROUNDS=${ROUNDS:-3}
IDLES=("$@")
[ ${#IDLES[@]} = 0 ] && IDLES=(10 10000)
WORK=$(mktemp -d /tmp/ws6455-chat-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

redis_args=()
if [ "${REDIS:-0}" = 1 ]; then
    rport=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >/dev/null 2>&1 &
    PIDS+=($!)
    sleep 0.5
    redis_args=(--redis "127.0.0.1:$rport")
fi

echo "chat_bench: 10 members x $MESSAGES messages at $RATE/s, best of $ROUNDS rounds${REDIS:+, REDIS=$REDIS}"
for idle in "${IDLES[@]}"; do
    best=""
    for _ in $(seq "$ROUNDS"); do
        "$SERVER" --port 0 "${redis_args[@]}" >"$WORK/server.log" 2>&1 &
        spid=$!
        PIDS+=("$spid")
        port=""
        for _ in $(seq 50); do
            port=$(sed -n 's|^listening on http://[^:]*:\([0-9]*\)/.*|\1|p' "$WORK/server.log")
            [ -n "$port" ] && break
            sleep 0.1
        done
        sleep 0.3 # (with Redis: the link comes up)
        out=$("$IB/chat_load" --url "ws://127.0.0.1:$port/chat" --clients 10 --rooms 1 \
            --messages "$MESSAGES" --rate "$RATE" --idle "$idle" --server-pid "$spid" --timeout-ms 120000)
        rc=$?
        kill "$spid"
        wait "$spid" 2>/dev/null
        us=$(sed -n 's|.*: \([0-9.]*\) us per message.*|\1|p' <<<"$out")
        if [ $rc != 0 ] || [ -z "$us" ]; then
            echo "$out"
            echo "chat_bench: run with $idle idle connections failed"
            exit 1
        fi
        if [ -z "$best" ] || awk "BEGIN{exit !($us < $best)}"; then best=$us; fi
    done
    printf 'chat_bench: %6d idle connections: %s us of server CPU per message\n' "$idle" "$best"
    eval "cost_$idle=$best"
done
if [ ${#IDLES[@]} -ge 2 ]; then
    first=${IDLES[0]} last=${IDLES[-1]}
    eval "a=\$cost_$first b=\$cost_$last"
    awk -v a="$a" -v b="$b" -v f="$first" -v l="$last" \
        'BEGIN{printf "chat_bench: %d idle / %d idle = %.2fx (target: at most 1.5x)\n", l, f, b / a}'
fi
