#!/usr/bin/env bash
# The portability and packaging matrix, one leg after the other, each timed,
# with a summary table at the end. CI runs every leg (from .ci/run); each
# leg is one make target, runnable alone:
#
#   leg           command                              what it proves
#   m32           make test-m32                        whole suite, gcc -m32, ASan + UBSan (qemu-i386: UBSan)
#   s390x         make test-qemu ARCH=s390x            whole suite, big-endian, under qemu (UBSan)
#   aarch64       make test-qemu ARCH=aarch64          whole suite, arm64, under qemu (ASan + UBSan)
#   musl          make test-musl                       whole suite, musl libc, static
#   cortex-m4     make size-cortex-m4                  arm-none-eabi static library + size table
#   sizes         make size-table                      docs/embedded.md's table, every build switch
#   amalgamation  make test-amalgamation               whole suite against dist/ws6455.c
#   amalgamation-zlib  make test-amalgamation WITH_ZLIB=1  the same with permessage-deflate in it
#   byteorder     make test-byteorder                  masking with __BYTE_ORDER__ undefined
#   c11           make check-c11                       each source alone, -std=c11 -pedantic
#   hardening     make check-hardening                 dpkg-buildflags: flags on every object and link
#   consumers     make check-consumers                 CMake and Meson projects against an install
#   abi           make check-abi                       ABI against abi/*.abi (abidiff)
#   docs          make docs                            Doxygen reference, no undocumented symbol
#   doc-code      make check-doc-code                  C blocks of README and docs compile
#
#   bash .ci/matrix.sh [LEG...]     (default: all; WERROR=1 is passed to every leg)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

declare -A CMD=(
    [m32]="make test-m32"
    [s390x]="make test-qemu ARCH=s390x"
    [aarch64]="make test-qemu ARCH=aarch64"
    [musl]="make test-musl"
    [cortex-m4]="make size-cortex-m4"
    [sizes]="make size-table"
    [amalgamation]="make test-amalgamation"
    [amalgamation-zlib]="make test-amalgamation WITH_ZLIB=1 B=build/zlib"
    [byteorder]="make test-byteorder"
    [c11]="make check-c11"
    [hardening]="make check-hardening"
    [consumers]="make check-consumers"
    [abi]="make check-abi"
    [docs]="make docs"
    [doc-code]="make check-doc-code"
)
ORDER=(c11 byteorder amalgamation amalgamation-zlib hardening consumers abi docs doc-code cortex-m4 sizes musl m32 s390x aarch64)
LEGS=("$@")
[ ${#LEGS[@]} = 0 ] && LEGS=("${ORDER[@]}")
JOBS=${JOBS:-2}

results=()
failed=0
t_all=$SECONDS
for leg in "${LEGS[@]}"; do
    cmd=${CMD[$leg]:-}
    [ -n "$cmd" ] || { echo "matrix: unknown leg $leg (legs: ${ORDER[*]})"; exit 2; }
    echo "== matrix $leg: $cmd WERROR=1"
    t0=$SECONDS
    # shellcheck disable=SC2086 # cmd is a command line
    if $cmd -j"$JOBS" WERROR=1; then status=ok; else status=FAILED; failed=$((failed + 1)); fi
    dt=$((SECONDS - t0))
    results+=("$(printf '%-13s %-7s %4d s   %s' "$leg" "$status" "$dt" "$cmd")")
    echo "== matrix $leg: $status in ${dt} s"
done
echo
echo "== matrix summary ($((SECONDS - t_all)) s)"
printf '%s\n' "${results[@]}"
echo "matrix: $((${#LEGS[@]} - failed)) passed, $failed failed"
[ $failed = 0 ]
