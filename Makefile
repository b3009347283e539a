# The two commands of the quick start: `make run` and `make test`; and `make deb`, the package.
BUILD ?= build
JOBS ?= $(shell nproc)
CONFIG ?= config/tocsin.yaml

.PHONY: all build run test fuzz deb bench format clean

all: build

# What building and running need only (no browser, no test tools: this may be a server).
build:
	scripts/install-deps --runtime --build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/broker/tocsin serve --config $(CONFIG)

# playwright-core for the browser tests, from the lock file (npm's registry).
tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund

# The tests' own packages first (Catch2, the servers and clients they test against), so that the
# build that follows configures the tests in.
test:
	scripts/install-deps --runtime --build --test
	$(MAKE) build
	$(MAKE) tests/browser/node_modules/.package-lock.json
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600

# libFuzzer targets (tests/fuzz), built apart with clang and ASan+UBSan, each run for
# FUZZ_SECONDS (default 60); CI runs each for fixed executions from seed 1 (FUZZ_CI=1).
FUZZ_BUILD ?= build-fuzz
fuzz:
	scripts/install-deps --fuzz
	cmake -S tests/fuzz -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++-15 -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	tests/fuzz/run $(FUZZ_BUILD)

# The Debian package: $(BUILD)/tocsin_VERSION_ARCH.deb (apt install ./build/tocsin_*.deb).
deb: build
	cd $(BUILD) && cpack -G DEB

bench: build
	scripts/install-deps --bench
	$(BUILD)/bench/matcher
	bench/run-ingest
	bench/run-storm
	bench/run-dispatch
	$(BUILD)/bench/deliveries --recipients 100000 --reports-per-second 2000
	bench/run-http

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
