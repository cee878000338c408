#!/usr/bin/env bash
# What an idle connection costs echo_server: its resident memory (VmRSS in
# /proc/PID/status) before and after N idle WebSocket connections (handshake
# done, nothing sent), in bytes per connection.
#
#   bash bench/idle_rss.sh [N] [SERVER ARGS...]      N defaults to 10000
#   SERVER=build/examples/uv_echo bash bench/idle_rss.sh 10000
#   bash bench/idle_rss.sh 10000 --io-uring
#
# "Before" is taken after a warm-up (100 connections opened and closed), so
# one-time costs of the loop (the context's read buffer, the chunk pools,
# the first heap pages) are not charged to the connections. Everything
# binds 127.0.0.1; the server and the client are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-10000}
[ $# -gt 0 ] && shift
SERVER=${SERVER:-build/examples/echo_server}
B=build/bench
make -s examples >/dev/null
mkdir -p "$B"
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror bench/idle_clients.c -o "$B/idle_clients"

# Both ends need a descriptor per connection.
need=$((N + 256))
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$need" ] ||
    { echo "idle_rss: need $need descriptors, the hard limit is $(ulimit -Hn)" >&2; exit 1; }
ulimit -n "$need"

WORK=$(mktemp -d /tmp/ws6455-idle-rss.XXXXXX)
SPID="" CPID=""
cleanup() {
    [ -n "$CPID" ] && kill "$CPID" 2>/dev/null
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

"$SERVER" --port 0 "$@" >"$WORK/server.log" 2>&1 &
SPID=$!
PORT=""
for _ in $(seq 100); do
    PORT=$(sed -n 's|^listening on ws://[^/]*:\([0-9]*\)/.*|\1|p' "$WORK/server.log")
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || { cat "$WORK/server.log" >&2; exit 1; }

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$SPID/status"; }

timeout 60 "$B/idle_clients" "$PORT" 100 0 >/dev/null
sleep 1.5 # the server closes them (and lingers at most 1 s)
before=$(rss)

mkfifo "$WORK/ready"
timeout 300 "$B/idle_clients" "$PORT" "$N" 120 >"$WORK/ready" 2>"$WORK/client.err" &
CPID=$!
read -r line <"$WORK/ready" || { cat "$WORK/client.err" >&2; exit 1; }
sleep 1 # the last handshakes settle on the server's side
after=$(rss)
kill "$CPID" 2>/dev/null || true
CPID=""

per=$(( (after - before) * 1024 / N ))
echo "$(basename "$SERVER")${*:+ $*}: VmRSS $before kB before, $after kB with $N idle connections ($line): $per bytes per idle connection"
