#!/usr/bin/env bash
# Where an echo server's CPU goes per message, from a perf profile taken
# under the load of bench-e2e, split into the part any native server pays
# and the part that is JavaScript: for the "uws" server (uWebSockets.js)
# this bounds what uWS itself, without the call into JavaScript per
# message, would cost.
#
#   bash bench/e2e/split.sh [--seconds S] SERVER SIZE DEPTH
#
# SERVER as in bench/e2e/servers.sh. Prints one line:
#   split server=.. size=.. depth=.. msgs_per_s=.. cpu_us_per_msg=..
#         kernel=.. native_user=.. js=.. native_floor_us_per_msg=..
# js: samples in Node's own binary except libuv (uv_*: the event loop a
# native uWS runs too), in JIT code, and in the C library's allocator (V8
# allocates a buffer per message; uWS's C++ path does not); native_user:
# the rest of user time. native_floor = cpu_us_per_msg x (1 - js): what the
# server would cost with its JavaScript taken away and nothing else changed.
# Needs perf (Debian linux-perf) and permission to profile (root here).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export LC_ALL=C
SECS=6
[ "${1:-}" = --seconds ] && { SECS=$2; shift 2; }
[ $# -eq 3 ] || { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
name=$1 size=$2 depth=$3
command -v perf >/dev/null || { echo "split.sh: perf not found" >&2; exit 1; }
E2E_OUT=build/bench/e2e/split PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done' EXIT
source bench/e2e/servers.sh
mkdir -p "$E2E_OUT/logs"
[ "$(id -u)" = 0 ] && export E2E_NICE=-20
cpu=""
[ "$(nproc)" -ge 2 ] && cpu=1
server_start "$name" "$cpu" || exit 1
gen=(build/bench/e2e/loadgen_e2e)
[ -n "$cpu" ] && gen=(taskset -c 0 "${gen[@]}")
data="$E2E_OUT/$(server_label "$name")-$size-$depth.perf"
"${gen[@]}" --port "$SERVER_PORT" --size "$size" --depth "$depth" --warmup 1 --seconds "$SECS" \
    --server-pid "$SERVER_PID" --label "$name" >"$E2E_OUT/loadgen.out" 2>"$E2E_OUT/logs/loadgen.log" &
gp=$!
PIDS+=("$gp")
sleep 1.5
perf record -q -o "$data" -p "$SERVER_PID" -- sleep "$((SECS - 1))" >/dev/null 2>&1
wait "$gp"
result=$(grep '^result ' "$E2E_OUT/loadgen.out") || { echo "split.sh: load generator failed" >&2; exit 1; }
perf report -i "$data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
    awk -v name="$name" -v size="$size" -v depth="$depth" -v result="$result" '
    /^#/ || NF < 3 { next }
    { pct = $1; sub(/%/, "", pct); dso = $2; sym = $4
      if (dso == "[kernel.kallsyms]") kernel += pct
      else if ((dso == "node" && sym !~ /^uv_|^uv__/) || dso ~ /^\[JIT\]/ ||
               (dso ~ /^libc\.so/ && sym ~ /^(malloc|free|_int_malloc|_int_free|cfree|malloc_consolidate|__libc_malloc|__libc_free|realloc|_int_realloc|calloc)$/)) js += pct
      else user += pct }
    END { n = split(result, f, " "); for (i = 2; i <= n; i++) { split(f[i], kv, "="); r[kv[1]] = kv[2] }
          t = kernel + user + js; c = r["server_cpu_us_per_msg"]
          printf "split server=%s size=%s depth=%s msgs_per_s=%s cpu_us_per_msg=%s kernel=%.3f native_user=%.3f js=%.3f native_floor_us_per_msg=%.2f\n",
              name, size, depth, r["msgs_per_s"], c, kernel / t, user / t, js / t, c * (1 - js / t) }'
