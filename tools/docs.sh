#!/bin/sh
# make docs: the HTML reference (build/docs/html/index.html) from
# include/ws6455.h with Doxygen, plus README.md, CHANGELOG.md and docs/*.md as
# pages. Fails on any Doxygen warning, and names each undocumented public
# symbol with its line in the header, e.g.
#   undocumented: ws6455_foo(int x) (function) at include/ws6455.h:123
# Needs doxygen (Debian: apt-get install doxygen).
set -eu
cd "$(dirname "$0")/.."
command -v doxygen >/dev/null || { echo "docs: doxygen missing (apt-get install doxygen)"; exit 2; }
out=build/docs
rm -rf "$out"; mkdir -p "$out"
log=$out/warnings.log
status=0
(cat docs/Doxyfile; echo "OUTPUT_DIRECTORY = $out"; echo "WARN_LOGFILE = $log") | doxygen - >"$out/doxygen.out" 2>&1 || status=1
[ -s "$log" ] && status=1
if [ $status = 0 ]; then
    echo "docs: $out/html/index.html ($(sh tools/symbols.sh | wc -l) functions documented, no warnings)"
    exit 0
fi
# "FILE:LINE: warning: Member NAME (KIND) of file|struct X is not documented."
# (Doxygen says "error:" instead of "warning:" under WARN_AS_ERROR.)
sed -e "s|^$PWD/||" "$log" >"$log.rel"
sed -n 's/^\([^:]*\):\([0-9]*\): [a-z]*: Member \(.*\) (\([a-z ]*\)) of file [^ ]* is not documented\./undocumented: \3 (\4) at \1:\2/p
        s/^\([^:]*\):\([0-9]*\): [a-z]*: Member \(.*\) (\([a-z ]*\)) of \([a-z]*\) \([^ ]*\) is not documented\./undocumented: \6.\3 (\4 of \5 \6) at \1:\2/p' "$log.rel"
grep -v 'is not documented\.' "$log.rel" || true
cat "$out/doxygen.out" | grep -iv '^$' | head -n 20 || true
echo "docs: FAILED: document every public symbol (and fix the warnings) listed above"
exit 1
