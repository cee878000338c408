# Portability, packaging and documentation checks; included by the Makefile.
# Each is one command; CI runs them all through .ci/matrix.sh and .ci/run.
#
#   make amalgamation        dist/ws6455.c + dist/ws6455.h (tools/amalgamate.sh)
#   make test-amalgamation   the whole cmocka suite linked against dist/ws6455.c
#   make test-byteorder      masking tests with __BYTE_ORDER__ undefined (portable path)
#   make check-c11           each src/*.c alone: -std=c11 -pedantic -Werror, no -D
#   make check-hardening     dpkg-buildflags build: flags on every compile and link,
#                            BIND_NOW, RELRO, stack protector, FORTIFY
#   make check-consumers     CMake (find_package) and Meson (pkg-config) projects
#                            built against an installed copy
#   make check-abi           exported ABI against the newest baseline in abi/
#   make abi-baseline        write abi/libws6455-VERSION.abi (at a release)
#   make test-m32            whole suite, -m32, ASan + UBSan
#   make test-qemu ARCH=s390x|aarch64   whole suite cross-built, run under qemu-user
#   make test-musl           whole suite with musl-gcc, static
#   make size                text/data/bss of each object of the static library
#   make size-cortex-m4      arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os static
#                            library, linked into a newlib program, with the size table
#   make size-table          docs/embedded.md's table: x86-64 and Cortex-M4, -Os, each
#                            build switch, library and smallest server (tools/size-table.sh)
#   make docs                HTML reference (Doxygen) in build/docs/html; fails
#                            naming every undocumented public symbol
#   make check-doc-code      every ```c block of README.md and docs/*.md compiles

.PHONY: amalgamation test-amalgamation test-byteorder check-c11 check-hardening check-consumers \
        check-abi abi-baseline test-m32 test-qemu test-musl size size-cortex-m4 size-table docs check-doc-code

amalgamation:
	@CC="$(CC)" WITH_ZLIB="$(WITH_ZLIB)" sh tools/amalgamate.sh dist

dist/ws6455.c dist/ws6455.h &: $(LIB_SRC) $(wildcard src/*.h) include/ws6455.h tools/amalgamate.sh
	@CC="$(CC)" WITH_ZLIB="$(WITH_ZLIB)" sh tools/amalgamate.sh dist

test-amalgamation: amalgamation
	@$(MAKE) --no-print-directory B=$(B)/amalgamation AMALGAMATION=1 TESTS_SH=0 test

test-byteorder:
	@if $(CC) -U__BYTE_ORDER__ -dM -E $(LIB_CPPFLAGS) src/frame.c | grep -q WS6455__MASK_ROTATE_RIGHT; then \
	    echo "test-byteorder: src/frame.c still picks a byte order with __BYTE_ORDER__ undefined"; exit 1; fi
	@$(MAKE) --no-print-directory B=$(B)/byteorder CPPFLAGS="$(CPPFLAGS) -U__BYTE_ORDER__" \
	    TEST_NAMES="test_frame test_recv" TESTS_SH=0 test

check-c11:
	@sh tools/check-c11.sh

check-hardening:
	@CC="$(CC)" sh tools/check-hardening.sh

check-consumers:
	@CC="$(CC)" sh tools/check-consumers.sh

check-abi:
	@sh tools/abi-check.sh

abi-baseline:
	@sh tools/abi-check.sh --baseline

test-m32:
	+@CC="$(CC)" sh tools/cross-test.sh m32

ARCH ?= s390x
test-qemu:
	+@sh tools/cross-test.sh $(ARCH)

test-musl:
	+@sh tools/cross-test.sh musl

size: static
	@$(SIZE) -t $(B)/libws6455.a

size-cortex-m4:
	+@sh tools/size-cortex-m4.sh

size-table:
	+@sh tools/size-table.sh

docs:
	@sh tools/docs.sh

check-doc-code:
	@CC="$(CC)" sh tools/check-doc-code.sh
