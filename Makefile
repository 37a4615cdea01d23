# sonde - build, run, test, lint, sanitize, benchmark.
#
#   make run     build (installing missing Debian packages as root) and start
#                the agent on its embedded default configuration
#   make check   build and run every test, unit and integration
#   make unit | integration | lint | asan | fuzz | valgrind | bench | clean

VERSION    := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
BUILD      ?= build
CC         ?= cc
PKGS       := libmicrohttpd yaml-0.1 zlib libcrypt gnutls
CFLAGS_STD := -std=c11 -D_GNU_SOURCE -Iinclude -Icollector -DSONDE_VERSION='"$(VERSION)"'
WARN       := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wno-format-nonliteral -Wvla -Wpointer-arith -Wundef \
              -Wno-missing-field-initializers
OPT        ?= -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fno-strict-aliasing
SAN        ?=
CFLAGS     ?=
ALL_CFLAGS  = $(CFLAGS_STD) $(WARN) $(OPT) $(SAN) $(CFLAGS) \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS      = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
CHECK_LIBS  = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm)

# Debian packages the build and the tests need; `make deps` installs the
# missing ones when run as root.
BUILD_DEBS := build-essential pkg-config libmicrohttpd-dev libyaml-dev zlib1g-dev check \
              libcrypt-dev libgnutls28-dev
TEST_DEBS  := prometheus-node-exporter prometheus influxdb influxdb-client curl valgrind \
              clang-format python3
BENCH_DEBS := wrk collectd-core hyperfine prometheus-node-exporter valgrind

CORE_SRC    := $(filter-out collector/main.c collector/registry.c,$(wildcard collector/*.c))
PLUGIN_SRC  := $(wildcard plugins/*.c) collector/registry.c
CORE_OBJ    := $(CORE_SRC:%.c=$(BUILD)/%.o) $(BUILD)/collector/default_config.o
PLUGIN_OBJ  := $(PLUGIN_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC    := $(wildcard tests/unit/check_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run check unit integration lint format asan fuzz valgrind bench deb clean deps \
        deps-test deps-bench
.DEFAULT_GOAL := all

all: $(BUILD)/sonde

# Installs what is missing (as root); otherwise only says what is missing.
deps:
	@sh tests/lib/ensure-debs.sh $(BUILD_DEBS)
deps-test: deps
	@sh tests/lib/ensure-debs.sh $(TEST_DEBS)
deps-bench: deps
	@sh tests/lib/ensure-debs.sh $(BENCH_DEBS)

$(BUILD)/%.o: %.c include/sonde.h $(wildcard collector/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The shipped default configuration is embedded in the binary.
$(BUILD)/collector/default_config.o: collector/default_config.S packaging/sonde.yaml
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -c $< -o $@

$(BUILD)/libsonde_core.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libsonde_plugins.a: $(PLUGIN_OBJ)
	@rm -f $@
	ar rcs $@ $^

LIBS_GROUP = -Wl,--start-group $(BUILD)/libsonde_plugins.a $(BUILD)/libsonde_core.a -Wl,--end-group

$(BUILD)/sonde: $(BUILD)/collector/main.o $(BUILD)/libsonde_plugins.a $(BUILD)/libsonde_core.a
	$(CC) $(OPT) $(SAN) -o $@ $< $(LIBS_GROUP) $(LDLIBS)

run: $(BUILD)/sonde
	./$(BUILD)/sonde

# Unit tests: one Check program per source. A plugin's test includes the
# plugin's .c file to reach its static parsers.
$(BUILD)/tests/check_%: tests/unit/check_%.c $(BUILD)/libsonde_plugins.a $(BUILD)/libsonde_core.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iplugins -Itests/unit -o $@ $< $(LIBS_GROUP) $(CHECK_LIBS) $(LDLIBS)

unit: $(UNIT_BIN)
	@sh tests/lib/run-unit.sh $(UNIT_BIN)

integration: $(BUILD)/sonde deps-test
	@sh tests/integration/run.sh $(BUILD)/sonde

check:
	@sh tests/lib/check.sh

lint:
	@sh tests/lib/ensure-debs.sh clang-format
	@sh tests/lib/lint.sh

format:
	clang-format -i include/*.h collector/*.[ch] plugins/*.c tests/unit/*.[ch]

asan:
	$(MAKE) BUILD=build-asan CC=gcc OPT='-O1 -g -fno-omit-frame-pointer' \
	  SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' unit

# libFuzzer harnesses (clang), FUZZ_SECONDS each.
fuzz:
	@sh tests/lib/ensure-debs.sh clang libclang-rt-14-dev
	$(MAKE) BUILD=build-fuzz CC=clang OPT='-O1 -g' \
	  SAN='-fsanitize=address,undefined,fuzzer-no-link' build-fuzz/libsonde_core.a \
	  build-fuzz/libsonde_plugins.a
	@sh tests/lib/fuzz.sh

valgrind: $(BUILD)/sonde
	@sh tests/lib/ensure-debs.sh valgrind curl
	@sh tests/lib/valgrind.sh $(BUILD)/sonde

bench: $(BUILD)/sonde deps-bench
	@sh bench/run.sh $(BUILD)/sonde

# The Debian package: packaging/debian, built with debhelper.
deb:
	@sh tests/lib/ensure-debs.sh debhelper devscripts lintian fakeroot
	@sh packaging/build-deb.sh

clean:
	rm -rf build build-asan build-fuzz
