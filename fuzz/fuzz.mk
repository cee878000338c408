# Fuzzing (included by the Makefile). See docs/security.md for the campaign
# record and fuzz/conn_driver.h for how the connection targets read input.
#
#   make fuzz FUZZ_SECONDS=N   build every target with clang + libFuzzer +
#                              ASan + UBSan into build/fuzz/ and run each for
#                              N seconds (default 60) over a copy of its
#                              corpus; fails on any crash or broken invariant
#   make fuzz-smoke            every target for FUZZ_SMOKE_SECONDS=20 (CI;
#                              make -j2 runs two at a time)
#   make fuzz-replay           plain $(CC) + ASan + UBSan replay binaries
#                              (fuzz/replay_main.c) run over fuzz/corpus/ and
#                              fuzz/regressions/
#   make fuzz-afl              the same targets built with afl-clang-fast
#   make fuzz-build            build the libFuzzer binaries only
#   make fuzz-run-one FUZZ_TARGET=conn_server FUZZ_SECONDS=N [FUZZ_JOBS=1]
#
# The committed corpus (fuzz/corpus/<target>/) is never written to: each run
# works on build/fuzz/corpus-work/<target>/, seeded from it (new inputs stay
# there; copy the interesting ones back by hand, named by sha1sum). Crash
# reproducers land in build/fuzz/artifacts/<target>/; once understood, keep
# them under fuzz/regressions/<target>/ so the replay and the cmocka test
# run them forever.

FUZZ_TARGETS := utf8 frame_header mask roundtrip handshake_server handshake_client url \
                conn_server conn_client deflate_negotiate
# The codec's target needs zlib: only in make WITH_ZLIB=1 (fuzz, fuzz-smoke,
# fuzz-replay, fuzz-afl alike).
ifeq ($(WITH_ZLIB),1)
FUZZ_TARGETS += inflate
endif
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZ_TARGET ?= conn_server
FUZZ_CC ?= clang
AFL_CC ?= afl-clang-fast
FZ := $(B)/fuzz
FUZZ_HDRS := $(wildcard fuzz/*.h) $(HDRS)
# $(CPPFLAGS) $(CFLAGS) are honoured; -g -O1 come after them (what the
# campaign figures in docs/security.md were measured with).
FUZZ_COMMON = $(WARN) $(CPPFLAGS) $(FEATURES) $(CFLAGS) -g -O1 -fno-omit-frame-pointer -DWS6455_BUILDING \
               -Iinclude -Isrc -Ifuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIBFUZZER_OBJ := $(LIB_SRC:src/%.c=$(FZ)/obj/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)
FUZZ_REPLAY_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz-replay/fuzz_%)
FUZZ_AFL_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz-afl/fuzz_%)
# Options for every libFuzzer run: a slow input is a finding too (10 s), and
# no run may take more than 2 GiB.
FUZZ_OPTS := -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-replay fuzz-afl fuzz-run-one

# Library objects instrumented for libFuzzer (coverage) and the sanitizers.
$(FZ)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_COMMON) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FZ)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIBFUZZER_OBJ) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_COMMON) $(FUZZ_SAN) -fsanitize=fuzzer $< $(FUZZ_LIBFUZZER_OBJ) $(LDFLAGS) -o $@ $(LIB_LDLIBS)

.SECONDARY: $(FUZZ_LIBFUZZER_OBJ)

fuzz-build: $(FUZZ_BINS)

# One target: seed the work corpus from the committed one (keeping what
# earlier runs found), run, keep the log. libFuzzer exits non-zero on a
# crash, a leak, a timeout or an out-of-memory; so does this rule.
define FUZZ_RUN_ONE
	@mkdir -p $(FZ)/corpus-work/$(1) $(FZ)/artifacts/$(1) $(FZ)/logs
	@if [ -d fuzz/corpus/$(1) ]; then cp -n fuzz/corpus/$(1)/* $(FZ)/corpus-work/$(1)/ 2>/dev/null || true; fi
	@echo "== fuzz $(1): $(2) s, $(FUZZ_JOBS) job(s)"
	@$(FZ)/fuzz_$(1) $(FUZZ_OPTS) -max_total_time=$(2) \
	    $(if $(filter-out 1,$(FUZZ_JOBS)),-fork=$(FUZZ_JOBS)) \
	    $(if $(wildcard fuzz/$(1).dict),-dict=fuzz/$(1).dict) \
	    -artifact_prefix=$(FZ)/artifacts/$(1)/ $(FZ)/corpus-work/$(1) \
	    > $(FZ)/logs/$(1).log 2>&1 \
	  || { tail -n 60 $(FZ)/logs/$(1).log; echo "FUZZ FAILURE in $(1): see $(FZ)/logs/$(1).log and $(FZ)/artifacts/$(1)/"; exit 1; }
	@printf '%s: ' '$(1)'; grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|DONE' $(FZ)/logs/$(1).log | tr '\n' ' '; echo
endef

fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    $(MAKE) --no-print-directory fuzz-run-one FUZZ_TARGET=$$t FUZZ_SECONDS=$(FUZZ_SECONDS); \
	done
	@echo "fuzz: all $(words $(FUZZ_TARGETS)) targets ran $(FUZZ_SECONDS) s each without a finding"

# The smoke run is one make rule per target, so make -j2 runs two at a time
# (CI does: half the wall time for the same fuzzing per target).
FUZZ_SMOKE_SECONDS ?= 20
fuzz-smoke: $(addprefix fuzz-smoke-,$(FUZZ_TARGETS))
	@echo "fuzz-smoke: all $(words $(FUZZ_TARGETS)) targets ran $(FUZZ_SMOKE_SECONDS) s each without a finding"

fuzz-smoke-%: $(FZ)/fuzz_%
	$(call FUZZ_RUN_ONE,$*,$(FUZZ_SMOKE_SECONDS))

fuzz-run-one: $(FZ)/fuzz_$(FUZZ_TARGET)
	$(call FUZZ_RUN_ONE,$(FUZZ_TARGET),$(FUZZ_SECONDS))

# ---- standalone replay binaries: plain $(CC), no libFuzzer
$(B)/fuzz-replay/fuzz_%: fuzz/fuzz_%.c fuzz/replay_main.c $(LIB_SRC) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(FUZZ_COMMON) $(FUZZ_SAN) $< fuzz/replay_main.c $(LIB_SRC) $(LDFLAGS) -o $@ $(LIB_LDLIBS)

fuzz-replay: $(FUZZ_REPLAY_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    dirs=""; for d in fuzz/corpus/$$t fuzz/regressions/$$t; do [ -d $$d ] && dirs="$$dirs $$d"; done; \
	    [ -n "$$dirs" ] || continue; \
	    printf '%-18s' "$$t"; $(B)/fuzz-replay/fuzz_$$t $$dirs; \
	done; echo "fuzz-replay: every corpus and regression input replayed cleanly"

# ---- AFL++: the same targets through afl-clang-fast. libFuzzer-style
# harnesses link AFL++'s driver (-fsanitize=fuzzer under afl-clang-fast).
fuzz-afl:
	@if ! command -v $(AFL_CC) >/dev/null 2>&1; then \
	    echo "fuzz-afl: $(AFL_CC) not found: AFL++ is not installed (apt-get install -y afl++)"; exit 1; fi
	@$(MAKE) --no-print-directory $(FUZZ_AFL_BINS)
	@echo "fuzz-afl: built $(B)/fuzz-afl/fuzz_*; run e.g."
	@echo "  AFL_SKIP_CPUFREQ=1 afl-fuzz -i fuzz/corpus/conn_server -o $(B)/fuzz-afl/out-conn_server -- $(B)/fuzz-afl/fuzz_conn_server"

$(B)/fuzz-afl/fuzz_%: fuzz/fuzz_%.c $(LIB_SRC) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	AFL_USE_ASAN=1 AFL_USE_UBSAN=1 AFL_QUIET=1 $(AFL_CC) $(FUZZ_COMMON) -fsanitize=fuzzer $< $(LIB_SRC) $(LDFLAGS) -o $@ $(LIB_LDLIBS)

# tests/test_hardening.c includes the connection driver, tests/test_deflate.c
# the counting allocator: rebuild them when fuzz/*.h changes.
$(B)/tests/test_hardening $(B)/vg-tests/test_hardening $(B)/tests/test_deflate \
    $(B)/vg-tests/test_deflate: $(wildcard fuzz/*.h)
