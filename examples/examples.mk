# Examples and interop tests; included by the main Makefile.
#   make examples     build/examples/{echo_server,ws_client,chat_server[,wss_client]}
#   make run          build and start echo_server (RUN_ARGS="--port 9002 --verbose")
#   make interop      examples against Node ws, Python websockets, Chromium,
#                     Firefox, plus a 1,000-connection load check
#                     (INTEROP="node python ..." runs a subset; see tests/interop/run.sh)

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

INTEROP_BIN := $(B)/interop
INTEROP_TOOLS := $(INTEROP_BIN)/client_matrix $(INTEROP_BIN)/loadgen

examples: $(EXAMPLES)
ifneq ($(HAVE_OPENSSL),1)
	@echo "examples: skipped wss_client (OpenSSL not found by pkg-config; install libssl-dev)"
endif

# Linked into the programs below: socket helpers (net), and what ws_client
# and wss_client share (client_common). Compiled with each program: they are
# small, and each program then builds from one command.
EX_NET := examples/net.c examples/net.h
EX_CLIENT := examples/client_common.c examples/client_common.h $(EX_NET)
EX_SRCS = $(filter %.c,$^)

$(EX_BIN)/echo_server: examples/echo_server.c $(EX_NET) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -pthread $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS)

$(EX_BIN)/ws_client: examples/ws_client.c $(EX_CLIENT) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS)

$(EX_BIN)/chat_server: examples/chat_server.c $(EX_NET) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS)

$(EX_BIN)/wss_client: examples/wss_client.c $(EX_CLIENT) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $(OPENSSL_CFLAGS) $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS) $(OPENSSL_LIBS)

$(INTEROP_BIN)/%: tests/interop/%.c $(EX_NET) $(EX_LIB) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -Iexamples $(EX_SRCS) $(LDFLAGS) -o $@ $(EX_LIB) $(LIB_LDLIBS)

RUN_ARGS ?=
run: $(EX_BIN)/echo_server
	$(EX_BIN)/echo_server $(RUN_ARGS)

INTEROP ?=
interop: examples $(INTEROP_TOOLS)
	@bash tests/interop/run.sh $(INTEROP)
