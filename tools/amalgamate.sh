#!/bin/sh
# Writes the amalgamation: OUTDIR/ws6455.c, every library source in one file,
# and OUTDIR/ws6455.h, the public header. Drop both into any build and
# compile ws6455.c as C11 (the way sqlite3.c is embedded).
#   sh tools/amalgamate.sh [OUTDIR]          (default dist; make amalgamation)
# Environment: CC (default cc) for the checks, WITH_ZLIB=1 to include
# src/deflate.c.
#
# How the file is laid out, for whatever src/*.c and src/*.h exist:
#  - the feature-test macros each source defines before its includes
#    (_POSIX_C_SOURCE, _DEFAULT_SOURCE, ...) are hoisted to the top, before
#    any system header (for _POSIX_C_SOURCE the highest value wins);
#  - then #include "ws6455.h", then the internal headers of src/, inlined
#    in dependency order (topologically sorted by their #include "..."
#    lines), then the sources in name order;
#  - each inlined #include "..." line and hoisted macro is replaced by a
#    comment, and every file starts with a #line directive, so compiler
#    messages name the original file and line;
#  - after each source, the macros it defined are #undef'd, so no source's
#    private macros leak into the next one.
# Checks (failing with the names and files involved): two sources defining
# a file-scope static of the same name (found with nm on each source compiled
# alone; in one translation unit they would clash or, for two tentative
# definitions `static int x;`, silently become one), and the amalgamation
# compiling cleanly with -Wall -Wextra -Wpedantic -Werror.
set -eu
cd "$(dirname "$0")/.."
out=${1:-dist}
cc=${CC:-cc}
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

sources=$(ls src/*.c | { if [ "${WITH_ZLIB:-0}" = 1 ]; then cat; else grep -v '^src/deflate\.c$'; fi; })
# A header some source includes more than once (src/utf8_kernel.h: one
# instantiation per instruction set) is a template: it is written out at
# each of its include sites instead of once at the top.
templates=$(for f in $sources; do
                sed -n 's/^[ \t]*#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$f" | sort | uniq -d
            done | sort -u | tr '\n' ' ')
headers=$(for h in $(ls src/*.h 2>/dev/null || true); do
              case " $templates " in *" $(basename "$h") "*) ;; *) echo "$h" ;; esac
          done)

# ---- internal headers in dependency order (tsort: "dependency dependent")
: >"$tmp/pairs"
for h in $headers; do
    echo "$h $h" >>"$tmp/pairs"
    sed -n 's/^[ \t]*#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$h" | while read -r inc; do
        if [ -f "src/$inc" ]; then echo "src/$inc $h" >>"$tmp/pairs"; fi
    done
done
order=$(tsort "$tmp/pairs" 2>"$tmp/tsort.err") || { cat "$tmp/tsort.err"; echo "amalgamate: include cycle among src/*.h"; exit 1; }

# -O0 keeps every static; -fkeep-* (gcc) keeps unused static and inline ones too.
keep=""
if $cc -fkeep-static-functions -fkeep-inline-functions -x c -c /dev/null -o /dev/null 2>/dev/null; then
    keep="-fkeep-static-functions -fkeep-inline-functions"
fi

# ---- static symbols defined by more than one source (those of the
# internal headers, static inline helpers, are defined once in the
# amalgamation and do not count)
: >"$tmp/header_statics"
for h in $headers; do
    printf '#include "%s"\n' "$(basename "$h")" >"$tmp/h.c"
    # shellcheck disable=SC2086
    $cc -std=c11 -O0 $keep -Iinclude -Isrc -c "$tmp/h.c" -o "$tmp/h.o" ||
        { echo "amalgamate: $h does not compile on its own"; exit 1; }
    nm "$tmp/h.o" | awk '$2 ~ /^[tdbrs]$/ { print $3 }' >>"$tmp/header_statics"
done
sort -u -o "$tmp/header_statics" "$tmp/header_statics"
for f in $sources; do
    o="$tmp/$(basename "$f" .c).o"
    # shellcheck disable=SC2086
    $cc -std=c11 -O0 $keep -Iinclude -Isrc -c "$f" -o "$o" ||
        { echo "amalgamate: $f does not compile on its own"; exit 1; }
    nm "$o" | awk -v f="$f" '$2 ~ /^[tdbrs]$/ && $3 !~ /[.$]/ && $3 !~ /^\.L/ { print $3, f }'
done | sort -u | awk 'NR == FNR { skip[$1] = 1; next } !($1 in skip)' "$tmp/header_statics" - >"$tmp/statics"
clash=$(awk '{ n[$1]++; files[$1] = files[$1] " " $2 } END { for (s in n) if (n[s] > 1) print s ":" files[s] }' "$tmp/statics" | sort)
if [ -n "$clash" ]; then
    echo "amalgamate: file-scope static names defined in more than one source (one translation unit cannot hold both; rename one):"
    echo "$clash" | sed 's/^/  /'
    exit 1
fi

# ---- feature-test macros: every #define _*_SOURCE, _*_EXTENSIONS
fm_re='^[ \t]*#[ \t]*define[ \t]+_[A-Z0-9_]*(_SOURCE|_EXTENSIONS)([ \t]|$)'
grep -hE "$fm_re" $sources | sed 's/^[ \t]*#[ \t]*define[ \t]*//; s/[ \t]*\/\*.*//; s/[ \t]*$//' |
    awk '{ name = $1; val = $2
           if (!(name in v)) { order[++n] = name; v[name] = val }
           else if (name == "_POSIX_C_SOURCE" && val + 0 > v[name] + 0) v[name] = val }
         END { for (i = 1; i <= n; i++) print "#define " order[i] (v[order[i]] != "" ? " " v[order[i]] : "") }' >"$tmp/features"

# Macros the headers define (never #undef'd after a source)
cat include/ws6455.h $headers | sed -n 's/^[ \t]*#[ \t]*define[ \t]*\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' | sort -u >"$tmp/header_macros"

# inline FILE: its text with project includes and feature macros commented
# out, and template headers written out where they are included
inline() {
    echo "#line 1 \"$1\""
    awk -v fm="$fm_re" -v tpl=" $templates " -v file="$1" '
        /^[ \t]*#[ \t]*include[ \t]*"/ {
            name = $0; sub(/^[^"]*"/, "", name); sub(/".*/, "", name)
            if (index(tpl, " " name " ")) {
                print "#line 1 \"src/" name "\""
                while ((getline l < ("src/" name)) > 0) {
                    if (l ~ /^[ \t]*#[ \t]*include[ \t]*"/) l = "/* amalgamation: " l " (inlined above) */"
                    print l
                }
                close("src/" name)
                print "#line " (NR + 1) " \"" file "\""
                next
            }
            sub(/^[ \t]*/, ""); print "/* amalgamation: " $0 " (inlined above) */"; next
        }
        $0 ~ fm { print "/* amalgamation: feature macro hoisted to the top */"; next }
        # An internal function (ws6455__*) declared or defined at file scope:
        # private to the amalgamation (see WS6455__PRIVATE at the top).
        /^[A-Za-z_]/ && !/^(static|typedef|extern|return|struct|union|enum)[ \t]/ &&
            match($0, /ws6455__[a-z0-9_]+\(/) && !index(substr($0, 1, RSTART), "(") {
            print "WS6455__PRIVATE " $0; next
        }
        { print }' "$1"
}

version=$(sed -n 's/^#define WS6455_VERSION "\(.*\)"/\1/p' include/ws6455.h)
{
    cat <<EOF2
/*
 * ws6455 $version — amalgamation: every library source in one file.
 * Generated by tools/amalgamate.sh from src/; do not edit (edit src/ and
 * run make amalgamation). Compile it as C11 next to ws6455.h:
 *     cc -std=c11 -O2 -c ws6455.c
 * To build a shared library from it, add -fPIC -fvisibility=hidden
 * -DWS6455_BUILDING so only the public API is exported. Or include it in
 * a program's own source after #define WS6455_API static, so that the
 * compiler sees the whole program (docs/embedded.md). MIT licensed.
 */
EOF2
    echo "/* Feature-test macros of the sources, before any system header. */"
    cat "$tmp/features"
    cat <<'EOF2'

/* The library's internal functions (ws6455__*) are static in the
 * amalgamation, as SQLite's are: the compiler sees every caller, inlines
 * what is called once and drops what the build does not use. A build that
 * must reach them from outside (the project's own tests) defines
 * WS6455_AMALGAMATION_EXTERN. A program that includes this file with
 * WS6455_API defined as static makes the public functions static too
 * (include/ws6455.h). A build switch leaves some of them unused, or
 * declared and not defined: that warning is off up to the end of this
 * file, and back for the including program's own code with clang. (GCC
 * judges "declared static but never defined" by the state at the end of
 * the unit, so with GCC it stays off.) */
#if defined(WS6455_AMALGAMATION_EXTERN)
#define WS6455__PRIVATE
#else
#define WS6455__PRIVATE static
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

#include "ws6455.h"
EOF2
    for h in $order; do
        echo
        inline "$h"
    done
    for f in $sources; do
        echo
        inline "$f"
        macros=$(sed -n 's/^[ \t]*#[ \t]*define[ \t]*\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' "$f" | sort -u |
                 comm -23 - "$tmp/header_macros" | grep -Ev '^_[A-Z0-9_]*(_SOURCE|_EXTENSIONS)$' || true)
        if [ -n "$macros" ]; then
            echo "/* amalgamation: end of $f; its macros end here */"
            for m in $macros; do echo "#undef $m"; done
        fi
    done
    printf '\n#if defined(__clang__)\n#pragma GCC diagnostic pop\n#endif\n'
} >"$tmp/ws6455.c"
cp include/ws6455.h "$tmp/ws6455.h"

# ---- the whole compiles as one translation unit, without warnings
if ! $cc -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$tmp" -c "$tmp/ws6455.c" -o "$tmp/ws6455.o" 2>"$tmp/cc.err"; then
    cat "$tmp/cc.err"
    echo "amalgamate: the amalgamation does not compile (a clash between sources? the messages above name the files)"
    exit 1
fi
mv "$tmp/ws6455.c" "$tmp/ws6455.h" "$out/"
echo "amalgamate: $out/ws6455.c ($(echo $sources | wc -w) sources, $(echo $headers | wc -w) internal headers, $(wc -l <"$out/ws6455.c") lines) and $out/ws6455.h"
