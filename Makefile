# The two entry commands. Each installs what is missing (Debian packages, the Kafka broker jars),
# starts the local PostgreSQL and Kafka (or uses TRIAGE_PG_DSN / TRIAGE_KAFKA_BROKERS), builds and runs.
# Each set-up phase prints one line; the full logs are under .local/logs/.
BUILD_DIR ?= build
SERVICES := deploy/local/services
TRIAGE := $(BUILD_DIR)/src/app/triage
# Tests run in parallel, but the integration tests (label `integration`) hold ctest's
# RESOURCE_LOCK `services` (tests/CMakeLists.txt), so they take the services one at a time.
CTEST_JOBS ?= 2

.PHONY: demo demo-local test chaos build deps deps-llama services services-llama services-down clean \
  fuzz test-sanitize test-asan test-tsan

deps:
	@deploy/local/install-deps

# The real local model (docs/providers.md, "A real local model"): llama-server built from source
# and SmolLM2-135M's weights, cached under .local/llama/; then the server, started on request.
deps-llama:
	@deploy/local/install-deps llama

services-llama: deps-llama
	@$(SERVICES) up-llama

# configure DIR EXTRA-ARGS: cmake into DIR, its log shown only when it fails (ninja reports its
# own progress). clang: GCC 12 destroys temporaries in co_await expressions twice (GCC bug 99576).
CMAKE_LOG = .local/logs/cmake-$(notdir $(1)).log
define configure
	@mkdir -p .local/logs
	@cmake -S . -B $(1) -G Ninja -DCMAKE_CXX_COMPILER=clang++-16 $(2) >$(CMAKE_LOG) 2>&1 || \
	  { tail -n 30 $(CMAKE_LOG); echo "cmake failed; full log: $(CMAKE_LOG)"; exit 1; }
endef
# The services' addresses, as the tests read them.
TEST_ENV = eval "$$($(SERVICES) env)" && \
  TRIAGE_TEST_PG_DSN="$$TRIAGE_PG_DSN" TRIAGE_TEST_KAFKA_BROKERS="$$TRIAGE_KAFKA_BROKERS" \
  TRIAGE_TEST_LLAMA_URL="$$TRIAGE_LLAMA_URL" \
  TRIAGE_TEST_PG_RESTART="$${TRIAGE_TEST_PG_RESTART:-$(CURDIR)/$(SERVICES) restart-postgres}"

build: deps
	@echo "build: cmake and ninja in $(BUILD_DIR)/"
	$(call configure,$(BUILD_DIR),)
	@cmake --build $(BUILD_DIR)

services: deps
	@$(SERVICES) up

services-down:
	@$(SERVICES) down

# The llama test (label `llama`) runs on the real local model: `make test` builds and starts it.
# After the normal suite the same suites run under AddressSanitizer + UBSan (test-asan below;
# docs/reliability.md, "CI", has the time it adds); TEST_ASAN=0 skips them.
TEST_ASAN ?= 1
test: build services services-llama
	@$(TEST_ENV) ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(CTEST_JOBS) --timeout 600
ifeq ($(TEST_ASAN),1)
	@$(MAKE) --no-print-directory test-asan
endif

# Sanitizer and fuzz builds (docs/reliability.md, "Fuzzing and sanitizers"), each in a build dir
# of its own: instrumented objects never mix with $(BUILD_DIR)'s.
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
FUZZ_DIR ?= build-fuzz
# The suites under ThreadSanitizer, the io_context on this many threads.
TSAN_TESTS ?= pipeline_test worker_test restart_test
TSAN_IO_THREADS ?= 4
# Every finding fails the run; leak checks stay on under ASan. Reports name source lines when an
# llvm-symbolizer is installed (any LLVM version reads clang-16's line tables).
SYMBOLIZER := $(firstword $(wildcard /usr/lib/llvm-16/bin/llvm-symbolizer /usr/lib/llvm-*/bin/llvm-symbolizer))
SAN_ENV := ASAN_SYMBOLIZER_PATH=$(SYMBOLIZER) \
  ASAN_OPTIONS=detect_stack_use_after_return=0:abort_on_error=0 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  TSAN_OPTIONS=suppressions=$(CURDIR)/tests/tsan.supp:halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0:external_symbolizer_path=$(SYMBOLIZER)
# The unit and integration suites under AddressSanitizer + UBSan.
test-asan: deps services services-llama
	@echo "test-asan: ASan+UBSan build in $(ASAN_DIR)/"
	$(call configure,$(ASAN_DIR),-DTRIAGE_SANITIZE=address)
	@cmake --build $(ASAN_DIR)
	@$(TEST_ENV) $(SAN_ENV) ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(CTEST_JOBS) --timeout 1200

# The concurrency-heavy suites under ThreadSanitizer, with several io threads. `setarch -R`: clang
# 16's TSan runtime cannot map its shadow memory under this kernel's address-space randomisation.
test-tsan: deps services
	@echo "test-tsan: TSan build of $(TSAN_TESTS) in $(TSAN_DIR)/, $(TSAN_IO_THREADS) io threads"
	$(call configure,$(TSAN_DIR),-DTRIAGE_SANITIZE=thread -DTRIAGE_TEST_PARTS=none)
	@cmake --build $(TSAN_DIR) --target $(TSAN_TESTS)
	@$(TEST_ENV) && for t in $(TSAN_TESTS); do \
	  echo "test-tsan: $$t"; \
	  $(SAN_ENV) TRIAGE_TEST_IO_THREADS=$(TSAN_IO_THREADS) \
	    setarch $$(uname -m) -R $(TSAN_DIR)/tests/integration/$$t \
	    --gtest_brief=1 || exit 1; \
	done

test-sanitize: test-asan test-tsan

# libFuzzer targets (tests/fuzz/), each run for FUZZ_SECONDS from its corpus. New inputs go to
# $(FUZZ_DIR)/corpus/; a crash stops the run and is left in $(FUZZ_DIR)/crashes/ -- fix it, add a
# unit test, and keep the input in tests/fuzz/corpus/<target>/, which every run replays first.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= fuzz_submission fuzz_envelope fuzz_math fuzz_extract fuzz_steps fuzz_confidence fuzz_url
fuzz: deps
	@echo "fuzz: libFuzzer build in $(FUZZ_DIR)/, $(FUZZ_SECONDS) s per target"
	$(call configure,$(FUZZ_DIR),-DTRIAGE_SANITIZE=address -DTRIAGE_FUZZ=ON -DTRIAGE_TEST_PARTS=none)
	@cmake --build $(FUZZ_DIR) --target $(FUZZ_TARGETS)
	@mkdir -p $(FUZZ_DIR)/crashes
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	  echo "fuzz: $$t"; \
	  $(SAN_ENV) $(FUZZ_DIR)/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/crashes/$$t- \
	    $(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t >$(FUZZ_DIR)/$$t.log 2>&1 || \
	    { tail -n 40 $(FUZZ_DIR)/$$t.log; echo "fuzz: $$t failed; log $(FUZZ_DIR)/$$t.log"; exit 1; }; \
	  grep -E '^stat::number_of_executed_runs|^Done' $(FUZZ_DIR)/$$t.log | tr '\n' ' '; echo; \
	done

demo: build services
	@eval "$$($(SERVICES) env)" && $(TRIAGE) migrate && $(TRIAGE) demo

# A small workload on the real local model (SmolLM2-135M on llama-server) beside the simulated
# reasoning model, and what the tiny model could and could not do.
demo-local: build services services-llama
	@eval "$$($(SERVICES) env)" && $(TRIAGE) migrate && $(TRIAGE) demo-local --llama-url "$$TRIAGE_LLAMA_URL"

# The full chaos run (tests/chaos/run.sh): 10,000 jobs through broker, database, process and
# webhook faults on a PostgreSQL and Kafka of its own; its report goes to docs/reliability.md.
# `make test` runs the small one (ctest: chaos_small). It never uses the services above: it
# starts its own on free ports.
CHAOS_BIN := $(BUILD_DIR)/tests/chaos
chaos: build
	@tests/chaos/run.sh --full --triage $(TRIAGE) --load $(CHAOS_BIN)/chaos_load \
	  --receiver $(CHAOS_BIN)/chaos_receiver --check $(CHAOS_BIN)/chaos_check \
	  --report docs/reliability.md

clean:
	rm -rf $(BUILD_DIR)
