# Thin wrapper over CMake. `make demo` and `make test` do all set-up on a
# fresh Debian 12 machine: missing Debian packages are installed first.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all deps build build-asan demo test test-fast bench clean install

all: build

deps:
	@sh .ci/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD_SAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DWEIR_SANITIZE=ON $(CMAKE_ARGS)

build-asan: deps $(BUILD_SAN)/CMakeCache.txt
	cmake --build $(BUILD_SAN) -j $(JOBS)

demo: build
	@sh config/demo.sh $(BUILD)/weir

# Every test in the normal build, then unit and integration tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer.
test: build build-asan
	ctest --test-dir $(BUILD) --output-on-failure -j 2
	ctest --test-dir $(BUILD_SAN) --output-on-failure -L 'unit|integration'

test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -L unit

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
