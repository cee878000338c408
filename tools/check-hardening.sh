#!/bin/sh
# A Debian-style build gets hardening on every object and every link.
# Builds the library, the examples and the tests with the flags
# dpkg-buildflags gives a package (DEB_BUILD_MAINT_OPTIONS=hardening=+all:
# CPPFLAGS -D_FORTIFY_SOURCE=2, CFLAGS -O2 -fstack-protector-strong ...,
# LDFLAGS -Wl,-z,relro -Wl,-z,now) into build/hardening, then checks
#  - the build log: every compile command carries every CPPFLAGS and CFLAGS
#    word, every link command every LDFLAGS word;
#  - the shared library and the example programs: BIND_NOW and GNU_RELRO;
#  - the shared library calls __stack_chk_fail (stack protector in effect)
#    and the examples call glibc's fortified __*_chk functions (FORTIFY in
#    effect; the library itself has no call whose size fortify can check).
# Needs dpkg-dev (dpkg-buildflags) and binutils (readelf, nm).
#   sh tools/check-hardening.sh
set -eu
cd "$(dirname "$0")/.."
command -v dpkg-buildflags >/dev/null || { echo "check-hardening: dpkg-buildflags missing (apt-get install dpkg-dev)"; exit 2; }
B=build/hardening
rm -rf "$B"; mkdir -p "$B"
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
case "$CPPFLAGS $CFLAGS $LDFLAGS" in
*-D_FORTIFY_SOURCE=2*-fstack-protector-strong*-z,relro*-z,now*) ;;
*) echo "check-hardening: dpkg-buildflags gave no full hardening: $CPPFLAGS | $CFLAGS | $LDFLAGS"; exit 1 ;;
esac
cc=${CC:-cc}
echo "CPPFLAGS=$CPPFLAGS"; echo "CFLAGS=$CFLAGS"; echo "LDFLAGS=$LDFLAGS"
log=$B/build.log
if ! make -j2 B="$B" CC="$cc" NO_AUTO_INSTALL=1 lib examples test-build >"$log" 2>&1; then
    tail -n 30 "$log"; echo "check-hardening: the build failed"; exit 1
fi

# Join recipe continuation lines, keep the compiler's command lines.
awk '{ while (/\\$/) { sub(/\\$/, ""); line = line $0; if ((getline) <= 0) break } print line $0; line = "" }' "$log" |
    grep -E "^$cc " >"$B/commands"
status=0 ncomp=0 nlink=0
while IFS= read -r cmd; do
    case " $cmd " in
    *" -c "*) want="$CPPFLAGS $CFLAGS"; ncomp=$((ncomp + 1)) ;;
    *" -o "*) want="$LDFLAGS"; nlink=$((nlink + 1)) ;;
    *) continue ;;
    esac
    for w in $want; do
        case " $cmd " in *" $w "*) ;; *) echo "missing $w: $cmd"; status=1 ;; esac
    done
done <"$B/commands"
[ "$ncomp" -gt 0 ] && [ "$nlink" -gt 0 ] || { echo "check-hardening: no compile or link commands in $log"; exit 1; }

so=$(ls "$B"/libws6455.so.*.*.* | head -n 1)
for bin in "$so" "$B"/examples/*; do
    readelf -d "$bin" | grep -Eq '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' || { echo "no BIND_NOW: $bin"; status=1; }
    readelf -lW "$bin" | grep -q GNU_RELRO || { echo "no GNU_RELRO: $bin"; status=1; }
done
nm -D "$so" | grep -q ' U __stack_chk_fail' || { echo "no stack protector in $so"; status=1; }
for bin in "$B"/examples/*; do
    nm -D "$bin" | grep -Eq ' U __[a-z_]*_chk' || { echo "no fortified call in $bin"; status=1; }
done
if [ $status = 0 ]; then
    echo "check-hardening: ok: $ncomp compiles and $nlink links carry the flags; BIND_NOW + GNU_RELRO on $(basename "$so") and $(ls "$B"/examples | wc -l) examples; stack protector and FORTIFY in effect"
else
    echo "check-hardening: FAILED (log: $log)"
fi
exit $status
