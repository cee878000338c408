#!/usr/bin/env bash
# Tables and plots of the end-to-end benchmark, from what run.sh gathered:
#   bash bench/e2e/report.sh DIR SYSCALLS_MEASURED SERVER...
# reads DIR/main.raw, DIR/sys.raw (loadgen_e2e "result" lines) and
# DIR/info.txt (and DIR/idle.md when present); writes DIR/results.tsv, DIR/results.md, DIR/results.txt and
# DIR/e2e-{msgs,cpu,p99}.svg (gnuplot). Can be rerun on its own.
set -uo pipefail
export LC_ALL=C
DIR=$1 SYS=$2
shift 2
SERVERS="$*"

# When uWebSockets was not measured (server "uws"), it is estimated through
# Node `ws`: issue 11 measured both in one run, and uWS's server CPU per
# message was 0.39x Node ws's (16 B, depth 1).
UWS_CPU_VS_NODE=0.39

[ -s "$DIR/main.raw" ] || { echo "report.sh: no results in $DIR/main.raw" >&2; exit 1; }
[ -f "$DIR/sys.raw" ] || : >"$DIR/sys.raw"

# ---- one row per server and case: the median run by msgs/s, plus the
# syscall run's counts.
awk -v servers="$SERVERS" -v sys="$SYS" '
function kv(line, a,    n, i, f, p) {
    delete a
    n = split(line, f, " ")
    for (i = 2; i <= n; i++) { p = index(f[i], "="); a[substr(f[i], 1, p - 1)] = substr(f[i], p + 1) }
}
function num(a, key) { return (key in a) ? sprintf("%.2f", a[key]) : "n/m" }  # n/m: not measured
FNR == 1 { file++ }
file == 1 {
    kv($0, r); k = r["label"] SUBSEP r["size"] SUBSEP r["depth"]
    if (!(k in n)) { order[++nk] = k }
    n[k]++; line[k, n[k]] = $0; rate[k, n[k]] = r["msgs_per_s"] + 0
    next
}
file == 2 {
    kv($0, r); k = r["label"] SUBSEP r["size"] SUBSEP r["depth"]
    spm[k] = r["syscalls_per_msg"]; b = ""
    nf = split($0, f, " ")  # in the order loadgen_e2e prints them
    for (i = 2; i <= nf; i++) if (f[i] ~ /^sc_/) { split(substr(f[i], 4), p2, "="); b = b (b == "" ? "" : ", ") p2[1] " " sprintf("%.2f", p2[2]) }
    brk[k] = b
}
END {
    print "server\tsize\tdepth\tmsgs_per_s\tp50_us\tp99_us\tcpu_us_per_msg\tsyscalls_per_msg\tserver_util\tgen_util\tother_util\tsyscalls"
    ns = split(servers, sv, " ")
    for (i = 1; i <= nk; i++) {
        k = order[i]
        # median by msgs/s: sort the indices of this key
        m = n[k]; for (a = 1; a <= m; a++) idx[a] = a
        for (a = 2; a <= m; a++) for (c = a; c > 1 && rate[k, idx[c - 1]] > rate[k, idx[c]]; c--) { t = idx[c]; idx[c] = idx[c - 1]; idx[c - 1] = t }
        kv(line[k, idx[int((m + 1) / 2)]], r)
        s = (sys == 1 && (k in spm) && spm[k] != "") ? sprintf("%.2f", spm[k]) : "n/m"
        printf "%s\t%d\t%d\t%.0f\t%.1f\t%.1f\t%s\t%s\t%s\t%.2f\t%s\t%s\n", r["label"], r["size"], r["depth"], r["msgs_per_s"], r["p50_us"], r["p99_us"], num(r, "server_cpu_us_per_msg"), s, num(r, "server_util"), r["gen_util"], num(r, "other_util"), (k in brk) ? brk[k] : ""
    }
}' "$DIR/main.raw" "$DIR/sys.raw" >"$DIR/results.tsv"

size_name() { awk -v s="$1" 'BEGIN { if (s % 1024 == 0) printf "%d KiB", s / 1024; else printf "%d B", s }'; }

# ---- markdown
{
    echo "### End-to-end echo over loopback"
    echo
    sed 's/^/    /' "$DIR/info.txt"
    echo
    echo "| server | message | depth | msgs/s | p50 µs | p99 µs | server CPU µs/msg | syscalls/msg | server CPU | generator CPU | other load |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    tail -n +2 "$DIR/results.tsv" | while IFS=$'\t' read -r srv size depth rate p50 p99 cpu spm su gu ou _; do
        printf '| %s | %s text | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$srv" "$(size_name "$size")" \
            "$depth" "$(printf "%'d" "$rate" 2>/dev/null || echo "$rate")" "$p50" "$p99" "$cpu" "$spm" "$su" "$gu" "$ou"
    done
    echo
    echo "server CPU, generator CPU: CPUs busy during the window (1.00 = one core). other load: the rest of"
    echo "the machine (/proc/stat busy time minus both), i.e. other processes; n/m: not measured."
    awk -F'\t' '
        NR > 1 && $9 != "n/m" { rows++
            if ($10 > 0.90 && $9 < 0.90) gen = gen sprintf("%s%s %s B depth %s (generator %.2f, server %.2f)", gen ? "; " : "", $1, $2, $3, $10, $9)
            else if ($10 > 0.80 && $9 > 0.80) both++
            if ($11 > 0.30) { bad++; if ($11 > worst) worst = $11 } }
        END {
            if (gen) printf "\n**The generator, not the server, was the limit in: %s.**\n", gen
            if (both) printf "\nIn %d of %d rows both the server and the generator were busy over 80 %% of a CPU: there msgs/s is a\nlimit of the pair (the generator pays the same loopback TCP syscalls per message as a lean server),\nwhile server CPU per message stays the server'"'"'s own cost.\n", both, rows
            if (bad) printf "\n**Other processes used more than 0.3 CPUs during %d of %d windows (up to %.2f CPUs): those figures are disturbed.**\n", bad, rows, worst }' "$DIR/results.tsv"

    # ws6455 against each other server, case by case
    if grep -q '^ws6455	' "$DIR/results.tsv"; then
        echo
        echo "ws6455's echo_server relative to the others (msgs/s ratio > 1: ws6455 faster; CPU ratio < 1: ws6455 cheaper per message):"
        echo
        echo "| message | depth | vs | msgs/s ratio | CPU/msg ratio | syscalls/msg ratio |"
        echo "|---|---:|---|---:|---:|---:|"
        awk -F'\t' -v OFS='\t' 'NR > 1 { k = $2 SUBSEP $3; rate[$1, k] = $4; cpu[$1, k] = $7; spm[$1, k] = $8; if (!(k in seen)) { seen[k] = 1; ks[++nk] = k }; if (!($1 in srv)) { srv[$1] = 1; ss[++ns] = $1 } }
            END { for (i = 1; i <= nk; i++) for (j = 1; j <= ns; j++) { o = ss[j]; k = ks[i]; if (o == "ws6455" || !(("ws6455", k) in rate) || !((o, k) in rate)) continue
                split(k, p, SUBSEP)
                sr = (spm["ws6455", k] != "n/m" && spm[o, k] != "n/m" && spm[o, k] > 0) ? sprintf("%.2fx", spm["ws6455", k] / spm[o, k]) : "n/m"
                cr = (cpu["ws6455", k] != "n/m" && cpu[o, k] != "n/m" && cpu[o, k] > 0) ? sprintf("%.2fx", cpu["ws6455", k] / cpu[o, k]) : "n/m"
                printf "%s\t%s\t%s\t%.2fx\t%s\t%s\n", p[1], p[2], o, rate["ws6455", k] / rate[o, k], cr, sr } }' "$DIR/results.tsv" |
            while IFS=$'\t' read -r size depth o rr cr sr; do
                printf '| %s | %s | %s | %s | %s | %s |\n' "$(size_name "$size")" "$depth" "$o" "$rr" "$cr" "$sr"
            done
        # uWS, estimated through Node ws when it was not measured
        awk -F'\t' -v f="$UWS_CPU_VS_NODE" '$2 == 16 && $3 == 1 { cpu[$1] = $7 }
            END { if (!("uws" in cpu) && ("node" in cpu) && ("ws6455" in cpu) && cpu["node"] != "n/m" && cpu["ws6455"] != "n/m") { u = f * cpu["node"]
                printf "\nuWebSockets (not measured in this run): issue 11 measured its server CPU per message at %.2fx Node ws'"'"'s\n", f
                printf "(16 B, depth 1). Applied to Node ws here, that is about %.2f µs/msg; ws6455'"'"'s echo_server used\n", u
                printf "%.2f µs/msg, about **%.2fx the estimated uWS figure** (target of issue 11: at most 1.0x).\n", cpu["ws6455"], cpu["ws6455"] / u } }' "$DIR/results.tsv"
    fi

    if [ "$SYS" = 1 ]; then
        echo
        echo "Syscalls per message by kind (perf stat, syscall tracepoints, separate run):"
        echo
        echo "| server | message | depth | total | by kind |"
        echo "|---|---|---:|---:|---|"
        tail -n +2 "$DIR/results.tsv" | while IFS=$'\t' read -r srv size depth _ _ _ _ spm _ _ _ brk; do
            printf '| %s | %s | %s | %s | %s |\n' "$srv" "$(size_name "$size")" "$depth" "$spm" "$brk"
        done
    fi

    # the idle-memory run, when run.sh made one
    if [ -s "$DIR/idle.md" ]; then
        echo
        cat "$DIR/idle.md"
    fi
} >"$DIR/results.md"

# ---- text: the same, each table aligned on its own
to_text() {
    local table=()
    flush() {
        [ ${#table[@]} -gt 0 ] || return 0
        printf '%s\n' "${table[@]}" | LC_ALL=C.UTF-8 column -t -s $'\t'
        table=()
    }
    while IFS= read -r l; do
        case $l in
        '|---'*) ;;
        '|'*) l=${l#| }; l=${l% |}; table+=("${l// | /$'\t'}") ;;
        '### '*) flush; echo "${l#\#\#\# }" ;;
        *) flush; l=${l#    }; echo "${l//\*\*/}" ;;
        esac
    done
    flush
}
to_text <"$DIR/results.md" >"$DIR/results.txt"
cat "$DIR/results.txt"
echo
echo "written: $DIR/results.md, $DIR/results.txt, $DIR/results.tsv"

# ---- plots (gnuplot): one bar per server, clustered by case
command -v gnuplot >/dev/null || { echo "gnuplot not found: no plots" >&2; exit 0; }
plot_data() { # COLUMN: one row per case ("16 B\ndepth 1"), one column per server
    awk -F'\t' -v col="$1" -v servers="$SERVERS" '
        NR > 1 { sz = ($2 % 1024 == 0) ? ($2 / 1024) " KiB" : $2 " B"; k = sz "\\ndepth " $3
                 if (!(k in seen)) { seen[k] = 1; ks[++nk] = k }; v[$1, k] = $col }
        END { ns = split(servers, sv, " ")
              for (i = 1; i <= nk; i++) { printf "\"%s\"", ks[i]; for (j = 1; j <= ns; j++) printf "\t%s", ((sv[j], ks[i]) in v) ? v[sv[j], ks[i]] : "NaN"; print "" } }' \
        "$DIR/results.tsv"
}
plot() { # NAME COLUMN SCALE LABEL-FORMAT YLABEL TITLE
    local dat="$DIR/e2e-$1.dat"
    plot_data "$2" >"$dat"
    gnuplot <<EOF || echo "gnuplot failed for $1" >&2
set terminal svg size 760,440 dynamic font 'Helvetica,13' background '#ffffff'
set output '$DIR/e2e-$1.svg'
set title "$6"
set ylabel "$5"
names = "$SERVERS"
N = words(names)
w = 0.8 / N
set style fill solid 0.85 border -1
set boxwidth w absolute
set key tmargin center horizontal
set grid ytics
set yrange [0:*]
set offsets 0, 0, graph 0.15, 0
set xrange [-0.6:$(wc -l <"$dat") - 0.4]
set bmargin 4
set xtics scale 0
set datafile separator "\t"
x(i) = \$0 + (i - 1 - (N - 1) / 2.0) * w
plot for [i=1:N] '$dat' using (x(i)):(column(i+1)/$3) with boxes title word(names, i), \\
     for [i=1:N] '$dat' using (x(i)):(column(i+1)/$3):(sprintf("$4", column(i+1)/$3)) with labels offset 0,0.6 font ',10' notitle, \\
     '$dat' using 0:(NaN):xtic(1) notitle
EOF
}
CONNS=$(sed -n 's/^load: \([0-9]*\) connections.*/\1/p' "$DIR/info.txt")
plot msgs 4 1000 "%.0f" "messages/s (thousands)" "Echo throughput, ${CONNS:-?} connections over loopback (higher is better)"
plot cpu 7 1 "%.2f" "server CPU µs per message" "Server CPU time per message echoed (lower is better)"
plot p99 6 1 "%.0f" "p99 round trip (µs)" "99th percentile round-trip time (lower is better)"
echo "plots: $DIR/e2e-msgs.svg $DIR/e2e-cpu.svg $DIR/e2e-p99.svg"
