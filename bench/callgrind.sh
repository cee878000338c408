#!/bin/sh
# Repeatable figures for a noisy machine: runs a reduced workload of every
# benchmark case under callgrind, once per library, counting only the
# instructions executed inside the measured functions (measure_*: the same
# code the timed runs execute, source memcpy included), and reports
# instructions per payload byte and per message (codec: per frame), then
# the functions ws6455 spends them in.
#
#   sh bench/callgrind.sh [--scale F] [--case NAME[,NAME...]]
# Environment: COPY_SVG (also copy the chart there, e.g. docs/img/callgrind.svg),
# BENCH_EXTRA (more options for the binary, e.g. "--chunk 1048576"),
# BENCH_BIN (default build/bench/ws6455-bench), OUT (where the
# callgrind.out files and their annotations go, default
# build/bench/callgrind), VALGRIND (default valgrind).
set -eu
BIN=${BENCH_BIN:-build/bench/ws6455-bench}
OUT=${OUT:-build/bench/callgrind}
VALGRIND=${VALGRIND:-valgrind}
SCALE=0.02
CASES=""
while [ $# -gt 0 ]; do
    case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --case) CASES=$(echo "$2" | tr ',' ' '); shift 2 ;;
    *) echo "usage: $0 [--scale F] [--case NAME[,NAME...]]" >&2; exit 2 ;;
    esac
done
for tool in "$VALGRIND" callgrind_annotate; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "error: $tool not found; install the package valgrind" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "error: $BIN not built (make bench-build)" >&2; exit 1; }
[ -n "$CASES" ] || CASES=$("$BIN" --list | awk '{print $1}')
mkdir -p "$OUT"
HOT="$OUT/hotspots.txt"
: >"$HOT"
TSV="$OUT/ir.tsv"
printf 'case\tws6455\twslay\n' >"$TSV"

# The total instructions a callgrind output file recorded.
total_ir() { sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$1" | head -n 1; }

# The top self-cost functions of an annotation, as "Ir/msg  share  function".
hot_functions() { # file msgs count
    grep -E '^ *[0-9,]+ \( *[0-9.]+%\)  ' "$1" | grep -v 'PROGRAM TOTALS' | head -n "$3" |
        sed -e 's/ \[[^]]*\]$//' | awk -v m="$2" '{
            ir = $1; gsub(",", "", ir)
            match($0, /\( *[0-9.]+%\)/); pct = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", pct)
            fn = substr($0, RSTART + RLENGTH); sub(/^ +/, "", fn); sub(/^.*\//, "", fn)
            printf "    %10.1f Ir/msg %7s  %s\n", ir / m, pct, fn }'
}

echo "callgrind: instructions (Ir) executed inside the measured functions, scale $SCALE"
echo "Ir/B = per payload byte; Ir/msg = per message (codec rows: per frame; utf8 rows: per"
echo "64 KiB text); both include the source memcpy; ratio = wslay Ir / ws6455 Ir"
printf '\n%-16s %8s  %8s %10s  %8s %10s  %7s\n' case msgs ws6455 ws6455 wslay wslay ratio
printf '%-16s %8s  %8s %10s  %8s %10s  %7s\n' "" "" Ir/B Ir/msg Ir/B Ir/msg ""
for c in $CASES; do
    cols=""; ir_ws=""; ir_wl=""; msgs=""
    for lib in ws6455 wslay; do
        base="$OUT/$c.$lib"
        "$VALGRIND" --tool=callgrind --callgrind-out-file="$base.out" --toggle-collect='measure_*' \
            "$BIN" --case "$c" --lib "$lib" --scale "$SCALE" --reps 1 --no-verify --machine ${BENCH_EXTRA:-} \
            >"$base.log" 2>&1 || { cat "$base.log" >&2; echo "FAIL: $c $lib under callgrind" >&2; exit 1; }
        res=$(grep '^RESULT' "$base.log" || true)
        if [ -z "$res" ]; then # no such measurement (wslay has no public validator)
            cols="$cols n/a n/a"
            continue
        fi
        msgs=$(echo "$res" | sed 's/.* msgs=\([0-9]*\).*/\1/')
        bytes=$(echo "$res" | sed 's/.* bytes=\([0-9]*\).*/\1/')
        ir=$(total_ir "$base.out")
        # per function, and per source line (for finding the hot lines)
        callgrind_annotate --auto=no "$base.out" >"$base.annotate" 2>/dev/null
        callgrind_annotate --auto=yes --show-percs=no "$base.out" >"$base.lines" 2>/dev/null || true
        if [ "$lib" = ws6455 ]; then
            ir_ws=$ir
            { echo "  $c ($msgs messages):"; hot_functions "$base.annotate" "$msgs" 5; } >>"$HOT"
        else
            ir_wl=$ir
        fi
        cols="$cols $(awk -v b="$bytes" -v m="$msgs" -v ir="$ir" 'BEGIN { printf "%.3f %.1f", ir / b, ir / m }')"
    done
    ratio=$(awk -v a="${ir_ws:-0}" -v b="${ir_wl:-0}" \
        'BEGIN { if (a > 0 && b > 0) printf "%.2fx", b / a; else printf "-" }')
    # shellcheck disable=SC2086
    printf '%-16s %8s  %8s %10s  %8s %10s  %7s\n' "$c" "$msgs" $cols "$ratio"
    # shellcheck disable=SC2086
    set -- $cols
    printf '%s\t%s\t%s\n' "$c" "$2" "$4" | sed 's/n\/a/NaN/g' >>"$TSV"
done

# The same figures as a chart: instructions per message (per 64 KiB text for
# the utf8 rows), log scale, both libraries side by side.
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot <<PLOT 2>/dev/null && echo "chart: $OUT/callgrind.svg"
set terminal svg size 900,420 font "sans,11"
set output "$OUT/callgrind.svg"
set title "Instructions per message (callgrind, lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "Ir per message"
set xtics rotate by -35 noenhanced
set key top left
set datafile missing "NaN"
plot "$TSV" using 2:xtic(1) title "ws6455" lc rgb "#2a7ab0", "" using 3 title "wslay" lc rgb "#c0504d"
PLOT
    if [ -n "${COPY_SVG:-}" ] && [ -f "$OUT/callgrind.svg" ]; then
        cp "$OUT/callgrind.svg" "$COPY_SVG" && echo "copied to $COPY_SVG"
    fi
fi

echo
echo "ws6455 hot spots (self Ir per message, share of the case's Ir; per-line costs in"
echo "$OUT/<case>.<lib>.lines):"
cat "$HOT"
