#!/bin/sh
# One leg of the portability matrix: the whole cmocka suite built with another
# compiler or C library and run, under qemu-user where the host cannot run it.
#   sh tools/cross-test.sh m32|s390x|aarch64|musl      (make test-m32, test-qemu ARCH=..., test-musl)
#
#   m32      gcc -m32 (CC=clang works too), ASan + UBSan, natively when the
#            kernel runs 32-bit programs. Some kernels boot with
#            ia32_emulation off: then the tests run under qemu-i386 with UBSan
#            only (32-bit ASan's shadow layout clashes with qemu-user's
#            memory map).
#   s390x    s390x-linux-gnu-gcc (big-endian) under qemu-s390x, UBSan only:
#            ASan's shadow memory does not fit qemu's guest address space.
#            Then test_frame again with __BYTE_ORDER__ undefined (the
#            portable masking path on a big-endian host).
#   aarch64  aarch64-linux-gnu-gcc under qemu-aarch64, ASan (no leaks) + UBSan;
#            test_frame with __BYTE_ORDER__ undefined too.
#   musl     musl-gcc, linked -static, no sanitizers (musl has none).
# cmocka is built from source for each (tools/cmocka-build.sh); missing
# toolchains are installed as tools/ensure-debs.sh allows. The tests of
# tests/sh/ (native library and install) are not rerun here.
set -eu
cd "$(dirname "$0")/.."
leg=${1:?usage: cross-test.sh m32|s390x|aarch64|musl}
B=${B:-build}
make=${MAKE:-make}
gccmajor=$(gcc -dumpversion 2>/dev/null | cut -d. -f1)
san_default="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
runner="" san=$san_default ldflags=${LDFLAGS:-} extra="" byteorder=0
case $leg in
m32)
    cc="${CC:-gcc} -m32"
    sh tools/ensure-debs.sh libc6-dev-i386 "lib32gcc-$gccmajor-dev"
    # <asm/...> for -m32 comes with gcc-multilib (a symlink to the x86_64
    # kernel headers, which serve both), and gcc-multilib conflicts with the
    # cross compilers on Debian: make the same link privately.
    mkdir -p "$B"
    if ! printf '#include <asm/errno.h>\n' | $cc -E -x c - >/dev/null 2>&1; then
        mkdir -p "$B/m32-include"
        ln -sfn /usr/include/x86_64-linux-gnu/asm "$B/m32-include/asm"
        cc="$cc -isystem $PWD/$B/m32-include"
    fi
    printf 'int main(void){return 0;}\n' >"$B/.m32probe.c"
    $cc "$B/.m32probe.c" -o "$B/.m32probe"
    if ! "$B/.m32probe" 2>/dev/null; then
        sh tools/ensure-debs.sh qemu-user
        # ASan cannot run there: qemu-user places the guest's large mmaps
        # inside the range 32-bit ASan keeps for its shadow memory
        # ("AddrIsInMem" CHECK failures in test_recv), so UBSan alone.
        echo "test-m32: this kernel does not run 32-bit programs: running them under qemu-i386, UBSan only"
        runner="qemu-i386"
        san="-fsanitize=undefined -fno-sanitize-recover=all"
    fi
    rm -f "$B/.m32probe" "$B/.m32probe.c"
    ;;
s390x | aarch64)
    triplet=$leg-linux-gnu
    debarch=$leg; [ "$leg" = aarch64 ] && debarch=arm64
    sh tools/ensure-debs.sh "gcc-$triplet" "libc6-dev-$debarch-cross" qemu-user
    cc=$triplet-gcc
    runner="env ASAN_OPTIONS=detect_leaks=0 qemu-$leg -L /usr/$triplet"
    [ "$leg" = s390x ] && san="-fsanitize=undefined -fno-sanitize-recover=all"
    byteorder=1
    ;;
musl)
    sh tools/ensure-debs.sh musl-tools
    cc=musl-gcc
    san=""
    ldflags="$ldflags -static"
    extra="SHARED=0"
    ;;
*) echo "cross-test: unknown leg $leg" >&2; exit 2 ;;
esac

cm=$B/cmocka/$leg
# shellcheck disable=SC2086 # cc may carry -m32
[ -f "$cm/lib/libcmocka.a" ] || sh tools/cmocka-build.sh "$cm" $cc
echo "== $leg: $cc, SAN=${san:-none}${runner:+, run by: $runner}"
# shellcheck disable=SC2086
$make --no-print-directory B="$B/$leg" CC="$cc" SAN="$san" LDFLAGS="$ldflags" CMOCKA_DIR="$cm" \
    TESTS_SH=0 TEST_RUNNER="$runner" TEST_TIMEOUT=900 $extra test
if [ $byteorder = 1 ]; then
    echo "== $leg: test_frame with __BYTE_ORDER__ undefined"
    # shellcheck disable=SC2086
    $make --no-print-directory B="$B/$leg-byteorder" CC="$cc" SAN="$san" LDFLAGS="$ldflags" CMOCKA_DIR="$cm" \
        CPPFLAGS="${CPPFLAGS:-} -U__BYTE_ORDER__" TEST_NAMES=test_frame TESTS_SH=0 TEST_RUNNER="$runner" TEST_TIMEOUT=900 $extra test
fi
