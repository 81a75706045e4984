# Thin wrapper over CMake. `make demo` and `make test` do all set-up on a
# fresh Debian 12 machine: missing Debian packages are installed first.
BUILD       ?= build
BUILD_SAN   ?= build-asan
BUILD_TSAN  ?= build-tsan
BUILD_BENCH ?= build-bench
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS  ?=
KAFKA_DIR   ?= $(CURDIR)/$(BUILD)/kafka-test

.PHONY: all deps deps-kafka build build-asan build-tsan demo test test-fast test-tsan stress bench clean install package

all: build

deps:
	@sh .ci/install-deps.sh

deps-kafka:
	@sh .ci/install-deps.sh kafka

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD_SAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DWEIR_SANITIZE=ON $(CMAKE_ARGS)

build-asan: deps $(BUILD_SAN)/CMakeCache.txt
	cmake --build $(BUILD_SAN) -j $(JOBS)

$(BUILD_TSAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEIR_TSAN=ON $(CMAKE_ARGS)

build-tsan: deps $(BUILD_TSAN)/CMakeCache.txt
	cmake --build $(BUILD_TSAN) -j $(JOBS)

demo: build
	@sh config/demo.sh $(BUILD)/weir

# 1. unit, integration and CLI tests; 2. the end-to-end tests on `weir
# broker` and, side by side with them, on two real Kafka brokers (one for
# the tests that stop or freeze it; WEIR_TEST_KAFKA=skip skips, loudly;
# tests/e2e/both-brokers.sh);
# 4. unit and integration again under AddressSanitizer + UBSan;
# 5. integration under ThreadSanitizer (test-tsan).
# The first and the sanitizer stages run TEST_JOBS tests at once: the tests
# wait (for a group's join, a session's end, a commit) far more than they
# compute, 42 s of CPU in the first stage's 272 s at two at a time; at six
# the three stages took 90 s, 117 s and 114 s instead of 272, 259 and 248
# on 2 cores.
TEST_JOBS ?= 6
test: deps-kafka build build-asan
	ctest --test-dir $(BUILD) --output-on-failure -j $(TEST_JOBS) -LE e2e
	sh tests/e2e/both-brokers.sh $(BUILD) $(KAFKA_DIR)
	ctest --test-dir $(BUILD_SAN) --output-on-failure -j $(TEST_JOBS) -L 'unit|integration'
	$(MAKE) test-tsan

# The in-process integration tests under ThreadSanitizer: any race in
# weir's code fails the run (only races inside librdkafka and RocksDB are
# suppressed, tests/tsan.supp).
test-tsan: build-tsan
	TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp:halt_on_error=1:second_deadlock_stack=1" \
	  ctest --test-dir $(BUILD_TSAN) --output-on-failure -j $(TEST_JOBS) -L integration

test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -L unit

# Flaky-test hunt (not part of `make test`): the labels in LABELS, each
# test REPEAT times (until one fails), with one core kept busy by
# stress-ng --cpu 1 (or a shell busy loop); LOAD=none runs without it.
LABELS ?= integration|e2e
REPEAT ?= 10
stress: build
	LABELS='$(LABELS)' REPEAT='$(REPEAT)' sh tests/stress.sh $(BUILD)

# Benchmarks (not part of `make test`): on a real Kafka broker and on
# `weir broker`; writes tests/bench/RESULTS.md and the README's table.
bench: deps-kafka
	cmake -S . -B $(BUILD_BENCH) -DCMAKE_BUILD_TYPE=Release -DWEIR_BENCH=ON -DWEIR_TESTS=OFF $(CMAKE_ARGS)
	cmake --build $(BUILD_BENCH) -j $(JOBS)
	sh tests/bench/run.sh $(BUILD_BENCH)

install: build
	cmake --install $(BUILD)

# Debian packages weir and libweir-dev in $(BUILD)/packages (CPack DEB).
package: build
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_TSAN) $(BUILD_BENCH)
