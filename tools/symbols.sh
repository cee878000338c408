#!/bin/sh
# Prints the name of every symbol the public header exports: the identifier
# declared by each declaration that starts with WS6455_API, one per line, in
# header order. Used for the linker version script, the export test and the
# docs check, so a function added to the header is picked up everywhere.
#   sh tools/symbols.sh [include/ws6455.h]
hdr=${1:-include/ws6455.h}
[ -f "$hdr" ] || { echo "symbols.sh: no $hdr" >&2; exit 2; }
awk '
    /^[ \t]*#/ { next }                  # preprocessor lines (WS6455_API itself)
    collecting || /^[ \t]*WS6455_API[ \t]/ {
        collecting = 1
        decl = decl " " $0
        if (index($0, ";") == 0) next
        sub(/;.*/, "", decl)
        gsub(/\/\*[^*]*\*+([^\/*][^*]*\*+)*\//, " ", decl)   # comments
        p = index(decl, "(")
        head = p ? substr(decl, 1, p - 1) : decl             # before the parameters
        sub(/\[.*/, "", head); sub(/=.*/, "", head)          # objects: arrays, initialisers
        n = split(head, w, /[^A-Za-z0-9_]+/)
        while (n > 0 && w[n] == "") n--
        if (n > 0) print w[n]
        collecting = 0; decl = ""
    }' "$hdr"
