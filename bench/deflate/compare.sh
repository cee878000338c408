#!/usr/bin/env bash
# permessage-deflate: ws6455's codec against Node ws's PerMessageDeflate on
# the same corpus (bench_deflate's chat messages and 64 KiB texts), at the
# same zlib level, window and memLevel; one combined table with the
# ws6455/Node ratio of CPU time per message. Run by `make bench` (when zlib
# is there) and `make bench-deflate-node`.
#
#   bash bench/deflate/compare.sh BENCH_DEFLATE_BIN [--levels 1,6] [--min-time 0.3]
#
# Node ws is installed with npm into build/bench/e2e/node when missing (as
# the e2e bench does); without node the ws6455 side alone is printed, with a
# line saying why.
set -uo pipefail
cd "$(dirname "$0")/../.."

BIN=$1
shift
LEVELS=1,6 MIN=0.3
while [ $# -gt 0 ]; do
    case $1 in
    --levels) LEVELS=$2; shift 2 ;;
    --min-time) MIN=$2; shift 2 ;;
    *) echo "usage: $0 BENCH_DEFLATE_BIN [--levels 1,6] [--min-time CPU-SECONDS]" >&2; exit 2 ;;
    esac
done

NODE_DIR=build/bench/e2e/node
need_node_ws() {
    command -v node >/dev/null || { WHY="node not found (Debian: apt-get install nodejs npm)"; return 1; }
    if [ ! -f "$NODE_DIR/node_modules/ws/package.json" ]; then
        command -v npm >/dev/null || { WHY="npm not found"; return 1; }
        mkdir -p "$NODE_DIR"
        [ -f "$NODE_DIR/package.json" ] || echo '{"name":"ws6455-bench-e2e","private":true}' >"$NODE_DIR/package.json"
        (cd "$NODE_DIR" && timeout 300 npm install --no-audit --no-fund --loglevel=error ws@8 >/dev/null) ||
            { WHY="npm install ws@8 failed"; return 1; }
    fi
    export NODE_PATH="$PWD/$NODE_DIR/node_modules"
}

TMP=$(mktemp -d /tmp/ws6455-deflate-compare.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

"$BIN" --levels "$LEVELS" --min-time "$MIN" --tsv --write-corpus "$TMP/corpus" >"$TMP/ws6455.tsv" || exit 1
if need_node_ws; then
    node bench/deflate/node_deflate.js --corpus "$TMP/corpus" --levels "$LEVELS" --min-time "$MIN" --tsv \
        >"$TMP/node.tsv" || exit 1
else
    echo "bench: Node ws side skipped: $WHY"
    : >"$TMP/node.tsv"
fi

# dataset mode level ratio deflate-us inflate-us, from both; '#' lines name
# the versions.
awk -F'\t' '
    FNR == 1 { side = (FILENAME ~ /node.tsv$/) ? "node" : "ws6455" }
    /^#/ { sub(/^# [a-z0-9]*\t/, ""); gsub(/\t/, ", "); ver[side] = $0; next }
    { k = side SUBSEP $1 SUBSEP $2 SUBSEP $3; ratio[k] = $4; def[k] = $5; inf[k] = $6
      if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 }
      if (!(($1, $3) in lv)) { lv[$1, $3] = 1; levels[$1] = levels[$1] " " $3 } }
    function num(x) { return x == "" ? "-" : (x + 0 == 0 ? "-" : sprintf("%.2f", x)) }
    function rel(a, b) { return (a == "" || b == "" || a + 0 == 0 || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
    function row(ds, lvl, ours, theirs,    a, b) {
        a = "ws6455" SUBSEP ds SUBSEP ours SUBSEP lvl; b = "node" SUBSEP ds SUBSEP theirs SUBSEP lvl
        if (!(a in ratio) || (theirs == "zlib-sync" && !(b in ratio))) return
        printf "| %s | %s / %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", ds, ours, \
            (b in ratio) ? theirs : "-", lvl, ratio[a], (b in ratio) ? ratio[b] : "-", \
            num(def[a]), num(def[b]), rel(def[a], def[b]), num(inf[a]), num(inf[b]), rel(inf[a], inf[b])
    }
    END {
        printf "\npermessage-deflate, ws6455 against Node ws, same corpus, level, window and memLevel;\n"
        printf "CPU time per message (process CPU time, every thread), ws6455/node < 1: ws6455 cheaper\n"
        printf "  ws6455: %s\n  node:   %s\n\n", ver["ws6455"], ("node" in ver) ? ver["node"] : "(skipped)"
        printf "| workload | mode ws6455 / node | level | ratio ws6455 | ratio node | deflate us/msg ws6455 | node | ws6455/node | inflate us/msg ws6455 | node | ws6455/node |\n"
        printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
        for (i = 0; i < n; i++) {
            ds = order[i]; m = split(levels[ds], lvls, " ")
            for (j = 1; j <= m; j++) {
                row(ds, lvls[j], "no-takeover", "no-takeover")
                row(ds, lvls[j], "shared", "no-takeover")
                row(ds, lvls[j], "takeover", "takeover")
                row(ds, lvls[j], "no-takeover", "zlib-sync")
            }
        }
        printf "\nno-takeover: ws6455 creates and frees its zlib state per message (the default);\n"
        printf "node resets its kept stream. shared: one ws6455 compressor reset per message for\n"
        printf "all connections (no inflate figure: the same as no-takeover). zlib-sync: node\x27s\n"
        printf "zlib.deflateRawSync/inflateRawSync per message, no stream or thread pool: how much\n"
        printf "of ws\x27s cost is zlib itself.\n"
    }' "$TMP/ws6455.tsv" "$TMP/node.tsv"
