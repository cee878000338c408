#!/bin/sh
# Checks the exported ABI of the shared library against the newest committed
# baseline (abi/libws6455-VERSION.abi, written by abidw at each release):
#  - same SONAME as the baseline: any incompatible change (a removed or
#    changed function, a changed public struct layout...) fails; compatible
#    additions are reported and pass;
#  - new SONAME (a new 0.MINOR, or a new MAJOR from 1.0 on; docs/abi.md):
#    every change is reported and allowed -- that is what the new SONAME is for.
#   sh tools/abi-check.sh              check (make check-abi)
#   sh tools/abi-check.sh --baseline   write abi/libws6455-VERSION.abi from
#                                      this tree (make abi-baseline, at a release)
# Needs abigail-tools (abidw, abidiff). The library is built with -O2 -g in
# build/abi so the check does not depend on the caller's CFLAGS.
set -eu
cd "$(dirname "$0")/.."
for t in abidw abidiff; do
    command -v $t >/dev/null || { echo "abi-check: $t missing (apt-get install abigail-tools)"; exit 2; }
done
B=build/abi
version=$(sed -n 's/^#define WS6455_VERSION "\(.*\)"/\1/p' include/ws6455.h)
make -s B="$B" CFLAGS="-O2 -g" CPPFLAGS= LDFLAGS= SHARED=1 shared >/dev/null
so="$B/libws6455.so.$version"
dump() { abidw --exported-interfaces-only --headers-dir include --drop-private-types --no-corpus-path --no-comp-dir-path --no-show-locs "$1"; }
soname_of() { sed -n "s/.*<abi-corpus [^>]*soname='\([^']*\)'.*/\1/p" "$1" | head -n 1; }

if [ "${1:-}" = --baseline ]; then
    mkdir -p abi
    dump "$so" >"abi/libws6455-$version.abi"
    echo "abi-check: wrote abi/libws6455-$version.abi (SONAME $(soname_of "abi/libws6455-$version.abi"))"
    exit 0
fi

# The newest baseline not newer than this version.
base=""
for f in $(ls abi/libws6455-*.abi 2>/dev/null | sort -V); do
    v=$(basename "$f" .abi); v=${v#libws6455-}
    [ "$(printf '%s\n%s\n' "$v" "$version" | sort -V | tail -n 1)" = "$version" ] && base=$f
done
[ -n "$base" ] || { echo "abi-check: no baseline in abi/ for version $version or older"; exit 1; }
dump "$so" >"$B/current.abi"
old=$(soname_of "$base") new=$(soname_of "$B/current.abi")
# abidiff's status is a bit field: 1 error, 2 usage, 4 ABI change, 8
# incompatible change. A changed struct layout is only "4", so under the same
# SONAME any change fails except added functions (--no-added-syms).
set +e
abidiff "$base" "$B/current.abi" >"$B/abidiff.txt" 2>&1
rc=$?
abidiff --no-added-syms "$base" "$B/current.abi" >"$B/abidiff-existing.txt" 2>&1
rc_existing=$?
set -e
if [ $((rc & 3)) -ne 0 ] || [ $((rc_existing & 3)) -ne 0 ]; then
    cat "$B/abidiff.txt"; echo "abi-check: abidiff failed (status $rc)"; exit 1
fi
if [ "$old" != "$new" ]; then
    if [ $rc -ne 0 ]; then cat "$B/abidiff.txt"; fi
    echo "abi-check: SONAME $old -> $new: a new ABI, so the changes listed (if any) are allowed (against $base)"
    exit 0
fi
if [ $rc_existing -ne 0 ]; then
    cat "$B/abidiff-existing.txt"
    echo "abi-check: FAILED: the ABI of existing symbols changed under the same SONAME $new (against $base);"
    echo "  undo the change, or make it a new 0.MINOR (MAJOR from 1.0 on) release: docs/abi.md"
    exit 1
fi
if [ $rc -ne 0 ]; then
    cat "$B/abidiff.txt"
    echo "abi-check: ok: compatible additions only, SONAME $new, against $base"
else
    echo "abi-check: ok: ABI identical to $base (SONAME $new)"
fi
