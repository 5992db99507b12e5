# Thin targets over CMake. See README.md.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
BUILD_BENCH ?= build-bench
JOBS       ?= $(shell nproc)
CONFIG     ?= examples/default.yaml
CMAKE_GEN  := -G Ninja

PREFIX     ?= /usr/local
DESTDIR    ?=

.PHONY: all build deps run test test-unit test-asan test-fuzz fuzz lint format bench clean install deb
.PHONY: bench-check bench-baseline

all: build

deps:
	@./scripts/deps.sh

build:
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTF_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# make install [PREFIX=/usr/local] [DESTDIR=staging root]: README.md, Install.
install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# Debian package from the install tree: $(BUILD)/deb/otflow_VERSION_ARCH.deb
deb: build
	@./scripts/make-deb.sh $(BUILD) $(BUILD)/deb

run: deps build
	@./scripts/run.sh $(BUILD) $(CONFIG)

test: deps build lint test-unit test-asan test-fuzz
	@echo "make test: all suites passed"

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	@CC=clang cmake -S . -B $(BUILD_ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DOTF_SANITIZE=ON -DOTF_WERROR=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	@cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test-fuzz:
	@CC=clang cmake -S . -B $(BUILD_FUZZ) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DOTF_FUZZ=ON -DOTF_TESTS=OFF -DOTF_WERROR=ON -DOTF_FUZZ_SEED=1 -DOTF_FUZZ_TIME=20 >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS)
	@cd $(BUILD_FUZZ) && ctest --output-on-failure -j $(JOBS)

# Longer fuzzing with random seeds (not part of make test): FUZZ_TIME
# seconds per target; the corpus each run grows stays in $(BUILD_FUZZ).
FUZZ_TIME ?= 300
fuzz:
	@CC=clang cmake -S . -B $(BUILD_FUZZ) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DOTF_FUZZ=ON -DOTF_TESTS=OFF -DOTF_WERROR=ON -DOTF_FUZZ_SEED=0 \
		-DOTF_FUZZ_TIME=$(FUZZ_TIME) >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS)
	@cd $(BUILD_FUZZ) && ctest --output-on-failure -j $(JOBS)

lint:
	@./scripts/lint.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

bench: deps
	@cmake -S . -B $(BUILD_BENCH) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DOTF_BENCH=ON \
		-DOTF_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_BENCH) -j $(JOBS)
	@./bench/run.sh $(BUILD_BENCH)

# Regression check (not part of make test): short codec and pipeline runs,
# each figure a ratio against a reference from the same run, compared with
# the baseline block of docs/benchmarks.md; fails when one is > 25% worse.
# bench-baseline writes this machine's run as the new baseline.
bench-check bench-baseline: deps
	@cmake -S . -B $(BUILD_BENCH) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DOTF_BENCH=ON \
		-DOTF_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_BENCH) -j $(JOBS)
	@./bench/check.sh $(BUILD_BENCH) $(if $(filter bench-baseline,$@),--update)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(BUILD_BENCH)
