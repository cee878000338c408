# shellcheck shell=bash
# The echo servers of the end-to-end benchmarks; sourced by run.sh and
# idle_rss.sh (bash). Every server is started on a free port and prints
# "listening on ws://HOST:PORT/".
#
#   ws6455        build/examples/echo_server --port 0
#   node          bench/e2e/node_echo.js on Node's `ws` (npm-installed into
#                 build/bench/e2e/node when missing)
#   wslay         build/bench/e2e/wslay_echo --port 0 (corked writes)
#   wslay-naive   build/bench/e2e/wslay_echo --port 0 --naive
#   uws           bench/e2e/uws_echo.js on uWebSockets.js (uWS v20's C++
#                 core with a JavaScript message handler), from the npm
#                 package `uwebsockets` (a third party's repackaging of the
#                 uWebSockets.js binaries; npm-installed into
#                 build/bench/e2e/uws when missing).
#   cmd:COMMAND   any other command line that prints the same line
#
# Needs: E2E_OUT (the output directory), PIDS (an array the caller kills).
#
# E2E_NICE=N (as root): servers and generator run at nice N, each in a
# session of its own. With the kernel's scheduler autogroups (one group per
# session, groups weighted equally whatever the nice values inside), nice
# alone does nothing against other sessions' jobs, so each new session's
# autogroup gets nice N too (/proc/PID/autogroup). On a machine shared with
# other jobs the benchmark then gets its CPUs almost to itself.

E2E_NODE_DIR=build/bench/e2e/node
E2E_UWS_DIR=build/bench/e2e/uws
E2E_UWS_PACKAGE=uwebsockets@3.0.6

# need_npm DIR PACKAGE@VERSION: npm-installs the package into DIR unless
# it is there; sets NODE_PATH to DIR's modules.
need_npm() {
    local dir=$1 spec=$2
    command -v node >/dev/null || { echo "node not found (Debian: apt-get install nodejs npm)" >&2; return 1; }
    if [ ! -f "$dir/node_modules/${spec%@*}/package.json" ]; then
        command -v npm >/dev/null || { echo "npm not found" >&2; return 1; }
        mkdir -p "$dir"
        [ -f "$dir/package.json" ] ||
            echo '{"name":"ws6455-bench-e2e","private":true}' >"$dir/package.json"
        (cd "$dir" && timeout 600 npm install --no-audit --no-fund --loglevel=error "$spec" >/dev/null) ||
            { echo "npm install $spec failed" >&2; return 1; }
    fi
    export NODE_PATH="$PWD/$dir/node_modules"
}

need_node_ws() { need_npm "$E2E_NODE_DIR" ws@8; }

# e2e_prefix: sets E2E_PREFIX, the words to put before a command so that it
# runs in a new session at nice E2E_NICE (none when unset). A command
# started as "${E2E_PREFIX[@]}" CMD & keeps $! as CMD's PID: without job
# control the shell's children are not process-group leaders, so setsid
# execs in place, as nice and taskset do.
e2e_prefix() {
    E2E_PREFIX=()
    [ -n "${E2E_NICE:-}" ] && E2E_PREFIX=(setsid nice -n "$E2E_NICE")
    return 0
}

# e2e_boost PID: gives PID's autogroup the nice value E2E_NICE once PID is
# in a group of its own (right after "&" it may not have reached setsid
# yet); our own group is never changed.
e2e_boost() {
    [ -n "${E2E_NICE:-}" ] || return 0
    local theirs ours
    read -r ours _ 2>/dev/null <"/proc/$$/autogroup" || return 0
    for _ in $(seq 100); do
        read -r theirs _ 2>/dev/null <"/proc/$1/autogroup" || return 0
        if [ "$theirs" != "$ours" ]; then
            echo "$E2E_NICE" >"/proc/$1/autogroup" 2>/dev/null
            return 0
        fi
        sleep 0.01
    done
    echo "could not raise the priority of $1 (no session of its own)" >&2
}

# server_cmd NAME: the command line of server NAME, one word per line.
server_cmd() {
    local -a words
    case $1 in
    ws6455) printf '%s\n' build/examples/echo_server --port 0 ;;
    node) printf '%s\n' node bench/e2e/node_echo.js 0 ;;
    uws) printf '%s\n' node bench/e2e/uws_echo.js 0 ;;
    wslay) printf '%s\n' build/bench/e2e/wslay_echo --port 0 ;;
    wslay-naive) printf '%s\n' build/bench/e2e/wslay_echo --port 0 --naive ;;
    cmd:*) read -ra words <<<"${1#cmd:}" && printf '%s\n' "${words[@]}" ;;
    *) return 1 ;;
    esac
}

# server_label NAME: NAME as one word fit for a file name and a table.
server_label() {
    local l=${1//[^A-Za-z0-9_.:-]/_}
    echo "${l//\//_}"
}

# server_version NAME: one line saying what was measured.
server_version() {
    case $1 in
    ws6455) echo "ws6455 $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src include examples 2>/dev/null || echo +changes), examples/echo_server, $(${CC:-cc} --version | head -1)" ;;
    node) echo "Node $(node --version), ws $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$E2E_NODE_DIR/node_modules/ws/package.json")" ;;
    uws) echo "uWebSockets.js $(cat "$E2E_UWS_DIR/node_modules/uwebsockets/source_commit" 2>/dev/null | cut -c1-12) (npm $E2E_UWS_PACKAGE, uWebSockets/20), Node $(node --version)" ;;
    wslay*) echo "wslay $(dpkg-query -W -f='${Version}' libwslay1 2>/dev/null || echo '?') (Debian libwslay1), bench/e2e/wslay_echo.c" ;;
    *) echo "$1" ;;
    esac
}

# server_start NAME [CPU]: starts server NAME, pinned to CPU when given,
# waits for its "listening" line; sets SERVER_PID and SERVER_PORT.
server_start() {
    local name=$1 cpu=${2:-} log
    log="$E2E_OUT/logs/$(server_label "$1").log"
    local -a cmd
    mapfile -t cmd < <(server_cmd "$name") || true
    [ ${#cmd[@]} -gt 0 ] || { echo "unknown server: $name" >&2; return 1; }
    [ "$name" = node ] && { need_node_ws || return 1; }
    [ "$name" = uws ] && { need_npm "$E2E_UWS_DIR" "$E2E_UWS_PACKAGE" || return 1; }
    mkdir -p "$E2E_OUT/logs"
    [ -n "$cpu" ] && cmd=(taskset -c "$cpu" "${cmd[@]}")
    e2e_prefix
    "${E2E_PREFIX[@]}" "${cmd[@]}" >"$log" 2>&1 &
    SERVER_PID=$! # setsid, nice and taskset exec the command: the same PID
    PIDS+=("$SERVER_PID")
    e2e_boost "$SERVER_PID"
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
