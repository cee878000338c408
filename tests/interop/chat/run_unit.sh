#!/usr/bin/env bash
# Runs chat_server's module tests: bash tests/interop/chat/run_unit.sh BUILD_DIR
# (built by `make chat-test`). test_chat_cluster starts its own redis-server
# on a free 127.0.0.1 port; it is skipped, and said so, without one.
set -uo pipefail
dir=${1:-build/chat-tests}
failed=0
for t in "$dir"/test_chat_*; do
    case $t in *.log) continue ;; esac
    name=$(basename "$t")
    if [ "$name" = test_chat_cluster ]; then
        redis=$(command -v redis-server || true)
        if [ -z "$redis" ]; then
            echo "SKIP $name: no redis-server (Debian: apt-get install redis-server)"
            continue
        fi
        if timeout 120 "$t" "$redis" >"$dir/$name.log" 2>&1; then
            echo "PASS $name ($(grep -c '^ok' "$dir/$name.log") checks)"
        else
            echo "FAIL $name"; cat "$dir/$name.log"; failed=1
        fi
    elif timeout 120 "$t" >"$dir/$name.log" 2>&1; then
        echo "PASS $name"
    else
        echo "FAIL $name"; cat "$dir/$name.log"; failed=1
    fi
done
exit $failed
