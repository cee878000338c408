# ws6455 — plain GNU make. See README.md ("Building") for every target and option.
#   make                 build/libws6455.a and, on hosted targets, build/libws6455.so
#                        (SONAME libws6455.so.0.MINOR while the version is 0.x)
#   make static          build/libws6455.a only (non-PIC; never links a .so)
#   make test            every test under ASan + UBSan (installs cmocka if missing and root)
#   make CC=clang test   the same with clang;  make test SAN=   without sanitizers
#   make install PREFIX=/usr/local DESTDIR=   /   make uninstall
#   make amalgamation    dist/ws6455.c + dist/ws6455.h
#   make docs            HTML reference in build/docs/html (fails on undocumented symbols)
#   make bench / examples / run / interop / fuzz FUZZ_SECONDS=N
#   portability and packaging checks: tools/checks.mk; CI matrix: .ci/matrix.sh
#
# Options (all may be set on the command line or in the environment):
#   CC, AR, CPPFLAGS, CFLAGS, LDFLAGS  used by every compile and link, library,
#                        tests, examples, fuzz and bench alike (packagers: pass
#                        dpkg-buildflags' values; tools/check-hardening.sh checks it)
#   WERROR=1             add -Werror (CI does)
#   SAN=...              sanitizer flags of the test build (default ASan + UBSan;
#                        SAN= builds and runs the tests without sanitizers)
#   SHARED=0|1           build the shared library (default: 1 unless $(CC) targets
#                        bare metal, e.g. arm-none-eabi-gcc, or a non-ELF system)
#   NO_AUTO_INSTALL=1    make test never runs apt-get (packagers, unprivileged CI)
#   WITH_ZLIB=1          build src/deflate.c and link -lz
#   CMOCKA_DIR=DIR       use DIR/include/cmocka.h and DIR/lib/libcmocka.a
#                        (cross builds; see tools/cmocka-build.sh)
#   TEST_RUNNER="..."    prefix for running each test binary (qemu-s390x -L ...)
#   TEST_TIMEOUT=SECONDS stop a test binary that runs longer (emulated runs)
#   TEST_JOBS=N          test binaries run at a time (default: the CPUs)
#   PREFIX LIBDIR INCLUDEDIR PKGCONFIGDIR CMAKEDIR DESTDIR   install paths

CC      ?= cc
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR ?= $(LIBDIR)/cmake/ws6455
DESTDIR ?=

VERSION := $(shell sed -n 's/^\#define WS6455_VERSION "\(.*\)"/\1/p' include/ws6455.h)
VERSION_MAJOR := $(word 1,$(subst ., ,$(VERSION)))
VERSION_MINOR := $(word 2,$(subst ., ,$(VERSION)))
# While MAJOR is 0 every MINOR may break the ABI, so it is part of the
# SONAME (libuv 0.x did the same); from 1.0 on the SONAME is MAJOR alone.
# docs/abi.md says why.
SOVERSION := $(if $(filter 0,$(VERSION_MAJOR)),0.$(VERSION_MINOR),$(VERSION_MAJOR))
SONAME := libws6455.so.$(SOVERSION)

# Cross tools follow the compiler's prefix (arm-none-eabi-gcc -> arm-none-eabi-ar)
# unless AR / SIZE are given.
CC_NAME := $(notdir $(firstword $(CC)))
TOOL_PREFIX := $(shell echo '$(CC_NAME)' | sed -n 's/^\(.*-\)\(gcc\|cc\|clang\)\(-[0-9.]*\)\{0,1\}$$/\1/p')
tool = $(if $(TOOL_PREFIX),$(if $(shell command -v $(TOOL_PREFIX)$(1) 2>/dev/null),$(TOOL_PREFIX)$(1),$(1)),$(1))
ifeq ($(origin AR),default)
AR := $(call tool,ar)
endif
SIZE ?= $(call tool,size)

# The shared library is an ELF one (SONAME, version script): built unless the
# compiler targets bare metal or a non-ELF system. `make static` never
# builds it whatever SHARED says.
TARGET_TRIPLET := $(shell $(CC) -dumpmachine 2>/dev/null)
SHARED ?= $(if $(findstring -none-,$(TARGET_TRIPLET))$(filter %-elf %-eabi %-eabihf,$(TARGET_TRIPLET))$(findstring mingw,$(TARGET_TRIPLET))$(findstring darwin,$(TARGET_TRIPLET)),0,1)

CPPFLAGS ?=
CFLAGS  ?= -O2 -g
LDFLAGS ?=
WERROR  ?=
SAN     ?= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           $(if $(filter 1 yes,$(WERROR)),-Werror)
# Every source defines the feature-test macros it needs (tools/check-c11.sh
# proves each one compiles alone with -std=c11 -pedantic): none come from here.
LIB_CPPFLAGS := -DWS6455_BUILDING -Iinclude -Isrc
LIB_CFLAGS = $(WARN) $(CPPFLAGS) $(LIB_CPPFLAGS) $(CFLAGS) -fvisibility=hidden
TEST_CFLAGS = $(WARN) $(CPPFLAGS) $(LIB_CPPFLAGS) $(CFLAGS) $(SAN)

# Sources that need an optional library; without it they are left out, and
# so is the test named after each (tests/test_<file>.c).
ifeq ($(WITH_ZLIB),1)
SKIPPED_SRC :=
LIB_LDLIBS := -lz
FEATURES := -DWS6455_WITH_ZLIB
else
SKIPPED_SRC := src/deflate.c
LIB_LDLIBS :=
FEATURES :=
endif
LIB_CFLAGS += $(FEATURES)
TEST_CFLAGS += $(FEATURES)
LIB_SRC := $(filter-out $(SKIPPED_SRC),$(wildcard src/*.c))
B := build
OBJ_STATIC := $(LIB_SRC:src/%.c=$(B)/obj-static/%.o)
OBJ_SHARED := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
TEST_OBJ := $(LIB_SRC:src/%.c=$(B)/test-obj/%.o)
# TEST_NAMES="test_frame test_recv" runs a subset. The test of a source the
# build leaves out (SKIPPED_SRC) is left out too.
TEST_NAMES ?= $(patsubst tests/%.c,%,\
                $(filter-out $(SKIPPED_SRC:src/%=tests/test_%),$(wildcard tests/test_*.c)))
TESTS    := $(TEST_NAMES:%=$(B)/tests/%)
TEST_SUPPORT := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJ := $(TEST_SUPPORT:tests/support/%.c=$(B)/test-obj/support/%.o)
HDRS := include/ws6455.h $(wildcard src/*.h)

ifdef CMOCKA_DIR
CMOCKA_CFLAGS := -isystem $(CMOCKA_DIR)/include
CMOCKA_LIBS := $(CMOCKA_DIR)/lib/libcmocka.a
else
CMOCKA_CFLAGS :=
CMOCKA_LIBS := -lcmocka
endif

# make test-amalgamation links the tests against dist/ws6455.c compiled as
# one object instead of the separate library objects: as shipped, its
# internal functions static, for the tests that use the public API alone;
# with WS6455_AMALGAMATION_EXTERN for those that call internal functions
# (a call to ws6455__name( in the test's source).
ifeq ($(AMALGAMATION),1)
INTERNAL_CALL := ws6455__[a-z0-9_]*[(]
AMALGAMATION_INTERNAL_TESTS := $(notdir $(basename $(shell grep -l '$(INTERNAL_CALL)' tests/test_*.c)))
TEST_LIB := $(B)/test-obj/ws6455-amalgamation.o $(B)/test-obj/ws6455-amalgamation-extern.o
test_lib = $(word $(if $(filter $(AMALGAMATION_INTERNAL_TESTS),$(1)),2,1),$(TEST_LIB))
TEST_INC := -Idist
# It also compiles the amalgamation into a test's own translation unit with
# WS6455_API defined as static (the "one unit" route of docs/embedded.md):
# tests/one_unit, as the library is, with the embedded server's switches
# (which exclude zlib), and with WS6455_NO_ERROR_STRINGS alone (the one
# build whose rejections carry the placeholder "error"); the binary must
# hold no external ws6455_ symbol.
ONE_UNIT_TESTS := $(addprefix $(B)/tests/one_unit-,full \
                    $(if $(filter 1,$(WITH_ZLIB)),,server-only no-error-strings))
else
ONE_UNIT_TESTS :=
TEST_LIB := $(TEST_OBJ)
test_lib = $(TEST_LIB)
TEST_INC :=
endif

# Objects remember the compiler and flags that built them: switching
# (make CC=clang after a gcc build) rebuilds instead of mixing toolchains.
TOOLCHAIN := $(B)/.toolchain
TOOLCHAIN_ID := $(CC) | $(CPPFLAGS) | $(CFLAGS) | $(LDFLAGS) | $(SAN) | $(WERROR) | $(WITH_ZLIB) | $(CMOCKA_DIR)
$(shell mkdir -p $(B) && { [ "$$(cat $(TOOLCHAIN) 2>/dev/null)" = "$(TOOLCHAIN_ID)" ] || echo "$(TOOLCHAIN_ID)" > $(TOOLCHAIN); })
HDRS += $(TOOLCHAIN)

.PHONY: all lib static shared test test-build check-cmocka install uninstall clean bench examples \
        run interop fuzz fuzz-afl test-valgrind format

ifeq ($(SHARED),1)
LIB_TARGETS := $(B)/libws6455.a $(B)/libws6455.so
else
LIB_TARGETS := $(B)/libws6455.a
endif

all: lib
lib: $(LIB_TARGETS) $(B)/ws6455.pc $(B)/cmake/ws6455-config.cmake $(B)/cmake/ws6455-config-version.cmake
static: $(B)/libws6455.a
shared: $(B)/libws6455.so

# Static library: plain (non-PIC) objects, the compiler's default code model.
$(B)/obj-static/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

# Shared library: the same sources compiled -fPIC.
$(B)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -fPIC -c $< -o $@

$(B)/libws6455.a: $(OBJ_STATIC)
	@rm -f $@
	$(AR) rcs $@ $^

# Exported symbols carry the version node WS6455_<SOVERSION>; the script is
# generated from the WS6455_API declarations in the header (docs/abi.md).
$(B)/ws6455.map: include/ws6455.h tools/symbols.sh tools/version-script.sh
	@mkdir -p $(@D)
	sh tools/version-script.sh $(SOVERSION) > $@

$(B)/libws6455.so.$(VERSION): $(OBJ_SHARED) $(B)/ws6455.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script,$(B)/ws6455.map \
	    -Wl,-z,defs -o $@ $(OBJ_SHARED) $(LIB_LDLIBS)

$(B)/libws6455.so: $(B)/libws6455.so.$(VERSION)
	ln -sf libws6455.so.$(VERSION) $(B)/$(SONAME)
	ln -sf libws6455.so.$(VERSION) $@

# ---- pkg-config and CMake package files. They name install paths, so they
# are written again on every build and install with that command's paths.
# Paths under PREFIX are written relative to it (${prefix}/lib), so an
# installed tree can be moved (pkg-config --define-prefix, CMake's package
# location).
rel_to_prefix = $(if $(filter $(PREFIX)/%,$(1)),$(patsubst $(PREFIX)/%,$${prefix}/%,$(1)),$(1))
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call rel_to_prefix,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(call rel_to_prefix,$(INCLUDEDIR))|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LIB_LDLIBS)|' -e '/^Libs.private: *$$/d' ws6455.pc.in
CMAKE_GEN = sh tools/cmake-config.sh "$(PREFIX)" "$(LIBDIR)" "$(INCLUDEDIR)" "$(CMAKEDIR)" \
	    "$(VERSION)" "$(SONAME)" "$(WITH_ZLIB)" "$(shell $(CC) $(CFLAGS) -dM -E -x c /dev/null 2>/dev/null | sed -n 's/^\#define __SIZEOF_POINTER__ //p')"
.PHONY: $(B)/ws6455.pc $(B)/cmake/ws6455-config.cmake $(B)/cmake/ws6455-config-version.cmake
$(B)/ws6455.pc: ws6455.pc.in
	@mkdir -p $(@D)
	@$(PC_SED) > $@
$(B)/cmake/ws6455-config.cmake $(B)/cmake/ws6455-config-version.cmake: tools/cmake-config.sh
	@mkdir -p $(@D)
	@$(CMAKE_GEN) $(B)/cmake

# ---- tests: library objects rebuilt with sanitizers, one binary per test file
$(B)/test-obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(B)/test-obj/ws6455-amalgamation.o: dist/ws6455.c dist/ws6455.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c dist/ws6455.c -o $@

$(B)/test-obj/ws6455-amalgamation-extern.o: dist/ws6455.c dist/ws6455.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -DWS6455_AMALGAMATION_EXTERN -c dist/ws6455.c -o $@

$(B)/tests/%: tests/%.c $(TEST_LIB) $(TEST_SUPPORT_OBJ) $(wildcard tests/support/*.h) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_INC) $(TEST_CFLAGS) $(CMOCKA_CFLAGS) -Itests/support $< $(TEST_SUPPORT_OBJ) $(call test_lib,$*) \
	    $(LDFLAGS) -o $@ $(CMOCKA_LIBS) $(LIB_LDLIBS)

# The test support code, compiled once for every test binary.
$(B)/test-obj/support/%.o: tests/support/%.c $(wildcard tests/support/*.h) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_INC) $(TEST_CFLAGS) $(CMOCKA_CFLAGS) -Itests/support -c $< -o $@

# The objects are intermediate to the pattern rules above; keep them so a
# second make test relinks instead of recompiling the library.
.SECONDARY: $(OBJ_STATIC) $(OBJ_SHARED) $(TEST_OBJ) $(TEST_SUPPORT_OBJ)

# cmocka: found, or installed with apt-get when missing and root (the
# two-command set-up), unless NO_AUTO_INSTALL=1 or CMOCKA_DIR is given.
check-cmocka:
ifndef CMOCKA_DIR
	@CC="$(CC)" NO_AUTO_INSTALL="$(NO_AUTO_INSTALL)" sh tests/ensure-package.sh cmocka libcmocka-dev -lcmocka \
	    '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <cmocka.h>\nint main(void){return 0;}'
endif

# The build switches (WS6455_NO_CLIENT, WS6455_NO_OS_RANDOM,
# WS6455_NO_ERROR_STRINGS, WS6455_NO_REQUEST_HEADERS,
# WS6455_NO_RESPONSE_EXTRAS, WS6455_NO_CALLBACK_IO; see include/ws6455.h)
# change what the library compiles, so the library is compiled once more
# for each of two sets and tests are linked against it:
#  - server-only: all six, at -Os (which also leaves out the fast paths:
#    see src/mask.h), the embedded server's build: tests/switches and
#    tests/one_unit (under make test-amalgamation);
#  - client-switches: WS6455_NO_OS_RANDOM and WS6455_NO_REQUEST_HEADERS,
#    a library with both roles: tests/switches (the client's random
#    callback) and the handshake's own tests (tests/test_handshake.c),
#    since the second switch changes how the server reads a request.
# Embedded builds have no zlib: these are built without it, whatever
# WITH_ZLIB says.
SWITCH_SETS := server-only client-switches
SWITCHES_server-only := -DWS6455_NO_CLIENT -DWS6455_NO_OS_RANDOM -DWS6455_NO_ERROR_STRINGS \
                        -DWS6455_NO_REQUEST_HEADERS -DWS6455_NO_RESPONSE_EXTRAS \
                        -DWS6455_NO_CALLBACK_IO -Os
SWITCHES_client-switches := -DWS6455_NO_OS_RANDOM -DWS6455_NO_REQUEST_HEADERS
# test binary: its set and its main file
SWITCH_TEST_NAMES := server-only no-os-random no-request-headers
SWITCH_SET_server-only := server-only
SWITCH_MAIN_server-only := tests/switches/test_switches.c
SWITCH_SET_no-os-random := client-switches
SWITCH_MAIN_no-os-random := tests/switches/test_switches.c
SWITCH_SET_no-request-headers := client-switches
SWITCH_MAIN_no-request-headers := tests/test_handshake.c
SWITCH_TESTS := $(SWITCH_TEST_NAMES:%=$(B)/tests/switches-%)
SWITCH_CFLAGS = $(filter-out $(FEATURES),$(TEST_CFLAGS)) $(CMOCKA_CFLAGS) -Itests/support
SWITCH_SRC := $(filter-out src/deflate.c,$(LIB_SRC))

# TESTS_SH=0 leaves out the shell tests of tests/sh/ (they check the native
# build's library and install, not the code under a cross toolchain).
# The slowest binaries (over half the run's time) start first, so that the
# parallel run does not end waiting on one of them.
SLOW_TESTS := $(filter %/test_utf8 %/test_recv,$(TESTS))
# A plain `make test` (the README's set-up command) builds with one job per
# CPU: the build is over half of its time. A -j given to make wins (it
# starts a jobserver the sub-make joins).
BUILD_JOBS ?= $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
test: check-cmocka
	@$(MAKE) --no-print-directory $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(BUILD_JOBS)) test-build
	@CC="$(CC)" TEST_RUNNER="$(TEST_RUNNER)" TEST_TIMEOUT="$(TEST_TIMEOUT)" TEST_JOBS="$(TEST_JOBS)" TESTS_SH="$(TESTS_SH)" B="$(B)" \
	    sh tests/run.sh $(SLOW_TESTS) $(filter-out $(SLOW_TESTS),$(TESTS)) $(SWITCH_TESTS) $(ONE_UNIT_TESTS)

test-build: $(TESTS) $(SWITCH_TESTS) $(ONE_UNIT_TESTS) $(if $(filter 0,$(TESTS_SH)),,lib)

# Each set's library objects are compiled one file at a time (so make -j
# spreads them) into $(B)/switch-obj/SET/, and shared by its tests.
define switch_set
$(B)/switch-obj/$(1)/%.o: src/%.c $(HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(SWITCH_CFLAGS) $$(SWITCHES_$(1)) -c $$< -o $$@
endef
define switch_test
$(B)/tests/switches-$(1): $(SWITCH_MAIN_$(1)) $(SWITCH_SRC:src/%.c=$(B)/switch-obj/$(SWITCH_SET_$(1))/%.o) \
                          $(TEST_SUPPORT) $(wildcard tests/support/*.h) $(HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(SWITCH_CFLAGS) $$(SWITCHES_$(SWITCH_SET_$(1))) $$< $$(TEST_SUPPORT) \
	    $$(SWITCH_SRC:src/%.c=$(B)/switch-obj/$(SWITCH_SET_$(1))/%.o) $$(LDFLAGS) -o $$@ $$(CMOCKA_LIBS)
endef
$(B)/tests/one_unit-%: tests/one_unit/test_one_unit.c dist/ws6455.c dist/ws6455.h $(wildcard tests/support/*.h) $(HDRS)
	@mkdir -p $(@D)
	$(CC) -Idist $(SWITCH_CFLAGS) $(ONE_UNIT_SWITCHES_$*) $< $(LDFLAGS) -o $@ $(CMOCKA_LIBS) $(LIB_LDLIBS)
	@nm $@ >$@.symbols
	@if grep ' [A-Z] ws6455_' $@.symbols; then echo "$@: ws6455_ symbols left external (above)"; exit 1; fi
ONE_UNIT_SWITCHES_full = $(FEATURES)
ONE_UNIT_SWITCHES_server-only = $(SWITCHES_server-only)
ONE_UNIT_SWITCHES_no-error-strings = -DWS6455_NO_ERROR_STRINGS
$(foreach set,$(SWITCH_SETS),$(eval $(call switch_set,$(set))))
$(foreach t,$(SWITCH_TEST_NAMES),$(eval $(call switch_test,$(t))))
.SECONDARY: $(foreach set,$(SWITCH_SETS),$(SWITCH_SRC:src/%.c=$(B)/switch-obj/$(set)/%.o))

test-valgrind: check-cmocka
	@$(MAKE) --no-print-directory $(TESTS:$(B)/tests/%=$(B)/vg-tests/%) lib
	@VALGRIND=1 CC="$(CC)" sh tests/run.sh $(TESTS:$(B)/tests/%=$(B)/vg-tests/%)

# Without sanitizers (valgrind checks instead): the library and support
# code compiled once, linked into each test.
VG_CFLAGS := $(WARN) $(CPPFLAGS) $(LIB_CPPFLAGS) $(FEATURES) $(CFLAGS) $(CMOCKA_CFLAGS) -Itests/support
VG_OBJ := $(LIB_SRC:src/%.c=$(B)/vg-obj/%.o) $(TEST_SUPPORT:tests/support/%.c=$(B)/vg-obj/support/%.o)
.SECONDARY: $(VG_OBJ)

$(B)/vg-obj/support/%.o: tests/support/%.c $(wildcard tests/support/*.h) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(VG_CFLAGS) -c $< -o $@

$(B)/vg-obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(VG_CFLAGS) -c $< -o $@

$(B)/vg-tests/%: tests/%.c $(VG_OBJ) $(wildcard tests/support/*.h) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(VG_CFLAGS) $< $(VG_OBJ) $(LDFLAGS) -o $@ $(CMOCKA_LIBS) $(LIB_LDLIBS)

# ---- install
install: lib
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(CMAKEDIR)
	install -m 644 include/ws6455.h $(DESTDIR)$(INCLUDEDIR)/ws6455.h
	install -m 644 $(B)/libws6455.a $(DESTDIR)$(LIBDIR)/libws6455.a
ifeq ($(SHARED),1)
	install -m 755 $(B)/libws6455.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libws6455.so.$(VERSION)
	ln -sf libws6455.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libws6455.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libws6455.so
endif
	$(PC_SED) > $(DESTDIR)$(PKGCONFIGDIR)/ws6455.pc
	$(CMAKE_GEN) $(DESTDIR)$(CMAKEDIR)

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/ws6455.h $(DESTDIR)$(LIBDIR)/libws6455.a \
	      $(DESTDIR)$(LIBDIR)/libws6455.so $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/libws6455.so.$(VERSION) $(DESTDIR)$(PKGCONFIGDIR)/ws6455.pc \
	      $(DESTDIR)$(CMAKEDIR)/ws6455-config.cmake $(DESTDIR)$(CMAKEDIR)/ws6455-config-version.cmake
	-rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null

# Every 4-byte sequence (2^32) through the UTF-8 validator against an
# independent reference, through every variant the machine can run:
# minutes, not seconds, so not part of make test.
.PHONY: test-exhaustive
test-exhaustive:
	@mkdir -p $(B)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -O2 -pthread -Iinclude -Isrc -Itests/support \
	    tests/exhaustive_utf8.c src/utf8.c src/utf8_x86.c src/utf8_neon.c $(LDFLAGS) -o $(B)/exhaustive_utf8
	$(B)/exhaustive_utf8

-include bench/bench.mk
-include examples/examples.mk
-include fuzz/fuzz.mk
-include tools/checks.mk

format:
	clang-format -i include/*.h src/*.c src/*.h tests/*.c

clean:
	rm -rf $(B) dist
