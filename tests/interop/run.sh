#!/usr/bin/env bash
# Interop tests: ws6455's examples against real peers. Run by `make interop`
# (which builds the examples and build/interop/{client_matrix,loadgen} first).
#
#   bash tests/interop/run.sh [SECTION...]
#
# Sections (default: all): handshake node python client shutdown chat redis
# browser load tls autobahn deflate proxy attacks closeecho clientattacks
# uring uv. deflate is permessage-deflate against every peer (and the
# browser section checks it too) when the examples were built with
# make WITH_ZLIB=1; otherwise it checks that --deflate is refused and
# prints a SKIP line. The last five are the examples under attack (issue 10)
# and the other echo servers (echo_server --io-uring, uv_echo; skipped with
# a reason when they cannot run here). Each installs its peer if it is
# missing (Node `ws` with npm into build/interop/node_modules;
# python3-websockets, python3-autobahn, chromium, firefox-esr, nginx and
# haproxy with apt-get when root), binds only 127.0.0.1 on
# free ports (servers are started with --port 0 and report their port), has
# timeouts on everything, and kills what it started. A peer that cannot be
# installed fails its section. With INTEROP_STRICT=1 (as CI runs it) a skip
# counts as a failure, except io_uring refused by the kernel.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

B=build
EX=$B/examples
IB=$B/interop
PY=/usr/bin/python3 # Debian's python3-websockets is only visible to this one
WORK=$(mktemp -d /tmp/ws6455-interop.XXXXXX)
PIDS=()
FAILED=()
PASSED=()
SKIPPED=()

cleanup() {
    # processes a test started for itself and named in a pid file (a Redis
    # server restarted by node_chat_cluster_test.js)
    for f in "$WORK"/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '== %s\n' "$*"; }
pass() { PASSED+=("$1"); say "PASS $1"; }
fail() { FAILED+=("$1"); say "FAIL $1${2:+: $2}"; }
# INTEROP_STRICT=1 (CI): a skip is a failure, since every peer is installed
# there; only a kernel that refuses io_uring stays a skip (the machine's
# limit, not a missing package).
skip() {
    if [ "${INTEROP_STRICT:-0}" = 1 ] && ! [[ "${2:-}" =~ io_uring_setup|kernel|Linux\ 5 ]]; then
        fail "$1" "skipped in strict mode: ${2:-}"
        return
    fi
    SKIPPED+=("$1"); say "SKIP $1${2:+: $2}"
}

# ---- peers

as_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
    as_root || { echo "not root: cannot apt-get install $*" >&2; return 1; }
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 && return 0
    timeout 300 apt-get update -qq >/dev/null 2>&1
    timeout 900 apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need_node_ws() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        apt_install nodejs npm || return 1
    fi
    if [ ! -f "$IB/node_modules/ws/package.json" ]; then
        mkdir -p "$IB"
        [ -f "$IB/package.json" ] || echo '{"name":"ws6455-interop","private":true}' >"$IB/package.json"
        (cd "$IB" && timeout 300 npm install --no-audit --no-fund --loglevel=error ws@8 >/dev/null) || return 1
    fi
    export NODE_PATH="$PWD/$IB/node_modules"
}

need_py_websockets() {
    [ -x "$PY" ] || apt_install python3 || return 1
    "$PY" -c 'import websockets' 2>/dev/null || apt_install python3-websockets || return 1
    "$PY" -c 'import websockets' 2>/dev/null
}

# ---- processes

# start NAME CMD...: runs CMD in the background (output in $WORK/NAME.log),
# waits for its "listening" line and sets PORT and PID.
start() {
    local name=$1
    shift
    "$@" >"$WORK/$name.log" 2>&1 &
    PID=$!
    PIDS+=("$PID")
    PORT=""
    for _ in $(seq 100); do
        PORT=$(sed -n -e 's|^listening on [a-z]*://[^/]*:\([0-9]*\)/.*|\1|p' \
                      -e 's|^listening \([0-9]*\)$|\1|p' "$WORK/$name.log" | head -1)
        [ -n "$PORT" ] && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "$name did not start:" >&2
    cat "$WORK/$name.log" >&2
    return 1
}

stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# ---- sections

t_handshake() {
    need_py_websockets || [ -x "$PY" ] || { fail handshake "no python3"; return; }
    start echo_hs "$EX/echo_server" --port 0 || { fail handshake "echo_server"; return; }
    if timeout 60 "$PY" tests/interop/handshake_check.py "$PORT"; then pass handshake; else fail handshake; fi
    stop "$PID"
}

t_node() {
    need_node_ws || { fail node "cannot install Node ws"; return; }
    start echo_node "$EX/echo_server" --port 0 --verbose || { fail node "echo_server"; return; }
    if timeout 120 node tests/interop/node_client_test.js "ws://127.0.0.1:$PORT/" &&
        grep -q 'code=4001 reason="client says bye"' "$WORK/echo_node.log"; then
        pass "node ws client -> echo_server"
    else
        fail "node ws client -> echo_server"
        cat "$WORK/echo_node.log"
    fi
    stop "$PID"
}

t_python() {
    need_py_websockets || { fail python "cannot install python3-websockets"; return; }
    start echo_py "$EX/echo_server" --port 0 --verbose || { fail python "echo_server"; return; }
    if timeout 120 "$PY" tests/interop/py_client_test.py "ws://127.0.0.1:$PORT/" &&
        grep -q 'code=4002 reason="python says bye"' "$WORK/echo_py.log"; then
        pass "python websockets client -> echo_server"
    else
        fail "python websockets client -> echo_server"
    fi
    stop "$PID"
}

# ws_client and client_matrix against one server (node or python).
client_against() {
    local peer=$1 ok=1 out rc
    local url="ws://127.0.0.1:$PORT/path?q=1"
    timeout 120 "$IB/client_matrix" "$url" || ok=0
    grep -q '^closed 4001 matrix bye$' "$WORK/$peer.log" || { echo "FAIL $peer did not log close 4001 'matrix bye'"; ok=0; }

    # Lines in, messages out; close 1000 at end of input -> exit 0. (Input
    # stays open a moment: a server may drop echoes of messages that arrive
    # just before a close, as Python websockets does.)
    out=$( (printf 'hello\nünïcödé ✓\n\ncmd:protocol\ncmd:header X-Test\ncmd:fragments\nlast\n'; sleep 1) |
        timeout 20 "$EX/ws_client" --protocol nope --protocol chat --header 'X-Test: 42 x' "$url" 2>"$WORK/wc.err")
    rc=$?
    local want
    want=$(printf 'hello\nünïcödé ✓\n\nprotocol:chat\nheader:42 x\nfrag-€-end\nlast')
    if [ "$rc" = 0 ] && [ "$out" = "$want" ] && grep -q '^closed: 1000' "$WORK/wc.err"; then
        echo "ok   ws_client lines, subprotocol, header, fragments, exit 0 on close 1000"
    else
        echo "FAIL ws_client lines (rc=$rc): got:"; printf '%s\n' "$out"; cat "$WORK/wc.err"; ok=0
    fi
    # An unterminated last line is sent at end of input, right before the
    # close (Node ws still echoes it; Python websockets answers the close first).
    if [ "$peer" = node_peer ]; then
        out=$(printf 'no newline' | timeout 20 "$EX/ws_client" "$url" 2>/dev/null)
        if [ "$out" = "no newline" ]; then echo "ok   ws_client sends an unterminated last line"; else echo "FAIL unterminated last line: '$out'"; ok=0; fi
    fi
    # --binary: bytes that are not UTF-8 go through untouched.
    out=$( (printf 'a\xffb\n'; sleep 1) | timeout 20 "$EX/ws_client" --binary "$url" 2>/dev/null | od -An -tx1 | tr -d ' \n')
    if [ "$out" = "61ff620a" ]; then echo "ok   ws_client --binary"; else echo "FAIL ws_client --binary: $out"; ok=0; fi
    # Server closes with 4002: printed on stderr, exit status non-zero.
    (printf 'cmd:close 4002 server bye\n'; sleep 5) | timeout 20 "$EX/ws_client" "$url" >/dev/null 2>"$WORK/wc.err"
    rc=$?
    if [ "$rc" = 1 ] && grep -q '^closed: 4002 server bye$' "$WORK/wc.err"; then
        echo "ok   ws_client exit 1 and close code on stderr after close 4002"
    else
        echo "FAIL ws_client after close 4002: rc=$rc"; cat "$WORK/wc.err"; ok=0
    fi
    # Keepalive pings keep an idle connection open and answered.
    out=$( (sleep 1.2; echo still-here; sleep 0.5) | timeout 20 "$EX/ws_client" --ping-interval 200 "$url" 2>"$WORK/wc.err")
    rc=$?
    if [ "$rc" = 0 ] && [ "$out" = still-here ]; then echo "ok   ws_client --ping-interval"; else echo "FAIL ws_client --ping-interval rc=$rc"; cat "$WORK/wc.err"; ok=0; fi
    return $((1 - ok))
}

t_client() {
    if need_node_ws && start node_peer node tests/interop/node_echo_server.js; then
        if client_against node_peer; then pass "client role -> node ws server"; else fail "client role -> node ws server"; fi
        stop "$PID"
    else
        fail "client role -> node ws server" "peer"
    fi
    if need_py_websockets && start py_peer "$PY" tests/interop/py_echo_server.py; then
        if client_against py_peer; then pass "client role -> python websockets server"; else fail "client role -> python websockets server"; fi
        stop "$PID"
    else
        fail "client role -> python websockets server" "peer"
    fi
    # wss:// is refused with a pointer to wss_client.
    if ! timeout 5 "$EX/ws_client" wss://127.0.0.1:1/ </dev/null 2>"$WORK/wss.err" &&
        grep -q wss_client "$WORK/wss.err"; then
        pass "ws_client refuses wss://"
    else
        fail "ws_client refuses wss://"
    fi
}

t_shutdown() {
    need_node_ws || { fail shutdown "cannot install Node ws"; return; }
    start echo_sd "$EX/echo_server" --port 0 --verbose || { fail shutdown "echo_server"; return; }
    local spid=$PID
    timeout 20 node tests/interop/node_shutdown_test.js "ws://127.0.0.1:$PORT/" 5 >"$WORK/sd.out" &
    local npid=$!
    for _ in $(seq 100); do grep -q ready "$WORK/sd.out" && break; sleep 0.1; done
    local t0=$SECONDS
    kill -TERM "$spid"
    wait "$spid"
    local src=$?
    wait "$npid"
    local nrc=$?
    cat "$WORK/sd.out"
    if [ "$src" = 0 ] && [ "$nrc" = 0 ] && [ $((SECONDS - t0)) -le 3 ]; then
        pass "SIGTERM: close 1001 to every client, exit 0"
    else
        fail "SIGTERM shutdown" "server exit $src, clients $nrc"
    fi

    # Idle timeout: a client that completes the handshake and then never
    # answers a ping is dropped.
    start echo_idle "$EX/echo_server" --port 0 --verbose --idle-timeout 300 || { fail idle "echo_server"; return; }
    if timeout 10 "$PY" - "$PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
t0, data = time.time(), b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
dt = time.time() - t0
ok = b"101" in data and b"\x89\x00" in data and 0.3 <= dt <= 3
print(f"{'ok  ' if ok else 'FAIL'} silent client: ping sent, dropped after {dt:.2f}s")
sys.exit(0 if ok else 1)
EOF
    then pass "--idle-timeout drops a silent client"; else fail "--idle-timeout"; fi
    stop "$PID"
}

# A free TCP port on 127.0.0.1 (for servers that cannot report their own).
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

need_redis() {
    command -v redis-server >/dev/null || apt_install redis-server || return 1
    command -v redis-server >/dev/null
}

# chat_server's Redis support needs hiredis at build time: install it and
# rebuild chat_server (and the Redis layer's test) when the build lacked it.
need_hiredis() {
    "$EX/chat_server" --help 2>/dev/null | grep -q 'no hiredis' || return 0
    pkg-config --exists hiredis 2>/dev/null || apt_install libhiredis-dev pkg-config || return 1
    rm -f "$EX/chat_server"
    make -s "$EX/chat_server" "$B/chat-tests/test_chat_cluster" >/dev/null &&
        ! "$EX/chat_server" --help | grep -q 'no hiredis'
}

t_chat() {
    need_node_ws || { fail chat "cannot install Node ws"; return; }
    local t0=$SECONDS
    need_hiredis || fail chat "cannot build chat_server with Redis support (libhiredis-dev)"
    need_redis || fail chat "cannot install redis-server"
    if bash tests/interop/chat/run_unit.sh "$B/chat-tests"; then
        pass "chat_server modules (hub, JSON, log escaping, timers, map, Redis layer)"
    else
        fail "chat_server modules"
    fi

    start chat "$EX/chat_server" --port 0 --verbose || { fail chat "chat_server"; return; }
    if timeout 60 node tests/interop/node_chat_test.js "$PORT"; then pass "chat_server (HTTP + /chat)"; else fail "chat_server"; cat "$WORK/chat.log"; fi
    # A name cannot forge a log line: the newline in it is escaped.
    if grep -q '^join room=r1 name=admin' "$WORK/chat.log" || ! grep -q 'name=mal\\x0ajoin room=r1 name=admin' "$WORK/chat.log"; then
        fail "chat_server --verbose escapes control characters"; grep -a 'mal' "$WORK/chat.log"
    else
        pass "chat_server --verbose escapes control characters"
    fi
    stop "$PID"

    # Two clients flooding pongs cannot delay the room's messages (read budget).
    start chat_flood "$EX/chat_server" --port 0 || { fail chat "chat_server"; return; }
    if (cd tests/interop && timeout 60 "$PY" chat_flood_check.py "$PORT" 3); then
        pass "chat_server: fair under clients flooding pongs (messages within 100 ms)"
    else
        fail "chat_server: flood fairness"
    fi
    stop "$PID"

    # A member that never reads: closed 1013, socket gone by the close timeout.
    start chat_slow "$EX/chat_server" --port 0 --verbose --close-timeout 1000 || { fail chat "chat_server"; return; }
    if (cd tests/interop && timeout 90 "$PY" chat_slow_reader_check.py "$PORT" "$WORK/chat_slow.log" 1000); then
        pass "chat_server: a member that does not read is gone within the close timeout"
    else
        fail "chat_server: slow reader"; tail -20 "$WORK/chat_slow.log"
    fi
    stop "$PID"

    # Out of descriptors: no busy loop, logged once, still serving, recovers.
    start chat_emfile bash -c 'ulimit -n 48 && exec "$0" "$@"' "$EX/chat_server" --port 0 || { fail chat "chat_server"; return; }
    if (cd tests/interop && timeout 90 "$PY" chat_emfile_check.py "$PORT" "$PID" "$WORK/chat_emfile.log"); then
        pass "chat_server out of descriptors (ulimit -n 48)"
    else
        fail "chat_server out of descriptors"; tail -20 "$WORK/chat_emfile.log"
    fi
    stop "$PID"
    echo "chat section: $((SECONDS - t0)) s"
}

# start_redis NAME PORT: a throwaway Redis (no persistence, 127.0.0.1 only),
# its pid in $WORK/NAME.pid.
start_redis() {
    local name=$1 port=$2
    mkdir -p "$WORK/$name"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/$name" \
        --protected-mode no >"$WORK/$name.log" 2>&1 &
    echo $! >"$WORK/$name.pid"
    disown $! # killed on purpose mid-test: no "Killed" notice from bash
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$WORK/$name.log" >&2
    return 1
}

# start_nodes PREFIX REDIS_PORT TTL: three chat_server nodes on one Redis, with
# the descriptor limit raised for the load check; ports in NODE_PORTS, pids
# in NODE_PIDS.
start_nodes() {
    local prefix=$1 rport=$2 ttl=$3
    NODE_PORTS=()
    NODE_PIDS=()
    for i in 1 2 3; do
        start "$prefix$i" bash -c 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"' "$EX/chat_server" \
            --port 0 --redis "127.0.0.1:$rport" --node-ttl "$ttl" || return 1
        NODE_PORTS+=("$PORT")
        NODE_PIDS+=("$PID")
    done
    # every node linked to Redis before the first client comes
    command -v redis-cli >/dev/null || { sleep 1; return 0; }
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$rport" scard chat:nodes 2>/dev/null)" = 3 ] && return 0
        sleep 0.1
    done
    return 1
}

t_redis() {
    need_node_ws || { fail redis "cannot install Node ws"; return; }
    need_redis || { fail redis "cannot install redis-server"; return; }
    need_hiredis || { fail redis "cannot build chat_server with Redis support (libhiredis-dev)"; return; }
    [ -x "$IB/chat_load" ] || { fail redis "chat_load was not built"; return; }
    local t0=$SECONDS rport ttl=2000
    rport=$(free_port)
    start_redis redis "$rport" || { fail redis "redis-server did not start"; return; }
    if start_nodes cnode "$rport" "$ttl"; then
        local ports
        ports=$(IFS=,; echo "${NODE_PORTS[*]}")
        disown "${NODE_PIDS[2]}" # the test kills it with SIGKILL
        if timeout 120 node tests/interop/node_chat_cluster_test.js "$ports" "${NODE_PIDS[2]}" "$ttl" \
            "$WORK/redis.pid" redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$WORK/redis" --protected-mode no; then
            pass "three chat_server nodes through Redis (lists, order, rooms, names, leave, SIGKILL, Redis restart)"
        else
            fail "three chat_server nodes through Redis"
            for i in 1 2 3; do echo "--- node $i"; tail -15 "$WORK/cnode$i.log"; done
        fi
    else
        fail redis "chat_server nodes did not start"
    fi
    for p in "${NODE_PIDS[@]}"; do stop "$p"; done

    # The load check, on fresh nodes: 10,000 clients, 100 rooms, 3 nodes.
    kill -9 "$(cat "$WORK/redis.pid")" 2>/dev/null
    rport=$(free_port)
    start_redis redis2 "$rport" || { fail redis "redis-server did not start"; return; }
    if start_nodes lnode "$rport" 10000; then
        local args=()
        for p in "${NODE_PORTS[@]}"; do args+=(--url "ws://127.0.0.1:$p/chat"); done
        for p in "${NODE_PIDS[@]}"; do args+=(--server-pid "$p"); done
        # 20 senders per room, one message each: 2,000 messages, 198,000 deliveries
        if timeout 180 "$IB/chat_load" "${args[@]}" --clients 10000 --rooms 100 \
            --senders-per-room 20 --messages 1 --rate 500 --timeout-ms 150000; then
            pass "load: 10,000 clients on 3 nodes in 100 rooms, every message to every other member once"
        else
            fail "load: 10,000 clients on 3 nodes"
            for i in 1 2 3; do echo "--- node $i"; tail -5 "$WORK/lnode$i.log"; done
        fi
    else
        fail redis "chat_server nodes did not start"
    fi
    for p in "${NODE_PIDS[@]}"; do stop "$p"; done
    kill "$(cat "$WORK/redis2.pid")" 2>/dev/null
    echo "redis section: $((SECONDS - t0)) s"
}

# With a library built with zlib the page also runs its echoes against
# echo_server --deflate and the chat on chat_server --deflate, checking
# ws.extensions (permessage-deflate there, nothing on the plain server).
browser_run() {
    local name=$1 epid cpid bpid zpid="" zarg="" chat_deflate=()
    shift
    start "echo_$name" "$EX/echo_server" --port 0 --verbose || return 1
    epid=$PID
    local eport=$PORT
    if deflate_built; then
        start "echoz_$name" "$EX/echo_server" --port 0 --deflate || return 1
        zpid=$PID
        zarg="&echoz=$PORT&deflate=1"
        chat_deflate=(--deflate)
    fi
    start "chat_$name" "$EX/chat_server" --port 0 --page tests/interop/browser_test.html "${chat_deflate[@]}" || return 1
    cpid=$PID
    local url="http://127.0.0.1:$PORT/?echo=$eport&browser=$name$zarg"
    echo "$name: loading $url"
    timeout 90 "$@" "$url" >"$WORK/$name.browser.log" 2>&1 &
    bpid=$!
    PIDS+=("$bpid")
    local verdict=""
    for _ in $(seq 600); do
        verdict=$(grep -o 'reason="VERDICT[^"]*' "$WORK/echo_$name.log" | head -1)
        [ -n "$verdict" ] && break
        kill -0 "$bpid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$bpid" 2>/dev/null
    wait "$bpid" 2>/dev/null
    stop "$epid"
    stop "$cpid"
    [ -n "$zpid" ] && stop "$zpid"
    echo "$name: ${verdict#reason=\"}"
    case "$verdict" in
    *"VERDICT PASS"*) return 0 ;;
    *) tail -20 "$WORK/$name.browser.log"; return 1 ;;
    esac
}

t_browser() {
    deflate_built || skip "browsers with permessage-deflate" "library built without zlib (make WITH_ZLIB=1 examples interop)"
    command -v chromium >/dev/null || apt_install chromium
    if command -v chromium >/dev/null; then
        local prof
        prof=$(mktemp -d "$WORK/chromium.XXXXXX")
        if browser_run chromium chromium --headless --no-sandbox --disable-gpu --no-first-run \
            --disable-background-networking --user-data-dir="$prof" --disable-quic \
            --disable-component-update --disable-sync --disable-dev-shm-usage; then
            pass "headless Chromium"
        else
            fail "headless Chromium"
        fi
    else
        fail "headless Chromium" "cannot install chromium"
    fi
    command -v firefox-esr >/dev/null || apt_install firefox-esr
    if command -v firefox-esr >/dev/null; then
        local prof
        prof=$(mktemp -d "$WORK/firefox.XXXXXX")
        # Keep Firefox from phoning home or showing first-run pages.
        cat >"$prof/user.js" <<'EOF'
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
EOF
        if MOZ_HEADLESS=1 browser_run firefox firefox-esr --headless --no-remote -profile "$prof"; then
            pass "headless Firefox"
        else
            fail "headless Firefox"
        fi
    else
        fail "headless Firefox" "cannot install firefox-esr"
    fi
}

t_load() {
    start echo_load "$EX/echo_server" --port 0 || { fail load "echo_server"; return; }
    if timeout 60 "$IB/loadgen" --url "ws://127.0.0.1:$PORT/" --connections 1000 --messages 1000; then
        pass "load: 1,000 connections x 1,000 messages"
    else
        fail "load"
    fi
    if timeout 60 "$PY" tests/interop/slow_reader_check.py "$PORT"; then
        pass "backpressure: a flooding client that does not read is paused"
    else
        fail "backpressure"
    fi
    stop "$PID"
    start echo_load4 "$EX/echo_server" --port 0 --threads 4 || { fail load "echo_server --threads 4"; return; }
    if timeout 60 "$IB/loadgen" --url "ws://127.0.0.1:$PORT/" --connections 1000 --messages 1000; then
        pass "load: echo_server --threads 4"
    else
        fail "load --threads 4"
    fi
    stop "$PID"
}

t_tls() {
    if [ ! -x "$EX/wss_client" ]; then
        fail tls "wss_client was not built (libssl-dev missing?)"
        return
    fi
    need_node_ws || { fail tls "cannot install Node ws"; return; }
    command -v openssl >/dev/null || apt_install openssl || { fail tls "no openssl"; return; }
    local d=$WORK/tls
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" -days 2 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
        { fail tls "openssl req"; return; }
    start wss_peer node tests/interop/node_echo_server.js "$d/cert.pem" "$d/key.pem" || { fail tls "wss server"; return; }
    local ok=1 out rc
    out=$(printf 'hello over tls\nünï ✓\ncmd:protocol' | timeout 20 "$EX/wss_client" --cafile "$d/cert.pem" \
        --protocol chat "wss://127.0.0.1:$PORT/" 2>"$WORK/wss.err")
    rc=$?
    if [ $rc = 0 ] && [ "$out" = "$(printf 'hello over tls\nünï ✓\nprotocol:chat')" ]; then
        echo "ok   wss_client --cafile: echoes, close 1000"
    else
        echo "FAIL wss_client --cafile rc=$rc: $out"; cat "$WORK/wss.err"; ok=0
    fi
    out=$(printf 'insecure\n' | timeout 20 "$EX/wss_client" --insecure "wss://127.0.0.1:$PORT/" 2>"$WORK/wss.err")
    [ $? = 0 ] && [ "$out" = insecure ] && echo "ok   wss_client --insecure" || { echo "FAIL wss_client --insecure: $out"; cat "$WORK/wss.err"; ok=0; }
    if printf 'x\n' | timeout 20 "$EX/wss_client" "wss://127.0.0.1:$PORT/" >/dev/null 2>"$WORK/wss.err"; then
        echo "FAIL wss_client accepted a self-signed certificate without --cafile"; ok=0
    else
        echo "ok   wss_client refuses an unverified certificate: $(head -1 "$WORK/wss.err")"
    fi
    (printf '%s\n' "$(head -c 300000 /dev/zero | tr '\0' 'z')"; printf 'cmd:close 4003 tls bye\n'; sleep 5) |
        timeout 20 "$EX/wss_client" --insecure "wss://127.0.0.1:$PORT/" >"$WORK/wss.out" 2>"$WORK/wss.err"
    rc=$?
    if [ $rc = 1 ] && grep -q '^closed: 4003 tls bye' "$WORK/wss.err" && [ "$(head -c 300000 "$WORK/wss.out" | tr -d z | wc -c)" = 0 ]; then
        echo "ok   wss_client 300 kB message and server close 4003"
    else
        echo "FAIL wss_client big message / close: rc=$rc"; cat "$WORK/wss.err"; ok=0
    fi
    stop "$PID"
    if [ $ok = 1 ]; then pass "wss_client over TLS (Node https + ws)"; else fail "wss_client over TLS"; fi
}

t_autobahn() {
    need_node_ws || { fail autobahn "cannot install Node ws"; return; }
    start mock_fuzz node tests/interop/mock_fuzzingserver.js || { fail autobahn "mock fuzzing server"; return; }
    if timeout 60 "$EX/ws_client" --autobahn "ws://127.0.0.1:$PORT" --agent "ws6455 test" &&
        grep -q '^report: agent=ws6455 test cases=4 passed=4' "$WORK/mock_fuzz.log"; then
        pass "ws_client --autobahn against a mock fuzzing server"
    else
        fail "ws_client --autobahn"
        cat "$WORK/mock_fuzz.log"
    fi
    stop "$PID"
}

# ---- permessage-deflate (RFC 7692), in a library built with zlib (make
# WITH_ZLIB=1 examples interop). Without zlib the --deflate options must
# refuse to run with that reason, and the rest is skipped.

deflate_built() { ! "$EX/echo_server" --help | grep -q 'built without zlib'; }

# Compressed workload for ws_client: lines out, the same lines back, text
# and (with --binary) bytes. Written once into $WORK/dfl.
deflate_inputs() {
    [ -f "$WORK/dfl/text.in" ] && return 0
    mkdir -p "$WORK/dfl"
    local big chat bigfrag
    big=$(for i in $(seq 2000); do printf 'line %d of a long text, ünïcödé ✓; ' "$i"; done) # ~85 KB, over 64 KiB
    chat='{"type":"message","id":100017,"room":"general","user":"alice","text":"deploy tonight after the review, lunch first? thanks","ts":1700000023341}'
    bigfrag=$(printf '0123456789%.0s' $(seq 20000))
    printf 'hello\nünïcödé ✓\n%s\n%s\ncmd:extensions\ncmd:fragments\ncmd:bigfragments\n\nlast\n' "$chat" "$big" >"$WORK/dfl/text.in"
    printf 'hello\nünïcödé ✓\n%s\n%s\nfrag-€-end\n%s\n\nlast\n' "$chat" "$big" "$bigfrag" >"$WORK/dfl/text.want"
    # binary: 100 KB of random bytes (no newline: one message), then 100 KB
    # that compresses well
    { head -c 150000 /dev/urandom | tr -d '\n' | head -c 100000; printf '\n'
      head -c 100000 /dev/zero | tr '\0' '\001'; printf '\n'; } >"$WORK/dfl/bin.in"
}

# deflate_client_run LABEL URL PEERLOG DELAY OURS_RE PEER_RE [ws_client options]:
# ws_client --deflate against a peer echo server: the workload round-trips,
# ws_client reports permessage-deflate agreed as OURS_RE (--verbose), the
# peer's cmd:extensions answer matches PEER_RE, and the peer read what we
# sent compressed (its "traffic in=N" line). DELAY: seconds to keep input
# open at the end (Python's websockets drops echoes that cross our close).
deflate_client_run() {
    local label=$1 url=$2 peerlog=$3 delay=$4 ours_re=$5 peer_re=$6 ok=1 rc ext in
    shift 6
    deflate_inputs
    local seen
    seen=$(grep -c '^traffic in=' "$peerlog")
    (cat "$WORK/dfl/text.in"; sleep "$delay") |
        timeout 20 "$EX/ws_client" --verbose --deflate "$@" "$url" >"$WORK/dfl/text.out" 2>"$WORK/dfl/err"
    rc=$?
    ext=$(grep '^extensions:' "$WORK/dfl/text.out")
    grep -v '^extensions:' "$WORK/dfl/text.out" >"$WORK/dfl/text.got"
    if [ $rc != 0 ] || ! cmp -s "$WORK/dfl/text.got" "$WORK/dfl/text.want"; then
        echo "FAIL $label: text round trip (rc=$rc)"; cat "$WORK/dfl/err"; ok=0
    fi
    local agreed
    agreed=$(sed -n 's/^connected, subprotocol: [^,]*, //p' "$WORK/dfl/err")
    if ! grep -Eq "^$ours_re" <<<"$agreed"; then
        echo "FAIL $label: ws_client agreed: '$agreed' (want /$ours_re/)"; ok=0
    fi
    if ! grep -Eq "$peer_re" <<<"$ext"; then echo "FAIL $label: the peer says '$ext' (want /$peer_re/)"; ok=0; fi
    # ~85 KB sent as text; compressed it is a few KB. The peer logs its
    # count when it sees the connection end, maybe after ws_client exits.
    for _ in $(seq 30); do
        [ "$(grep -c '^traffic in=' "$peerlog")" -gt "$seen" ] && break
        sleep 0.1
    done
    in=$(sed -n 's/^traffic in=\([0-9]*\).*/\1/p' "$peerlog" | tail -1)
    if [ -z "$in" ] || [ "$in" -gt 30000 ]; then echo "FAIL $label: the peer read ${in:-?} bytes for ~85 KB of compressible text"; ok=0; fi
    (cat "$WORK/dfl/bin.in"; sleep "$delay") |
        timeout 20 "$EX/ws_client" --binary --deflate "$@" "$url" >"$WORK/dfl/bin.out" 2>"$WORK/dfl/err"
    rc=$?
    if [ $rc != 0 ] || ! cmp -s "$WORK/dfl/bin.out" "$WORK/dfl/bin.in"; then
        echo "FAIL $label: binary round trip (rc=$rc)"; cat "$WORK/dfl/err"; ok=0
    fi
    [ $ok = 1 ] && printf 'ok   %s\n       peer: %s (read %s bytes)\n       ws_client: %s\n' "$label" "$ext" "$in" "$agreed"
    return $((1 - ok))
}

# ws_client --deflate against Node ws servers with several parameter sets.
deflate_client_node() {
    need_node_ws || { fail "ws_client --deflate -> node ws server" "cannot install Node ws"; return; }
    local ok=1 set opts args ours peer
    # options of the Node server | ws_client's extra options | our agreement | the server's
    local sets=(
        '{}||server_max_window_bits=15 client_max_window_bits=15 server_no_context_takeover client_no_context_takeover$|"server_no_context_takeover":true,"client_no_context_takeover":true}'
        '{"serverNoContextTakeover":true}||server_no_context_takeover client_no_context_takeover$|"server_no_context_takeover":true'
        '{"clientNoContextTakeover":true}||client_no_context_takeover$|"client_no_context_takeover":true'
        '{"clientMaxWindowBits":10}||client_max_window_bits=10 |"client_max_window_bits":10'
        '{"serverMaxWindowBits":10}||server_max_window_bits=10 |"server_max_window_bits":10'
        '{}|--deflate-server-takeover --deflate-client-takeover|server_max_window_bits=15 client_max_window_bits=15$|^extensions:\{\}$'
        '{}|--deflate-server-window 9 --deflate-client-window 9|server_max_window_bits=9 client_max_window_bits=9 |"server_max_window_bits":9,"client_max_window_bits":9'
    )
    for set in "${sets[@]}"; do
        IFS='|' read -r opts args ours peer <<<"$set"
        if ! WS_DEFLATE=$opts start dfl_node node tests/interop/node_echo_server.js; then ok=0; continue; fi
        # shellcheck disable=SC2086 # args are words
        deflate_client_run "node $opts ${args:-(ws_client defaults)}" "ws://127.0.0.1:$PORT/" "$WORK/dfl_node.log" 0.3 \
            "permessage-deflate .*$ours" "$peer" $args || ok=0
        stop "$PID"
    done
    if [ $ok = 1 ]; then pass "ws_client --deflate -> node ws server (7 parameter sets)"; else fail "ws_client --deflate -> node ws server"; fi

    # Node's quirk: a server configured with clientMaxWindowBits 10 refuses
    # the handshake (400) when offered client_max_window_bits=8, instead of
    # going on uncompressed or agreeing to 8.
    if WS_DEFLATE='{"clientMaxWindowBits":10}' start dfl_node8 node tests/interop/node_echo_server.js; then
        printf 'x\n' | timeout 10 "$EX/ws_client" --deflate --deflate-client-window 8 "ws://127.0.0.1:$PORT/" >/dev/null 2>"$WORK/dfl/err8"
        local rc=$?
        stop "$PID"
        if [ $rc != 0 ] && grep -q 'handshake refused: HTTP status 400' "$WORK/dfl/err8"; then
            pass "node ws server {clientMaxWindowBits: 10} refuses an offer of client_max_window_bits=8 with 400 (its quirk)"
        else
            fail "node ws server quirk with client_max_window_bits=8 changed" "rc=$rc $(head -1 "$WORK/dfl/err8")"
        fi
    else
        fail "node ws server quirk" "server"
    fi
}

deflate_client_python() {
    need_py_websockets || { fail "ws_client --deflate -> python websockets server" "cannot install python3-websockets"; return; }
    local ok=1
    if start dfl_py "$PY" tests/interop/py_echo_server.py --deflate; then
        # websockets' defaults: 12-bit windows both ways, memLevel 5
        deflate_client_run "python (websockets defaults)" "ws://127.0.0.1:$PORT/" "$WORK/dfl_py.log" 1 \
            'permessage-deflate server_max_window_bits=12 client_max_window_bits=12 server_no_context_takeover client_no_context_takeover$' \
            '^extensions:permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12$' || ok=0
        deflate_client_run "python, ws_client with context takeover" "ws://127.0.0.1:$PORT/" "$WORK/dfl_py.log" 1 \
            'permessage-deflate server_max_window_bits=12 client_max_window_bits=12$' \
            '^extensions:permessage-deflate; server_max_window_bits=12; client_max_window_bits=12$' \
            --deflate-server-takeover --deflate-client-takeover || ok=0
        deflate_client_run "python, ws_client asks server_max_window_bits=10" "ws://127.0.0.1:$PORT/" "$WORK/dfl_py.log" 1 \
            'permessage-deflate server_max_window_bits=10 client_max_window_bits=12 ' \
            'server_max_window_bits=10; client_max_window_bits=12$' --deflate-server-window 10 || ok=0
        stop "$PID"
    else
        ok=0
    fi
    if [ $ok = 1 ]; then pass "ws_client --deflate -> python websockets server (3 parameter sets)"; else fail "ws_client --deflate -> python websockets server"; fi
}

need_autobahn() {
    "$PY" -c 'import autobahn.asyncio.websocket' 2>/dev/null || apt_install python3-autobahn || return 1
    "$PY" -c 'import autobahn.asyncio.websocket' 2>/dev/null
}

deflate_client_autobahn() {
    need_autobahn || { fail "ws_client --deflate -> Autobahn|Python server" "cannot install python3-autobahn"; return; }
    local ok=1
    if start dfl_ab "$PY" tests/interop/autobahn_echo_server.py; then
        deflate_client_run "autobahn (accepts the offer as made)" "ws://127.0.0.1:$PORT/" "$WORK/dfl_ab.log" 0.3 \
            'permessage-deflate server_max_window_bits=15 client_max_window_bits=15 server_no_context_takeover client_no_context_takeover$' \
            '^extensions:permessage-deflate server_no_context_takeover=True .*server_max_window_bits=15 client_max_window_bits=15$' || ok=0
        stop "$PID"
    else
        ok=0
    fi
    if start dfl_ab2 "$PY" tests/interop/autobahn_echo_server.py --no-context-takeover-window-10; then
        deflate_client_run "autobahn (asks client_no_context_takeover, client_max_window_bits=10)" \
            "ws://127.0.0.1:$PORT/" "$WORK/dfl_ab2.log" 0.3 \
            'permessage-deflate server_max_window_bits=15 client_max_window_bits=10 server_no_context_takeover client_no_context_takeover$' \
            '^extensions:permessage-deflate server_no_context_takeover=True client_no_context_takeover=True server_max_window_bits=10 client_max_window_bits=10$' || ok=0
        stop "$PID"
    else
        ok=0
    fi
    if [ $ok = 1 ]; then pass "ws_client --deflate -> Autobahn|Python server (2 parameter sets)"; else fail "ws_client --deflate -> Autobahn|Python server"; fi
}

# Node ws and Python websockets clients against echo_server --deflate, with
# its defaults and with context takeover allowed both ways.
deflate_server_clients() {
    local v=$1 name=$2
    variant "$v" || { skip "permessage-deflate clients -> $name" "$WHY"; return; }
    if need_node_ws && start "dfl_s_$v" "${CMD[@]}" --port 0 --verbose --deflate; then
        if timeout 60 node tests/interop/node_deflate_client_test.js "ws://127.0.0.1:$PORT/" >"$WORK/dfl_s.out" 2>&1 &&
            [ "$(grep -c 'open .* permessage-deflate' "$WORK/dfl_s_$v.log")" -ge 6 ]; then
            pass "node ws clients -> $name --deflate (6 parameter sets, and Node's clientNoContextTakeover: false quirk)"
        else
            grep -v '^ok' "$WORK/dfl_s.out"; fail "node ws clients -> $name --deflate"
        fi
        if need_py_websockets && timeout 60 "$PY" tests/interop/py_deflate_client_test.py "ws://127.0.0.1:$PORT/" >"$WORK/dfl_s.out" 2>&1; then
            pass "python websockets clients -> $name --deflate (5 parameter sets)"
        else
            grep -v '^ok' "$WORK/dfl_s.out"; fail "python websockets clients -> $name --deflate"
        fi
        stop "$PID"
    else
        fail "clients -> $name --deflate" "Node ws or server"
        return
    fi
    [ "$v" = epoll ] || return 0 # the takeover variant once, on the epoll server
    if start "dfl_t_$v" "${CMD[@]}" --port 0 --verbose --deflate --deflate-server-takeover --deflate-client-takeover; then
        if timeout 60 node tests/interop/node_deflate_client_test.js "ws://127.0.0.1:$PORT/" takeover >"$WORK/dfl_s.out" 2>&1; then
            pass "node ws clients -> $name --deflate with context takeover (7 parameter sets)"
        else
            grep -v '^ok' "$WORK/dfl_s.out"; fail "node ws clients -> $name --deflate with context takeover"
        fi
        if timeout 60 "$PY" tests/interop/py_deflate_client_test.py "ws://127.0.0.1:$PORT/" takeover >"$WORK/dfl_s.out" 2>&1; then
            pass "python websockets clients -> $name --deflate with context takeover (5 parameter sets)"
        else
            grep -v '^ok' "$WORK/dfl_s.out"; fail "python websockets clients -> $name --deflate with context takeover"
        fi
        stop "$PID"
    fi
}

# ws_client --autobahn --deflate against the mock fuzzing server accepting
# permessage-deflate: every case passes, compressed.
deflate_autobahn_mode() {
    need_node_ws || { fail "ws_client --autobahn --deflate" "cannot install Node ws"; return; }
    WS_DEFLATE='{}' start dfl_fuzz node tests/interop/mock_fuzzingserver.js || { fail "ws_client --autobahn --deflate" "mock"; return; }
    if timeout 60 "$EX/ws_client" --autobahn "ws://127.0.0.1:$PORT" --agent "ws6455 deflate" --deflate &&
        grep -q '^report: agent=ws6455 deflate cases=4 passed=4' "$WORK/dfl_fuzz.log" &&
        [ "$(grep -c 'passed deflate=yes' "$WORK/dfl_fuzz.log")" = 4 ]; then
        pass "ws_client --autobahn --deflate against a mock fuzzing server (4 cases, all compressed)"
    else
        fail "ws_client --autobahn --deflate"; cat "$WORK/dfl_fuzz.log"
    fi
    stop "$PID"
}

# The chat checks against chat_server --deflate: Node ws clients offer
# permessage-deflate by default, so broadcasts (prepared messages) go out
# compressed per member.
deflate_chat() {
    need_node_ws || { fail "node ws -> chat_server --deflate" "cannot install Node ws"; return; }
    start dfl_chat "$EX/chat_server" --port 0 --verbose --deflate || { fail "chat_server --deflate" "server"; return; }
    local n
    if timeout 60 node tests/interop/node_chat_test.js "$PORT" >"$WORK/dfl_chat.out" 2>&1 &&
        n=$(grep -c '^upgrade .* permessage-deflate' "$WORK/dfl_chat.log") && [ "$n" -ge 4 ]; then
        pass "node ws -> chat_server --deflate (the chat checks; $n connections compressed)"
    else
        tail -5 "$WORK/dfl_chat.out"; fail "node ws -> chat_server --deflate"
    fi
    stop "$PID"
}

t_deflate() {
    if ! deflate_built; then
        local ok=1 cmd
        for cmd in "echo_server --port 0" "chat_server --port 0" "ws_client ws://127.0.0.1:1/" "uv_echo --port 0"; do
            [ -x "$EX/${cmd%% *}" ] || continue
            # shellcheck disable=SC2086 # cmd is words
            timeout 5 "$EX/"$cmd --deflate </dev/null >/dev/null 2>"$WORK/nz.err"
            [ $? = 2 ] && grep -q "^${cmd%% *}: --deflate: built without zlib" "$WORK/nz.err" || { ok=0; cat "$WORK/nz.err"; }
        done
        if [ $ok = 1 ]; then pass "--deflate without zlib: refused (exit 2, 'built without zlib')"; else fail "--deflate without zlib"; fi
        skip "permessage-deflate interop" "library built without zlib (make WITH_ZLIB=1 examples interop)"
        return
    fi
    local t0=$SECONDS
    deflate_server_clients epoll echo_server
    deflate_server_clients uring "echo_server --io-uring"
    deflate_server_clients uv uv_echo
    deflate_client_node
    deflate_client_python
    deflate_client_autobahn
    deflate_autobahn_mode
    deflate_chat
    echo "deflate section: $((SECONDS - t0)) s"
}

# ---- the examples under attack, and the other echo servers

# Milliseconds since some point, for durations.
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# CPU time (user + system, in clock ticks) a process has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# variant NAME: sets CMD to the echo server's command, or returns 1 with the
# reason in WHY when it cannot run here.
URING_WHY=unknown
variant() {
    WHY=""
    case $1 in
    epoll) CMD=("$EX/echo_server") ;;
    uring)
        CMD=("$EX/echo_server" --io-uring)
        if [ "$URING_WHY" = unknown ]; then
            # echo_server says why when io_uring cannot be used (not built
            # in, or the kernel refuses it) and runs on epoll instead.
            URING_WHY=""
            if start uring_probe "$EX/echo_server" --io-uring --port 0; then
                sleep 0.2
                grep -q '(io_uring)' "$WORK/uring_probe.log" ||
                    URING_WHY=$(grep -m1 -o 'io-uring: .*' "$WORK/uring_probe.log")
                stop "$PID"
            else
                URING_WHY="echo_server did not start"
            fi
        fi
        WHY=$URING_WHY
        ;;
    uv)
        CMD=("$EX/uv_echo")
        [ -x "$EX/uv_echo" ] || WHY="uv_echo was not built (libuv1-dev missing?)"
        ;;
    esac
    [ -z "$WHY" ]
}

# (a) A peer that floods and never reads. The server stops reading it
# (backpressure) and its echoes stay stuck; the keepalive (--idle-timeout)
# and then the shutdown close (SIGTERM, --close-timeout) time out, and the
# socket must be closed by the deadline the engine announced, measured by
# the peer. Without the engine's drain deadline (or with a loop that ignores
# it) the socket stays open for ever.
attack_nonreader() {
    local v=$1 out rc n
    variant "$v" || { skip "non-reading peer ($v)" "$WHY"; return; }
    start "nr_$v" "${CMD[@]}" --port 0 --verbose --idle-timeout 400 --close-timeout 800 ||
        { fail "non-reading peer ($v)" "server"; return; }
    out=$(timeout 30 "$IB/attack" nonreader "$PORT" --max-ms 1300)
    rc=$?
    echo "$out"
    stop "$PID"
    # ping at the last read + 400 ms, fails 400 ms later: by 800 ms after
    # the last read, which came before the peer saw its sends stall.
    if [ $rc = 0 ]; then pass "non-reading peer: keepalive timeout closes the socket ($v)"
    else fail "non-reading peer: keepalive ($v)" "$out"; fi

    start "nrt_$v" "${CMD[@]}" --port 0 --verbose --close-timeout 800 ||
        { fail "non-reading peer ($v)" "server"; return; }
    local spid=$PID
    out=$(timeout 30 "$IB/attack" nonreader "$PORT" --term-pid "$spid" --max-ms 1300)
    rc=$?
    wait "$spid"
    local src=$?
    echo "$out"
    n=$(sed -n 's/^closed by the server \([0-9]*\) ms.*/\1/p' <<<"$out")
    # The close 1001 goes out behind stuck echoes; it times out at 800 ms
    # (not earlier: the timer starts at the close), well before the 2 s the
    # shutdown waits at most; then exit 0.
    if [ $rc = 0 ] && [ "$src" = 0 ] && [ -n "$n" ] && [ "$n" -ge 750 ] && [ "$n" -le 1300 ]; then
        pass "non-reading peer: close timeout closes the socket at the announced deadline ($v)"
    else
        fail "non-reading peer: close timeout ($v)" "rc=$rc server=$src ms=$n"
    fi
}

# (b) Fairness: one client floods empty pongs as fast as it can, another
# floods 16-byte messages (reading its echoes); a third must still get each
# echo within 100 ms.
attack_flood() {
    local v=$1 out
    variant "$v" || { skip "flood fairness ($v)" "$WHY"; return; }
    start "fl_$v" "${CMD[@]}" --port 0 || { fail "flood fairness ($v)" "server"; return; }
    out=$(timeout 30 "$IB/attack" flood "$PORT" --pong 1 --data 1 --seconds 3 --max-latency-ms 100)
    local rc=$?
    echo "$out"
    stop "$PID"
    if [ $rc = 0 ]; then pass "flooding clients cannot delay another client's echo past 100 ms ($v)"
    else fail "flood fairness ($v)"; fi
}

# (d) Out of descriptors: 200 connections against a server limited to 64
# descriptors. It must shed what it cannot take (not leave it in the
# backlog), stay nearly idle (a level-triggered listening socket that stays
# readable spins at 100% CPU), log a few lines at most, and serve a normal
# client once descriptors are free again.
attack_emfile() {
    local v=$1 out c0 c1 hz lines ended
    variant "$v" || { skip "EMFILE ($v)" "$WHY"; return; }
    start "mf_$v" bash -c 'ulimit -n 64 && exec "$@"' _ "${CMD[@]}" --port 0 ||
        { fail "EMFILE ($v)" "server"; return; }
    hz=$(getconf CLK_TCK)
    c0=$(cpu_ticks "$PID")
    out=$(timeout 30 "$IB/attack" hold "$PORT" --connections 200 --hold-ms 3000)
    c1=$(cpu_ticks "$PID")
    echo "$out"
    ended=$(sed -n 's/^hold: the server ended \([0-9]*\) of them.*/\1/p' <<<"$out")
    local echo_out
    echo_out=$(timeout 20 "$IB/attack" echo "$PORT" --timeout-ms 5000)
    local erc=$?
    echo "$echo_out"
    lines=$(($(wc -l <"$WORK/mf_$v.log") - 1))
    stop "$PID"
    echo "server CPU over the 3 s attack: $((c1 - c0)) ticks at $hz/s; log lines: $lines"
    sed 's/^/   | /' "$WORK/mf_$v.log"
    if [ "${ended:-0}" -ge 100 ] && [ $((c1 - c0)) -lt $((hz / 2)) ] && [ "$lines" -le 4 ] && [ $erc = 0 ]; then
        pass "out of descriptors: sheds, stays idle, logs once, recovers ($v)"
    else
        fail "EMFILE ($v)" "shed=$ended cpu=$((c1 - c0)) lines=$lines echo=$erc"
    fi
}

# (c) The close reason is echoed: a Node ws client closing with (4321,
# 'bye now') sees both come back.
close_echo() {
    local v=$1
    variant "$v" || { skip "close reason echoed ($v)" "$WHY"; return; }
    need_node_ws || { fail "close reason echoed ($v)" "cannot install Node ws"; return; }
    start "ce_$v" "${CMD[@]}" --port 0 --verbose || { fail "close reason echoed ($v)" "server"; return; }
    if timeout 20 node tests/interop/node_close_echo_test.js "ws://127.0.0.1:$PORT/" &&
        grep -q 'code=4321 reason="bye now"' "$WORK/ce_$v.log"; then
        pass "Node ws close (4321, 'bye now') echoed with code and reason ($v)"
    else
        fail "close reason echoed ($v)"
    fi
    stop "$PID"
}

t_attacks() {
    attack_nonreader epoll
    attack_flood epoll
    attack_emfile epoll
}

t_closeecho() {
    close_echo epoll
    close_echo uring
    close_echo uv
}

# (e) The clients against hostile servers: a server that floods and never
# answers our close must not keep ws_client past its close timeout (5 s);
# a TLS server that never answers the ClientHello must not hang wss_client.
t_clientattacks() {
    local t0 ms rc
    if start flood_srv "$IB/attack" flood-server; then
        t0=$(ms_now)
        printf '' | timeout 30 "$EX/ws_client" "ws://127.0.0.1:$PORT/" >/dev/null 2>"$WORK/wcf.err"
        rc=$?
        ms=$(($(ms_now) - t0))
        cat "$WORK/wcf.err"
        echo "ws_client exit $rc after $ms ms"
        stop "$PID"
        if [ $rc = 1 ] && [ $ms -le 6500 ] && grep -q 'no answer to our close within 5000 ms' "$WORK/wcf.err"; then
            pass "ws_client: a flooding server cannot keep it past the close timeout"
        else
            fail "ws_client against a flooding server" "rc=$rc ms=$ms"
        fi
    else
        fail "ws_client against a flooding server" "attack flood-server"
    fi
    # A server that answers our close, floods on and never closes TCP: the
    # wait for its FIN after a clean close is bounded (2 s), and reading
    # while waiting is bounded per wakeup.
    if start flood_srv2 "$IB/attack" flood-server --answer-close; then
        t0=$(ms_now)
        printf '' | timeout 30 "$EX/ws_client" "ws://127.0.0.1:$PORT/" >/dev/null 2>"$WORK/wcf2.err"
        rc=$?
        ms=$(($(ms_now) - t0))
        cat "$WORK/wcf2.err"
        echo "ws_client exit $rc after $ms ms"
        stop "$PID"
        if [ $rc = 0 ] && [ $ms -le 4000 ] && grep -q '^closed: 1000' "$WORK/wcf2.err"; then
            pass "ws_client: a server that floods after the close handshake is left within 2 s"
        else
            fail "ws_client against a server flooding after the close" "rc=$rc ms=$ms"
        fi
    else
        fail "ws_client against a server flooding after the close" "attack flood-server"
    fi
    # A host that drops SYNs (here: a listener whose accept queue is full):
    # the TCP connect is bounded by the handshake timeout too.
    if start full_backlog "$IB/attack" full-backlog; then
        t0=$(ms_now)
        printf 'x\n' | timeout 30 "$EX/ws_client" --handshake-timeout 1500 \
            "ws://127.0.0.1:$PORT/" >/dev/null 2>"$WORK/wc_backlog.err"
        rc=$?
        ms=$(($(ms_now) - t0))
        cat "$WORK/wc_backlog.err"
        echo "ws_client exit $rc after $ms ms"
        stop "$PID"
        if [ $rc = 2 ] && [ $ms -le 2500 ] && grep -q 'timed out after 1500 ms' "$WORK/wc_backlog.err"; then
            pass "ws_client: a connect that is never answered is given up at the handshake timeout"
        else
            fail "ws_client against a host that drops SYNs" "rc=$rc ms=$ms"
        fi
    else
        fail "ws_client against a host that drops SYNs" "attack full-backlog"
    fi
    if [ ! -x "$EX/wss_client" ]; then
        skip "wss_client against a silent TLS server" "wss_client was not built"
        return
    fi
    if start silent_tls "$IB/attack" silent; then
        t0=$(ms_now)
        printf 'x\n' | timeout 30 "$EX/wss_client" --insecure --handshake-timeout 1500 \
            "wss://127.0.0.1:$PORT/" >/dev/null 2>"$WORK/wss_silent.err"
        rc=$?
        ms=$(($(ms_now) - t0))
        cat "$WORK/wss_silent.err"
        echo "wss_client exit $rc after $ms ms"
        stop "$PID"
        if [ $rc != 0 ] && [ $rc != 124 ] && [ $ms -le 2500 ] &&
            grep -q 'no TLS handshake within 1500 ms' "$WORK/wss_silent.err"; then
            pass "wss_client: a TLS server that never answers is given up at the handshake timeout"
        else
            fail "wss_client against a silent TLS server" "rc=$rc ms=$ms"
        fi
    else
        fail "wss_client against a silent TLS server" "attack silent"
    fi
}

# The checks echo_server gets, for another echo server (io_uring, libuv):
# Node ws and Python websockets matrices, the handshake checks, 1,000
# connections x 1,000 messages, the non-reading flood, SIGTERM, and the
# attacks above.
echo_suite() {
    local v=$1 name=$2
    variant "$v" || { skip "$name" "$WHY"; return; }
    if need_node_ws && start "${v}_node" "${CMD[@]}" --port 0 --verbose; then
        if timeout 120 node tests/interop/node_client_test.js "ws://127.0.0.1:$PORT/" &&
            grep -q 'code=4001 reason="client says bye"' "$WORK/${v}_node.log"; then
            pass "node ws client -> $name"
        else
            fail "node ws client -> $name"
        fi
        stop "$PID"
    else
        fail "node ws client -> $name" "peer or server"
    fi
    if need_py_websockets && start "${v}_py" "${CMD[@]}" --port 0 --verbose; then
        if timeout 120 "$PY" tests/interop/py_client_test.py "ws://127.0.0.1:$PORT/" &&
            grep -q 'code=4002 reason="python says bye"' "$WORK/${v}_py.log"; then
            pass "python websockets client -> $name"
        else
            fail "python websockets client -> $name"
        fi
        if timeout 60 "$PY" tests/interop/handshake_check.py "$PORT" >/dev/null; then
            pass "handshake checks -> $name"
        else
            fail "handshake checks -> $name"
        fi
        stop "$PID"
    else
        fail "python websockets client -> $name" "peer or server"
    fi
    if start "${v}_load" "${CMD[@]}" --port 0; then
        if timeout 60 "$IB/loadgen" --url "ws://127.0.0.1:$PORT/" --connections 1000 --messages 1000; then
            pass "load: 1,000 connections x 1,000 messages -> $name"
        else
            fail "load -> $name"
        fi
        if timeout 60 "$PY" tests/interop/slow_reader_check.py "$PORT"; then
            pass "backpressure: a flooding client that does not read is paused ($name)"
        else
            fail "backpressure ($name)"
        fi
        stop "$PID"
    else
        fail "load -> $name" "server"
    fi
    if need_node_ws && start "${v}_sd" "${CMD[@]}" --port 0 --verbose; then
        local spid=$PID t0
        timeout 20 node tests/interop/node_shutdown_test.js "ws://127.0.0.1:$PORT/" 5 >"$WORK/${v}_sd.out" &
        local npid=$!
        for _ in $(seq 100); do grep -q ready "$WORK/${v}_sd.out" && break; sleep 0.1; done
        t0=$SECONDS
        kill -TERM "$spid"
        wait "$spid"
        local src=$?
        wait "$npid"
        local nrc=$?
        if [ "$src" = 0 ] && [ "$nrc" = 0 ] && [ $((SECONDS - t0)) -le 3 ]; then
            pass "SIGTERM: close 1001 to every client, exit 0 ($name)"
        else
            fail "SIGTERM ($name)" "server exit $src, clients $nrc"
            cat "$WORK/${v}_sd.out"
        fi
    fi
    close_echo "$v"
    attack_nonreader "$v"
    attack_flood "$v"
    attack_emfile "$v"
}

t_uring() { echo_suite uring "echo_server --io-uring"; }
t_uv() { echo_suite uv uv_echo; }

# ---- proxy: the examples behind nginx and HAProxy (docs/deploy.md). The
# configurations are tests/interop/proxy/*.in with paths and free ports
# filled in; both proxies run unprivileged-style from a temporary directory
# (-p/-c, -f), in the foreground, killed at the end.

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_port() { # PORT PID: until something accepts on 127.0.0.1:PORT (10 s)
    for _ in $(seq 100); do
        "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

t_proxy() {
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx || { fail proxy "cannot install nginx"; return; }
    command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || apt_install haproxy || { fail proxy "cannot install haproxy"; return; }
    need_node_ws || { fail proxy "cannot install Node ws"; return; }
    need_py_websockets || { fail proxy "cannot install python3-websockets"; return; }
    command -v openssl >/dev/null || apt_install openssl || { fail proxy "no openssl"; return; }
    local nginx haproxy d=$WORK/proxy
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
    mkdir -p "$d/tmp"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" -days 2 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || { fail proxy "openssl req"; return; }
    cat "$d/cert.pem" "$d/key.pem" >"$d/haproxy.pem"

    # Upstreams: echo_server pinging after 1 s of silence, one without
    # keepalive, chat_server (Origin check).
    start px_echo "$EX/echo_server" --port 0 --verbose --idle-timeout 1000 || { fail proxy "echo_server"; return; }
    local echo_pid=$PID echo_port=$PORT
    start px_echo_nokeep "$EX/echo_server" --port 0 --verbose || { fail proxy "echo_server"; return; }
    local nokeep_port=$PORT
    start px_chat "$EX/chat_server" --port 0 --verbose || { fail proxy "chat_server"; return; }
    local chat_port=$PORT
    local ng ngs ha has
    ng=$(free_port); ngs=$(free_port); ha=$(free_port); has=$(free_port)
    local user_line=""
    as_root && user_line="user root root;"
    sed -e "s|@DIR@|$d|g" -e "s|@USER_LINE@|$user_line|" -e "s|@NGINX_PORT@|$ng|" -e "s|@NGINX_TLS_PORT@|$ngs|" \
        -e "s|@ECHO_PORT@|$echo_port|" -e "s|@ECHO_NOKEEP_PORT@|$nokeep_port|" -e "s|@CHAT_PORT@|$chat_port|" \
        -e "s|@READ_TIMEOUT@|2s|g" -e "s|@CERT@|$d/cert.pem|" -e "s|@KEY@|$d/key.pem|" \
        tests/interop/proxy/nginx.conf.in >"$d/nginx.conf"
    sed -e "s|@HAPROXY_PORT@|$ha|" -e "s|@HAPROXY_TLS_PORT@|$has|" -e "s|@PEM@|$d/haproxy.pem|" \
        -e "s|@ECHO_PORT@|$echo_port|" -e "s|@ECHO_NOKEEP_PORT@|$nokeep_port|" -e "s|@CHAT_PORT@|$chat_port|" \
        -e "s|@TUNNEL_TIMEOUT@|2s|" tests/interop/proxy/haproxy.cfg.in >"$d/haproxy.cfg"
    "$nginx" -p "$d/" -c "$d/nginx.conf" -g 'daemon off;' >"$WORK/nginx.log" 2>&1 &
    local ngpid=$!
    PIDS+=("$ngpid")
    "$haproxy" -f "$d/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
    local hapid=$!
    PIDS+=("$hapid")
    if ! wait_port "$ng" "$ngpid" || ! wait_port "$ngs" "$ngpid"; then
        cat "$WORK/nginx.log" "$d/nginx-error.log" 2>/dev/null; fail proxy "nginx did not start"; return
    fi
    if ! wait_port "$ha" "$hapid" || ! wait_port "$has" "$hapid"; then
        cat "$WORK/haproxy.log"; fail proxy "haproxy did not start"; return
    fi
    echo "nginx 127.0.0.1:$ng (TLS $ngs), haproxy 127.0.0.1:$ha (TLS $has) -> echo_server :$echo_port, :$nokeep_port (no keepalive), chat_server :$chat_port"

    # Full client suites through each proxy, plain and TLS-terminated; the
    # clients' close codes must reach echo_server through the proxy.
    local name url p
    for p in "nginx ws://127.0.0.1:$ng/" "nginx wss://127.0.0.1:$ngs/" "haproxy ws://127.0.0.1:$ha/" "haproxy wss://127.0.0.1:$has/"; do
        name=${p%% *} url=${p#* }
        local n4001 n4002
        n4001=$(grep -c 'code=4001 reason="client says bye"' "$WORK/px_echo.log")
        n4002=$(grep -c 'code=4002 reason="python says bye"' "$WORK/px_echo.log")
        if NODE_EXTRA_CA_CERTS="$d/cert.pem" timeout 120 node tests/interop/node_client_test.js "$url" >"$WORK/px_node.out" 2>&1 &&
            [ "$(grep -c 'code=4001 reason="client says bye"' "$WORK/px_echo.log")" -gt "$n4001" ]; then
            pass "node ws -> $name $url -> echo_server"
        else
            cat "$WORK/px_node.out"; fail "node ws -> $name $url -> echo_server"
        fi
        if SSL_CERT_FILE="$d/cert.pem" timeout 120 "$PY" tests/interop/py_client_test.py "$url" >"$WORK/px_py.out" 2>&1 &&
            [ "$(grep -c 'code=4002 reason="python says bye"' "$WORK/px_echo.log")" -gt "$n4002" ]; then
            pass "python websockets -> $name $url -> echo_server"
        else
            cat "$WORK/px_py.out"; fail "python websockets -> $name $url -> echo_server"
        fi
    done

    # Timeouts: both proxies allow 2 s of silence. echo_server --idle-timeout
    # 1000 pings after 1 s, so a silent client (that answers pings) survives
    # 3 s; without keepalive the proxy drops it.
    for p in "nginx ws://127.0.0.1:$ng" "haproxy ws://127.0.0.1:$ha"; do
        name=${p%% *} url=${p#* }
        if timeout 30 "$PY" tests/interop/proxy_check.py idle "$url/" 3 survives; then
            pass "$name: keepalive pings keep an idle connection past the proxy timeout"
        else
            fail "$name: idle connection with keepalive"
        fi
        if timeout 30 "$PY" tests/interop/proxy_check.py idle "$url/no-keepalive/" 3 dropped; then
            pass "$name: without keepalive the proxy drops an idle connection (so the timeouts matter)"
        else
            fail "$name: idle connection without keepalive"
        fi
    done

    # chat_server's Origin check behind a proxy: the browser's Origin names
    # the proxy; Host must too.
    if timeout 30 "$PY" tests/interop/proxy_check.py origin "ws://127.0.0.1:$ng/chat" "http://127.0.0.1:$ng" accepted &&
        timeout 30 "$PY" tests/interop/proxy_check.py origin "ws://127.0.0.1:$ng/chat" "http://evil.example" refused &&
        SSL_CERT_FILE="$d/cert.pem" timeout 30 "$PY" tests/interop/proxy_check.py origin "wss://127.0.0.1:$ngs/chat" "https://127.0.0.1:$ngs" accepted; then
        pass "nginx with proxy_set_header Host \$http_host: chat_server accepts its own Origin, refuses another"
    else
        fail "nginx: chat_server Origin check"
    fi
    if timeout 30 "$PY" tests/interop/proxy_check.py origin "ws://127.0.0.1:$ng/no-host/chat" "http://127.0.0.1:$ng" refused; then
        pass "nginx without the Host header line: chat_server refuses the browser's own Origin (403)"
    else
        fail "nginx without Host: expected a refusal"
    fi
    if timeout 30 "$PY" tests/interop/proxy_check.py origin "ws://127.0.0.1:$ha/chat" "http://127.0.0.1:$ha" accepted; then
        pass "haproxy: chat_server accepts the browser's Origin (Host passed through)"
    else
        fail "haproxy: chat_server Origin check"
    fi
    stop "$ngpid"; stop "$hapid"
    stop "$echo_pid"
}

ALL=(handshake node python client shutdown chat redis browser load tls autobahn deflate proxy attacks closeecho clientattacks uring uv)
SECTIONS=("$@")
[ ${#SECTIONS[@]} = 0 ] && SECTIONS=("${ALL[@]}")
for s in "${SECTIONS[@]}"; do
    say "$s"
    "t_$s"
done

echo
say "interop: ${#PASSED[@]} passed, ${#FAILED[@]} failed, ${#SKIPPED[@]} skipped"
for f in "${SKIPPED[@]}"; do echo "   skipped: $f"; done
for f in "${FAILED[@]}"; do echo "   failed: $f"; done
[ ${#FAILED[@]} = 0 ]
