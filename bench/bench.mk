# Benchmarks against wslay; included by the Makefile. Never part of `make test`.
#   make bench              the side-by-side table (about 20 s on 2 cores), then,
#                           when zlib is there, bench-deflate-node (about 30 s more;
#                           BENCH_DEFLATE=0 leaves it out)
#   make bench BENCH_ARGS='--case engine-bin64k --reps 9'   options of the binary (--help)
#   make bench-callgrind    instructions per byte and per message under callgrind
#                           (repeatable; BENCH_CALLGRIND_ARGS='--scale 0.05 --case codec-16')
#   make bench-deflate      permessage-deflate codec throughput and ratio per zlib
#                           level (bench/deflate/; always built with zlib, in its own
#                           objects; BENCH_DEFLATE_ARGS='--min-time 1')
#   make bench-deflate-node the same corpus through Node ws's PerMessageDeflate at the
#                           same level, window and memLevel: one table, ws6455/Node
#                           per message (bench/deflate/compare.sh; npm installs ws
#                           into build/bench/e2e/node; BENCH_DEFLATE_NODE_ARGS=
#                           '--levels 1,6 --min-time 0.3')
# See docs/performance.md and docs/deflate.md.
# The library sources are compiled here, into build/bench-obj/, with the
# flags `make lib` uses by default (-O2 -g, -fPIC, hidden visibility) -- with
# $(CPPFLAGS) $(CFLAGS) honoured but the optimisation level forced back to
# -O2 after them, so figures stay comparable, and never -march=native.

BENCH_OBJDIR := $(B)/bench-obj
BENCH_DIR    := $(B)/bench
BENCH_BIN    := $(BENCH_DIR)/ws6455-bench
BENCH_OBJ    := $(LIB_SRC:src/%.c=$(BENCH_OBJDIR)/%.o)
BENCH_LIB_CFLAGS = $(WARN) $(CPPFLAGS) $(FEATURES) $(CFLAGS) -O2 -g -fPIC -fvisibility=hidden -DWS6455_BUILDING -Iinclude -Isrc
BENCH_WSLAY_PKG = $(shell dpkg-query -W -f='$${Version}' libwslay1 2>/dev/null || echo unknown)
BENCH_CFLAGS = $(WARN) $(CPPFLAGS) $(FEATURES) $(CFLAGS) -O2 -g -Iinclude -Isrc -DBENCH_WSLAY_PKG='"$(BENCH_WSLAY_PKG)"'
BENCH_ARGS   ?=

.PHONY: bench bench-build bench-callgrind check-wslay bench-deflate bench-deflate-node

check-wslay:
	@CC="$(CC)" sh tests/ensure-package.sh wslay libwslay-dev -lwslay \
	    '#include <wslay/wslay.h>\nint main(void){return wslay_event_want_read(0) * 0;}'

BENCH_DEFLATE ?= 1
# zlib found: a program using it compiles and links (checked when run, not
# each time make reads this file).
ZLIB_PROBE = printf '\043include <zlib.h>\nint main(void){return !zlibVersion();}\n' | \
	    $(CC) $(CPPFLAGS) -x c - $(LDFLAGS) -o /dev/null -lz 2>/dev/null

bench: check-wslay
	@$(MAKE) --no-print-directory bench-build
	$(BENCH_BIN) $(BENCH_ARGS)
ifneq ($(BENCH_DEFLATE),0)
	@if $(ZLIB_PROBE); then $(MAKE) --no-print-directory bench-deflate-node; \
	else echo "bench: skipped the permessage-deflate comparison with Node ws (zlib not found: install zlib1g-dev)"; fi
endif

bench-build: $(BENCH_BIN)

bench-callgrind: check-wslay
	@$(MAKE) --no-print-directory bench-build
	@BENCH_BIN=$(BENCH_BIN) OUT=$(BENCH_DIR)/callgrind sh bench/callgrind.sh $(BENCH_CALLGRIND_ARGS)

$(BENCH_OBJDIR)/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_LIB_CFLAGS) -c $< -o $@

$(BENCH_BIN): bench/bench.c $(BENCH_OBJ) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) bench/bench.c $(BENCH_OBJ) $(LDFLAGS) -o $@ -lwslay $(LIB_LDLIBS)

# ---- end to end: echo servers under a loopback load generator (bench/e2e/)
#   make bench-e2e          echo_server, Node ws and a wslay echo server, 100
#                           connections, 16 B / 1 KiB, depth 1 / 16, then 10,000
#                           idle connections each (about 3 minutes)
#   make bench-e2e E2E_ARGS='--seconds 2 --idle 0'   options of bench/e2e/run.sh (--help)
#   make bench-e2e-idle E2E_IDLE_ARGS='-n 10000 ws6455'   the idle-memory run alone
# Results in build/bench/e2e/ (results.md, *.svg); see docs/performance.md.
E2E_DIR     := $(BENCH_DIR)/e2e
E2E_LOADGEN := $(E2E_DIR)/loadgen_e2e
E2E_WSLAY   := $(E2E_DIR)/wslay_echo
E2E_CFLAGS   = $(WARN) $(CPPFLAGS) $(CFLAGS) -O2 -g -D_DEFAULT_SOURCE
E2E_ARGS      ?=
E2E_IDLE_ARGS ?=

.PHONY: bench-e2e bench-e2e-build bench-e2e-idle

bench-e2e-build: $(E2E_LOADGEN) $(E2E_WSLAY) $(B)/examples/echo_server

bench-e2e: check-wslay
	@$(MAKE) --no-print-directory bench-e2e-build
	@CC="$(CC)" bash bench/e2e/run.sh $(E2E_ARGS)

bench-e2e-idle: check-wslay
	@$(MAKE) --no-print-directory bench-e2e-build
	@CC="$(CC)" bash bench/e2e/idle_rss.sh $(E2E_IDLE_ARGS)

$(E2E_LOADGEN): bench/e2e/loadgen_e2e.c
	@mkdir -p $(@D)
	$(CC) $(E2E_CFLAGS) $< -o $@

# ws6455 supplies only the Sec-WebSocket-Accept computation here.
$(E2E_WSLAY): bench/e2e/wslay_echo.c $(B)/libws6455.a include/ws6455.h
	@mkdir -p $(@D)
	$(CC) $(E2E_CFLAGS) -Iinclude $< -o $@ $(B)/libws6455.a $(LIB_LDLIBS) -lwslay

# The deflate bench needs src/deflate.c: it gets its own objects, always
# built with zlib (build/bench-obj-zlib/), so it runs from any make without
# a WITH_ZLIB=1 rebuild of everything else.
BENCH_DEFLATE_BIN := $(BENCH_DIR)/ws6455-bench-deflate
BENCH_DEFLATE_ARGS ?=
BENCH_DEFLATE_NODE_ARGS ?=
BENCH_Z_OBJDIR := $(B)/bench-obj-zlib
BENCH_Z_SRC := $(filter-out $(filter-out src/deflate.c,$(SKIPPED_SRC)),$(wildcard src/*.c))
BENCH_Z_OBJ := $(BENCH_Z_SRC:src/%.c=$(BENCH_Z_OBJDIR)/%.o)
BENCH_Z_FEATURES := $(filter-out -DWS6455_WITH_ZLIB,$(FEATURES)) -DWS6455_WITH_ZLIB
BENCH_Z_LIB_CFLAGS = $(WARN) $(CPPFLAGS) $(BENCH_Z_FEATURES) $(CFLAGS) -O2 -g -fPIC -fvisibility=hidden \
	-DWS6455_BUILDING -Iinclude -Isrc

bench-deflate: $(BENCH_DEFLATE_BIN)
	$(BENCH_DEFLATE_BIN) $(BENCH_DEFLATE_ARGS)

bench-deflate-node: $(BENCH_DEFLATE_BIN)
	@bash bench/deflate/compare.sh $(BENCH_DEFLATE_BIN) $(BENCH_DEFLATE_NODE_ARGS)

$(BENCH_Z_OBJDIR)/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_Z_LIB_CFLAGS) -c $< -o $@

$(BENCH_DEFLATE_BIN): bench/deflate/bench_deflate.c $(BENCH_Z_OBJ) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(BENCH_Z_FEATURES) $(CFLAGS) -O2 -g -Iinclude -Isrc \
	    bench/deflate/bench_deflate.c $(BENCH_Z_OBJ) $(LDFLAGS) -o $@ -lz
