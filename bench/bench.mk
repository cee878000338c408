# Benchmarks against wslay; included by the Makefile. Never part of `make test`.
#   make bench              the side-by-side table (about 20 s on 2 cores)
#   make bench BENCH_ARGS='--case engine-bin64k --reps 9'   options of the binary (--help)
#   make bench-callgrind    instructions per byte and per message under callgrind
#                           (repeatable; BENCH_CALLGRIND_ARGS='--scale 0.05 --case codec-16')
# See docs/performance.md.
# The library sources are compiled here, into build/bench-obj/, with the
# flags `make lib` uses by default (-O2 -g, -fPIC, hidden visibility) -- with
# $(CPPFLAGS) $(CFLAGS) honoured but the optimisation level forced back to
# -O2 after them, so figures stay comparable, and never -march=native.

BENCH_OBJDIR := $(B)/bench-obj
BENCH_DIR    := $(B)/bench
BENCH_BIN    := $(BENCH_DIR)/ws6455-bench
BENCH_OBJ    := $(LIB_SRC:src/%.c=$(BENCH_OBJDIR)/%.o)
BENCH_LIB_CFLAGS = $(WARN) $(CPPFLAGS) $(CFLAGS) -O2 -g -fPIC -fvisibility=hidden -DWS6455_BUILDING -Iinclude -Isrc
BENCH_WSLAY_PKG = $(shell dpkg-query -W -f='$${Version}' libwslay1 2>/dev/null || echo unknown)
BENCH_CFLAGS = $(WARN) $(CPPFLAGS) $(CFLAGS) -O2 -g -Iinclude -DBENCH_WSLAY_PKG='"$(BENCH_WSLAY_PKG)"'
BENCH_ARGS   ?=

.PHONY: bench bench-build bench-callgrind check-wslay

check-wslay:
	@CC="$(CC)" sh tests/ensure-package.sh wslay libwslay-dev -lwslay \
	    '#include <wslay/wslay.h>\nint main(void){return wslay_event_want_read(0) * 0;}'

bench: check-wslay
	@$(MAKE) --no-print-directory bench-build
	$(BENCH_BIN) $(BENCH_ARGS)

bench-build: $(BENCH_BIN)

bench-callgrind: check-wslay
	@$(MAKE) --no-print-directory bench-build
	@BENCH_BIN=$(BENCH_BIN) OUT=$(BENCH_DIR)/callgrind sh bench/callgrind.sh $(BENCH_CALLGRIND_ARGS)

$(BENCH_OBJDIR)/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_LIB_CFLAGS) -c $< -o $@

$(BENCH_BIN): $(wildcard bench/*.c) $(BENCH_OBJ) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(wildcard bench/*.c) $(BENCH_OBJ) $(LDFLAGS) -o $@ -lwslay $(LIB_LDLIBS)
