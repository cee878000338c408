#!/bin/sh
# Every C code block in README.md and docs/*.md compiles (CI: make
# check-doc-code). A block is one fenced with ```c. The line before the
# fence may carry a marker (an HTML comment, invisible when rendered):
#   (none)                 a block with main() is a whole program: compiled,
#                          linked against build/libws6455.a and run (exit 0);
#                          any other block is a fragment, as below
#   <!-- doc-code: fragment; given: uint8_t *buf, size_t n -->
#                          a fragment: function definitions written at the
#                          left margin stay at file scope, every other line
#                          becomes the body of a function whose parameters
#                          are the "given" declarations (the names the
#                          snippet uses without declaring them); compiled
#   <!-- doc-code: skip -->  not compiled (say why in the text)
# Blocks are compiled as C11 with <ws6455.h>, <stdint.h>, <stddef.h>,
# <stdio.h>, <string.h> included, -Wall -Wextra -Wpedantic -Werror (unused
# names allowed in fragments); #line directives make errors point at the
# Markdown file and line.
set -eu
cd "$(dirname "$0")/.."
cc=${CC:-cc}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
make -s static >/dev/null
files="README.md $(ls docs/*.md)"
n=0 failed=0 skipped=0
for md in $files; do
    # One file per block: $tmp/b.N.c with a first line "MODE|GIVEN|LINE".
    awk -v out="$tmp/b" -v md="$md" '
        /^[ \t]*<!--[ \t]*doc-code:/ { marker = $0; sub(/^[ \t]*<!--[ \t]*doc-code:[ \t]*/, "", marker); sub(/[ \t]*-->.*/, "", marker); mline = NR; next }
        inblock && /^[ \t]*```/ { inblock = 0; close(f); next }
        inblock { print NR "\t" $0 > f; next }
        /^[ \t]*```c[ \t]*$/ {
            nb++; f = out "." nb ".txt"
            m = (mline == NR - 1 || mline == NR - 2) ? marker : ""
            print m "\t" NR > f
            inblock = 1; marker = ""; next
        }
        /[^ \t]/ { if (NR > mline + 2) marker = "" }
    ' "$md"
    for blk in $(ls "$tmp"/b.*.txt 2>/dev/null | sort -t. -k2 -n); do
        n=$((n + 1))
        head -n 1 "$blk" >"$tmp/meta"
        marker=$(cut -f1 "$tmp/meta"); fence=$(cut -f2 "$tmp/meta")
        tail -n +2 "$blk" >"$tmp/lines"
        mode=fragment given=""
        case "$marker" in
        skip*) mode=skip ;;
        fragment*) given=$(echo "$marker" | sed -n 's/.*given:[ \t]*//p') ;;
        "") grep -q 'main[ \t]*(' "$tmp/lines" && mode=program ;;
        *) echo "check-doc-code: $md:$fence: unknown marker '$marker'"; failed=$((failed + 1)); rm -f "$blk"; continue ;;
        esac
        rm -f "$blk"
        if [ $mode = skip ]; then skipped=$((skipped + 1)); continue; fi
        src="$tmp/block$n.c"
        {
            printf '#include <ws6455.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n'
            if [ $mode = program ]; then
                awk -F'\t' -v md="$md" '{ line = $0; sub(/^[0-9]*\t/, "", line); printf "#line %d \"%s\"\n%s\n", $1, md, line }' "$tmp/lines"
            else
                # File scope: function definitions at the left margin
                # (a signature line, then "{" ... "}" at column 0).
                awk -F'\t' -v md="$md" -v given="$given" '
                    { num[NR] = $1; line = $0; sub(/^[0-9]*\t/, "", line); text[NR] = line }
                    END {
                        for (i = 1; i <= NR; i++) {
                            if (!top && text[i] ~ /^[A-Za-z_].*\)[ \t]*$/ && text[i + 1] ~ /^\{/) top = 1
                            scope[i] = top ? "file" : "body"
                            if (top && text[i] ~ /^\}/) top = 0
                        }
                        for (i = 1; i <= NR; i++) if (scope[i] == "file") printf "#line %d \"%s\"\n%s\n", num[i], md, text[i]
                        params = given == "" ? "void" : given
                        printf "void ws6455_doc_fragment(%s);\nvoid ws6455_doc_fragment(%s)\n{\n", params, params
                        np = split(given, decl, ",")
                        for (k = 1; k <= np; k++) { nm = decl[k]; sub(/^.*[^A-Za-z0-9_]/, "", nm); if (nm != "") printf "    (void)%s;\n", nm }
                        for (i = 1; i <= NR; i++) if (scope[i] == "body") printf "#line %d \"%s\"\n%s\n", num[i], md, text[i]
                        printf "}\n"
                    }' "$tmp/lines"
            fi
        } >"$src"
        flags="-std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude"
        [ $mode = fragment ] && flags="$flags -Wno-unused-variable -Wno-unused-but-set-variable -Wno-unused-function -Wno-unused-parameter"
        # shellcheck disable=SC2086
        if [ $mode = program ]; then
            if $cc $flags "$src" build/libws6455.a -o "$tmp/prog" 2>"$tmp/err" && "$tmp/prog" >"$tmp/out" 2>&1; then
                echo "ok   $md:$fence program (compiled, linked, ran)"
            else
                cat "$tmp/err" "$tmp/out" 2>/dev/null; echo "FAIL $md:$fence program"; failed=$((failed + 1))
            fi
        else
            if $cc $flags -c "$src" -o "$tmp/frag.o" 2>"$tmp/err"; then
                echo "ok   $md:$fence fragment${given:+ (given: $given)}"
            else
                cat "$tmp/err"; echo "FAIL $md:$fence fragment"; failed=$((failed + 1))
            fi
        fi
    done
done
echo "check-doc-code: $n C blocks in README.md and docs/*.md, $skipped skipped, $failed failed"
[ $failed = 0 ]
