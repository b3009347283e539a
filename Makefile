# The two commands of the quick start: `make run` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
CONFIG ?= config/tocsin.yaml

.PHONY: all deps configure build run test bench format clean

all: build

deps:
	scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/broker/tocsin serve --config $(CONFIG)

# playwright-core for the browser tests, from the lock file (npm's registry).
tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund

test: build tests/browser/node_modules/.package-lock.json
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600

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
	rm -rf $(BUILD)
