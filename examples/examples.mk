# Examples and interop tests; included by the main Makefile.
#   make examples     build/examples/{echo_server,ws_client,chat_server[,wss_client][,uv_echo]}
#   make run          build and start echo_server (RUN_ARGS="--port 9002 --verbose")
#   make interop      examples against Node ws, Python websockets, Chromium,
#                     Firefox, plus a 1,000-connection load check
#                     (INTEROP="node python ..." runs a subset; see tests/interop/run.sh)
#   make chat-test    unit tests of chat_server's modules (ASan + UBSan), and its
#                     Redis layer against a redis-server it starts (when installed)
#   make chat-bench   server CPU per chat message with 10 and 10,000 idle connections

# The Makefile's WARN (-Werror with WERROR=1), then the packager's flags.
EX_CFLAGS = $(WARN) $(CPPFLAGS) $(CFLAGS) -Iinclude
EX_LIB := $(B)/libws6455.a
EX_BIN := $(B)/examples
EXAMPLES := $(EX_BIN)/echo_server $(EX_BIN)/ws_client $(EX_BIN)/chat_server

# wss_client needs OpenSSL's headers (Debian: libssl-dev); skipped without.
HAVE_OPENSSL := $(shell pkg-config --exists openssl 2>/dev/null && echo 1)
ifeq ($(HAVE_OPENSSL),1)
EXAMPLES += $(EX_BIN)/wss_client
OPENSSL_CFLAGS := $(shell pkg-config --cflags openssl)
OPENSSL_LIBS := $(shell pkg-config --libs openssl)
endif

# chat_server's modules. The Redis layer needs hiredis (Debian:
# libhiredis-dev); without it chat_server is built without --redis.
HAVE_HIREDIS := $(shell pkg-config --exists hiredis 2>/dev/null && echo 1)
CHAT_CORE := examples/chat_hub.c examples/chat_map.c examples/chat_json.c examples/chat_log.c \
             examples/chat_loop.c examples/chat_timers.c
CHAT_REDIS := examples/chat_cluster.c examples/chat_redis_ev.c
CHAT_HDRS := $(wildcard examples/chat_*.h)
ifeq ($(HAVE_HIREDIS),1)
HIREDIS_LIBS := $(shell pkg-config --libs hiredis)
endif

# echo_server --io-uring needs liburing (Debian: liburing-dev); built
# without it, the option says so and echo_server runs on epoll.
HAVE_LIBURING := $(shell pkg-config --exists liburing 2>/dev/null && echo 1)
ifeq ($(HAVE_LIBURING),1)
URING_CFLAGS := -DECHO_HAVE_URING $(shell pkg-config --cflags liburing)
URING_LIBS := $(shell pkg-config --libs liburing)
endif

# uv_echo needs libuv (Debian: libuv1-dev); skipped without.
HAVE_LIBUV := $(shell pkg-config --exists libuv 2>/dev/null && echo 1)
ifeq ($(HAVE_LIBUV),1)
EXAMPLES += $(EX_BIN)/uv_echo
LIBUV_CFLAGS := $(shell pkg-config --cflags libuv)
LIBUV_LIBS := $(shell pkg-config --libs libuv)
endif

INTEROP_BIN := $(B)/interop
INTEROP_TOOLS := $(INTEROP_BIN)/client_matrix $(INTEROP_BIN)/loadgen
INTEROP_TOOLS += $(INTEROP_BIN)/chat_load
# Attack clients and servers for the examples-under-attack sections.
INTEROP_TOOLS += $(INTEROP_BIN)/attack

examples: $(EXAMPLES)
ifneq ($(HAVE_OPENSSL),1)
	@echo "examples: skipped wss_client (OpenSSL not found by pkg-config; install libssl-dev)"
endif
ifneq ($(HAVE_HIREDIS),1)
	@echo "examples: built chat_server without Redis support (--redis): hiredis not found by pkg-config; install libhiredis-dev"
endif
ifneq ($(HAVE_LIBURING),1)
	@echo "examples: echo_server built without --io-uring (liburing not found by pkg-config; install liburing-dev)"
endif
ifneq ($(HAVE_LIBUV),1)
	@echo "examples: skipped uv_echo (libuv not found by pkg-config; install libuv1-dev)"
endif

# Linked into the programs below: socket helpers (net), and what ws_client
# and wss_client share (client_common). Compiled with each program: they are
# small, and each program then builds from one command.
EX_NET := examples/net.c examples/net.h
# The --deflate options (echo servers, clients, chat_server).
EX_DEFLATE := examples/deflate_opts.c examples/deflate_opts.h
EX_CLIENT := examples/client_common.c examples/client_common.h $(EX_NET) $(EX_DEFLATE)
EX_SRCS = $(filter %.c,$^)
# What echo_server's loops and uv_echo share (options, heap, EMFILE reserve).
EX_ECHO := examples/echo_common.c examples/echo_common.h $(EX_NET) $(EX_DEFLATE)

$(EX_BIN)/echo_server: examples/echo_server.c examples/echo_uring.c examples/echo_uring.h \
		$(EX_ECHO) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $(URING_CFLAGS) -pthread $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS) $(URING_LIBS)

$(EX_BIN)/uv_echo: examples/uv_echo.c $(EX_ECHO) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $(LIBUV_CFLAGS) $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS) $(LIBUV_LIBS)

$(EX_BIN)/ws_client: examples/ws_client.c $(EX_CLIENT) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS)

# chat_server: the program (chat_server, chat_http, chat_ws) on the modules
# (CHAT_CORE), plus the Redis layer when hiredis is there.
CHAT_PROG := examples/chat_server.c examples/chat_http.c examples/chat_ws.c
ifeq ($(HAVE_HIREDIS),1)
CHAT_PROG += $(CHAT_REDIS)
CHAT_PROG_CFLAGS := -DCHAT_WITH_REDIS
endif
$(EX_BIN)/chat_server: $(CHAT_PROG) $(CHAT_CORE) $(CHAT_HDRS) $(EX_NET) $(EX_DEFLATE) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $(CHAT_PROG_CFLAGS) $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS) $(HIREDIS_LIBS)

$(EX_BIN)/wss_client: examples/wss_client.c $(EX_CLIENT) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $(OPENSSL_CFLAGS) $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS) $(OPENSSL_LIBS)

$(INTEROP_BIN)/%: tests/interop/%.c $(EX_NET) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -Iexamples $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS)

# The attack tool runs its floods in threads.
$(INTEROP_BIN)/attack: tests/interop/attack.c $(EX_NET) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -Iexamples -pthread $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS)

RUN_ARGS ?=
run: $(EX_BIN)/echo_server
	$(EX_BIN)/echo_server $(RUN_ARGS)

# ---- chat_server's module tests (cmocka, sanitizers), one per module
CHAT_TEST_BIN := $(B)/chat-tests
CHAT_UNIT := json log timers map hub
CHAT_TESTS := $(CHAT_UNIT:%=$(CHAT_TEST_BIN)/test_chat_%)
ifeq ($(HAVE_HIREDIS),1)
CHAT_TESTS += $(CHAT_TEST_BIN)/test_chat_cluster
endif
CHAT_TEST_CFLAGS := $(EX_CFLAGS) -O1 -g $(SAN) -Iexamples

$(CHAT_TEST_BIN)/test_chat_%: tests/interop/chat/test_chat_%.c $(CHAT_CORE) $(CHAT_HDRS) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CHAT_TEST_CFLAGS) $< $(CHAT_CORE) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS) -lcmocka

$(CHAT_TEST_BIN)/test_chat_cluster: tests/interop/chat/test_chat_cluster.c $(CHAT_CORE) $(CHAT_REDIS) $(CHAT_HDRS) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CHAT_TEST_CFLAGS) $< $(CHAT_CORE) $(CHAT_REDIS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS) \
	    $(HIREDIS_LIBS)

.PHONY: chat-test chat-bench
chat-bench: $(EX_BIN)/chat_server $(INTEROP_BIN)/chat_load
	@bash tests/interop/chat_bench.sh

chat-test: check-cmocka
	@$(MAKE) --no-print-directory $(CHAT_TESTS)
	@bash tests/interop/chat/run_unit.sh $(CHAT_TEST_BIN)

INTEROP ?=
interop: examples $(INTEROP_TOOLS) $(CHAT_TESTS)
	@bash tests/interop/run.sh $(INTEROP)
