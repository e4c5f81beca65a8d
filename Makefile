# Fjord: one GNU Makefile, no configure.
#
#   make            build build/fjord
#   make run        install what is missing, build, serve on localhost:9092 (data in ./data)
#   make test       install what is missing, build, run every test (unit + integration) under
#                   ASan + UBSan, then a short run of each fuzz target
#   make tsan       ThreadSanitizer build: unit tests + produce/fetch/durability integration
#   make test-fast  the same tests on the plain build, no sanitizers, no fuzzing
#   make unit       unit tests only
#   make SANITIZE=address,undefined test    the same under ASan + UBSan (build-san/)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (30) with its corpus
#   make gen        regenerate the protocol codec from ../shared/kafka-protocol
#   make format     clang-format every source file
#   make lint       banned functions
#   DEVELOPER=1     -Werror

CC ?= cc
PYTHON ?= python3
SHARED ?= ../shared

ifeq ($(SANITIZE),thread)
BUILD ?= build-tsan
SANFLAGS = -fsanitize=thread -fno-omit-frame-pointer
else ifdef SANITIZE
BUILD ?= build-san
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS =
endif

WARN = -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifdef DEVELOPER
WARN += -Werror
endif
OPT ?= -O2
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) $(SANFLAGS) -Isrc -MMD -MP $(CFLAGS)
LDLIBS_ALL = -lpthread -ljansson -lmicrohttpd -lz -lsnappy -llz4 -lzstd -lrdkafka -lm $(LDLIBS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

LIB_SRCS := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/main.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all run test test-fast tsan unit gen format lint clean deps fuzz
.SECONDARY:
all: $(BUILD)/fjord $(UNIT_BINS) $(BENCH_BINS)

ifndef V
Q = @
E = @echo
else
Q =
E = @:
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(E) "  CC $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/libfjord.a: $(LIB_OBJS)
	@rm -f $@
	$(E) "  AR $@"
	$(Q)ar rcs $@ $^

$(BUILD)/fjord: $(MAIN_OBJ) $(BUILD)/libfjord.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/unit/unit.o $(BUILD)/libfjord.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/libfjord.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# Fuzzing: libFuzzer targets in tests/fuzz/, built with clang against the
# parsing modules (base, proto) compiled with the fuzzer's instrumentation.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_FLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB_SRCS := $(sort $(wildcard src/base/*.c src/proto/*.c src/proto/gen/*.c))
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=build-fuzz/%.o)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))

build-fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(E) "  CC (fuzz) $<"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	$(E) "  LD (fuzz) $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ -lz -lsnappy -llz4 -lzstd

fuzz: $(FUZZ_BINS)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

deps:
	@scripts/deps.sh

run: deps
	$(MAKE) $(BUILD)/fjord
	$(BUILD)/fjord server $(if $(CONFIG),-c $(CONFIG),)

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

# The full suite runs against the AddressSanitizer + UBSan build (every test,
# integration included), then each fuzz target for TEST_FUZZ_SECONDS.
TEST_FUZZ_SECONDS ?= 15
test: deps
	$(MAKE) all SANITIZE=address,undefined
	$(MAKE) $(FUZZ_BINS)
	@BUILD=build-san FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) scripts/run-tests.sh

# ThreadSanitizer over the threaded parts: the unit tests and the integration
# tests that drive produce/fetch with group commit on worker threads. The
# librdkafka-based client tools are left out: Debian's librdkafka is not
# built with TSan, and its threads crash under TSan's runtime.
tsan: deps
	$(MAKE) all SANITIZE=thread
	@BUILD=build-tsan FJORD_TEST_FILTER="$(or $(FJORD_TEST_FILTER),(produce or fetch or durability or retention or compaction) and not cli and not loadgen)" \
		TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" scripts/run-tests.sh

# The same tests on the plain optimised build, without sanitizers or fuzzing.
test-fast: deps
	$(MAKE) all
	@BUILD=$(BUILD) scripts/run-tests.sh

gen:
	$(PYTHON) tools/kgen.py --schema $(SHARED)/kafka-protocol/schema \
		--old-schema $(SHARED)/kafka-protocol/schema-3.9 --out src/proto/gen

format:
	clang-format -i $$(find src tests bench tools -name '*.[ch]' -not -path 'src/proto/gen/*')

lint:
	@! grep -nE '\b(strcpy|strcat|strncpy|sprintf|vsprintf|strtok|gets|atoi)\s*\(' \
		$$(find src tests bench -name '*.[ch]' -not -name banned.h) || \
		(echo "banned function used (see src/base/banned.h)"; exit 1)

clean:
	rm -rf build build-san build-tsan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
