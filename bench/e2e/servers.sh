# The echo servers of the end-to-end benchmarks; sourced by run.sh and
# idle_rss.sh (bash). Every server is started on a free port and prints
# "listening on ws://HOST:PORT/".
#
#   ws6455        build/examples/echo_server --port 0
#   node          bench/e2e/node_echo.js on Node's `ws` (npm-installed into
#                 build/bench/e2e/node when missing)
#   wslay         build/bench/e2e/wslay_echo --port 0 (corked writes)
#   wslay-naive   build/bench/e2e/wslay_echo --port 0 --naive
#   cmd:COMMAND   any other command line that prints the same line
#
# Needs: E2E_OUT (the output directory), PIDS (an array the caller kills).

E2E_NODE_DIR=build/bench/e2e/node

need_node_ws() {
    command -v node >/dev/null || { echo "node not found (Debian: apt-get install nodejs npm)" >&2; return 1; }
    if [ ! -f "$E2E_NODE_DIR/node_modules/ws/package.json" ]; then
        command -v npm >/dev/null || { echo "npm not found" >&2; return 1; }
        mkdir -p "$E2E_NODE_DIR"
        [ -f "$E2E_NODE_DIR/package.json" ] ||
            echo '{"name":"ws6455-bench-e2e","private":true}' >"$E2E_NODE_DIR/package.json"
        (cd "$E2E_NODE_DIR" && timeout 300 npm install --no-audit --no-fund --loglevel=error ws@8 >/dev/null) ||
            { echo "npm install ws@8 failed" >&2; return 1; }
    fi
    export NODE_PATH="$PWD/$E2E_NODE_DIR/node_modules"
}

# server_cmd NAME: the command line of server NAME, one word per line.
server_cmd() {
    case $1 in
    ws6455) printf '%s\n' build/examples/echo_server --port 0 ;;
    node) printf '%s\n' node bench/e2e/node_echo.js 0 ;;
    wslay) printf '%s\n' build/bench/e2e/wslay_echo --port 0 ;;
    wslay-naive) printf '%s\n' build/bench/e2e/wslay_echo --port 0 --naive ;;
    cmd:*) printf '%s\n' ${1#cmd:} ;;
    *) return 1 ;;
    esac
}

# server_version NAME: one line saying what was measured.
server_version() {
    case $1 in
    ws6455) echo "ws6455 $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src include examples 2>/dev/null || echo +changes), examples/echo_server, $(${CC:-cc} --version | head -1)" ;;
    node) echo "Node $(node --version), ws $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$E2E_NODE_DIR/node_modules/ws/package.json")" ;;
    wslay*) echo "wslay $(dpkg-query -W -f='${Version}' libwslay1 2>/dev/null || echo '?') (Debian libwslay1), bench/e2e/wslay_echo.c" ;;
    *) echo "$1" ;;
    esac
}

# server_start NAME [CPU]: starts server NAME, pinned to CPU when given,
# waits for its "listening" line; sets SERVER_PID and SERVER_PORT.
server_start() {
    local name=$1 cpu=${2:-} log="$E2E_OUT/logs/$1.log"
    local -a cmd
    mapfile -t cmd < <(server_cmd "$name") || true
    [ ${#cmd[@]} -gt 0 ] || { echo "unknown server: $name" >&2; return 1; }
    [ "$name" = node ] && { need_node_ws || return 1; }
    mkdir -p "$E2E_OUT/logs"
    if [ -n "$cpu" ]; then
        taskset -c "$cpu" "${cmd[@]}" >"$log" 2>&1 &
    else
        "${cmd[@]}" >"$log" 2>&1 &
    fi
    SERVER_PID=$! # taskset execs the command: the same PID
    PIDS+=("$SERVER_PID")
    SERVER_PORT=""
    for _ in $(seq 100); do
        SERVER_PORT=$(sed -n 's|^listening on ws://.*:\([0-9]*\)/$|\1|p' "$log" | head -1)
        [ -n "$SERVER_PORT" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "$name did not start:" >&2
    cat "$log" >&2
    return 1
}

server_stop() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
