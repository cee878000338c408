# ws6455 — plain GNU make. See README.md for the targets.
#   make                 build/libws6455.a and build/libws6455.so (SONAME libws6455.so.0)
#   make test            every test under ASan + UBSan (installs cmocka if missing and root)
#   make CC=clang test   the same with clang
#   make install PREFIX=/usr/local DESTDIR=   /   make uninstall
#   make bench           benchmarks against wslay (never part of make test)
#   make examples / make run / make interop / make fuzz FUZZ_SECONDS=N

CC      ?= cc
AR      ?= ar
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

VERSION := $(shell sed -n 's/^\#define WS6455_VERSION "\(.*\)"/\1/p' include/ws6455.h)
SOMAJOR := 0

WARN    := -std=c11 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= -O2 -g
LIB_CFLAGS := $(WARN) $(CFLAGS) -D_DEFAULT_SOURCE -fPIC -fvisibility=hidden -DWS6455_BUILDING -Iinclude -Isrc
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TEST_CFLAGS := $(WARN) -O1 -g -D_DEFAULT_SOURCE $(SAN) -DWS6455_BUILDING -Iinclude -Isrc

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
OBJ      := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
TEST_OBJ := $(LIB_SRC:src/%.c=$(B)/test-obj/%.o)
TESTS    := $(patsubst tests/%.c,$(B)/tests/%,\
              $(filter-out $(SKIPPED_SRC:src/%=tests/test_%),$(wildcard tests/test_*.c)))
TEST_SUPPORT := $(wildcard tests/support/*.c)
HDRS := include/ws6455.h $(wildcard src/*.h)

# Objects remember the compiler and flags that built them: switching
# (make CC=clang after a gcc build) rebuilds instead of mixing toolchains.
TOOLCHAIN := $(B)/.toolchain
TOOLCHAIN_ID := $(CC) $(CFLAGS) $(WITH_ZLIB)
$(shell mkdir -p $(B) && { [ "$$(cat $(TOOLCHAIN) 2>/dev/null)" = "$(TOOLCHAIN_ID)" ] || echo "$(TOOLCHAIN_ID)" > $(TOOLCHAIN); })
HDRS += $(TOOLCHAIN)

.PHONY: all lib test check-cmocka install uninstall clean bench examples run interop fuzz fuzz-afl test-valgrind format

all: lib
lib: $(B)/libws6455.a $(B)/libws6455.so $(B)/ws6455.pc

$(B)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(B)/libws6455.a: $(OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/libws6455.so.$(VERSION): $(OBJ)
	$(CC) -shared -Wl,-soname,libws6455.so.$(SOMAJOR) -Wl,-z,defs -o $@ $^ $(LIB_LDLIBS)

$(B)/libws6455.so: $(B)/libws6455.so.$(VERSION)
	ln -sf libws6455.so.$(VERSION) $(B)/libws6455.so.$(SOMAJOR)
	ln -sf libws6455.so.$(VERSION) $@

# The .pc names install paths, so it is written again on every build and
# install with the PREFIX of that command.
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LIB_LDLIBS)|' ws6455.pc.in
.PHONY: $(B)/ws6455.pc
$(B)/ws6455.pc: ws6455.pc.in
	@mkdir -p $(@D)
	@$(PC_SED) > $@

# ---- tests: library objects rebuilt with sanitizers, one binary per test file
$(B)/test-obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(B)/tests/%: tests/%.c $(TEST_OBJ) $(TEST_SUPPORT) $(wildcard tests/support/*.h) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -Itests/support $< $(TEST_SUPPORT) $(TEST_OBJ) -o $@ -lcmocka $(LIB_LDLIBS)

# The objects are intermediate to the pattern rules above; keep them so a
# second make test relinks instead of recompiling the library.
.SECONDARY: $(OBJ) $(TEST_OBJ)

check-cmocka:
	@CC="$(CC)" sh tests/ensure-package.sh cmocka libcmocka-dev -lcmocka \
	    '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <cmocka.h>\nint main(void){return 0;}'

test: check-cmocka
	@$(MAKE) --no-print-directory test-build
	@CC="$(CC)" sh tests/run.sh $(TESTS)

.PHONY: test-build
test-build: $(TESTS) lib

test-valgrind: check-cmocka
	@$(MAKE) --no-print-directory $(TESTS:$(B)/tests/%=$(B)/vg-tests/%) lib
	@VALGRIND=1 CC="$(CC)" sh tests/run.sh $(TESTS:$(B)/tests/%=$(B)/vg-tests/%)

$(B)/vg-tests/%: tests/%.c $(LIB_SRC) $(TEST_SUPPORT) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(FEATURES) -O1 -g -D_DEFAULT_SOURCE -DWS6455_BUILDING -Iinclude -Isrc -Itests/support $< $(TEST_SUPPORT) $(LIB_SRC) -o $@ -lcmocka $(LIB_LDLIBS)

# ---- install
install: lib
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/ws6455.h $(DESTDIR)$(INCLUDEDIR)/ws6455.h
	install -m 644 $(B)/libws6455.a $(DESTDIR)$(LIBDIR)/libws6455.a
	install -m 755 $(B)/libws6455.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libws6455.so.$(VERSION)
	ln -sf libws6455.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libws6455.so.$(SOMAJOR)
	ln -sf libws6455.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libws6455.so
	$(PC_SED) > $(DESTDIR)$(PKGCONFIGDIR)/ws6455.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/ws6455.h $(DESTDIR)$(LIBDIR)/libws6455.a \
	      $(DESTDIR)$(LIBDIR)/libws6455.so $(DESTDIR)$(LIBDIR)/libws6455.so.$(SOMAJOR) \
	      $(DESTDIR)$(LIBDIR)/libws6455.so.$(VERSION) $(DESTDIR)$(PKGCONFIGDIR)/ws6455.pc

# Every 4-byte sequence (2^32) through the UTF-8 validator against an
# independent reference, through every variant the machine can run:
# minutes, not seconds, so not part of make test.
.PHONY: test-exhaustive
test-exhaustive:
	@mkdir -p $(B)
	$(CC) -std=c11 -O2 -pthread -Iinclude -Isrc -Itests/support tests/exhaustive_utf8.c \
	    src/utf8.c src/utf8_x86.c src/utf8_neon.c -o $(B)/exhaustive_utf8
	$(B)/exhaustive_utf8

-include bench/bench.mk
-include examples/examples.mk
-include fuzz/fuzz.mk

format:
	clang-format -i include/*.h src/*.c src/*.h tests/*.c

clean:
	rm -rf $(B)
