# The two entry commands. Each installs what is missing (Debian packages, the Kafka broker jars),
# starts the local PostgreSQL and Kafka (or uses TRIAGE_PG_DSN / TRIAGE_KAFKA_BROKERS), builds and runs.
# Each set-up phase prints one line; the full logs are under .local/logs/.
BUILD_DIR ?= build
SERVICES := deploy/local/services
TRIAGE := $(BUILD_DIR)/src/app/triage
# Tests run in parallel, but the integration tests (label `integration`) hold ctest's
# RESOURCE_LOCK `services` (tests/CMakeLists.txt), so they take the services one at a time.
CTEST_JOBS ?= 2

.PHONY: demo test chaos build deps services services-down clean

deps:
	@deploy/local/install-deps

# clang: GCC 12 destroys temporaries in co_await expressions twice (GCC bug 99576).
# The configure output goes to a log, shown only when it fails; ninja reports its own progress.
build: deps
	@echo "build: cmake and ninja in $(BUILD_DIR)/"
	@mkdir -p .local/logs
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_CXX_COMPILER=clang++-16 >.local/logs/cmake.log 2>&1 || \
	  { tail -n 30 .local/logs/cmake.log; echo "build: cmake failed; full log: .local/logs/cmake.log"; exit 1; }
	@cmake --build $(BUILD_DIR)

services: deps
	@$(SERVICES) up

services-down:
	@$(SERVICES) down

test: build services
	@eval "$$($(SERVICES) env)" && \
	  TRIAGE_TEST_PG_DSN="$$TRIAGE_PG_DSN" TRIAGE_TEST_KAFKA_BROKERS="$$TRIAGE_KAFKA_BROKERS" \
	  TRIAGE_TEST_PG_RESTART="$${TRIAGE_TEST_PG_RESTART:-$(CURDIR)/$(SERVICES) restart-postgres}" \
	  ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(CTEST_JOBS) --timeout 600

demo: build services
	@eval "$$($(SERVICES) env)" && $(TRIAGE) migrate && $(TRIAGE) demo

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
