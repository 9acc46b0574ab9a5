# Two commands do everything on a fresh machine with Python 3.11:
#   make demo   - set up, generate the demo company, build and publish every closed month, print a summary
#   make test   - set up and run the whole test suite (what CI runs, via .ci/run)
#   make bench  - the scale benchmark (10k and 1k payees; see README "Benchmark")
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The venv's tools (dbt, dagster) first on PATH: `dagster dev` runs `dbt parse` through PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DAGSTER_HOME := $(CURDIR)
export SPM_DAGSTER_STORAGE_DIR := $(CURDIR)/.dagster_home
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup services demo test test-fast lint ui bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

# Installs exactly the locked versions, then the project itself, then parses the dbt project so Dagster
# finds a manifest (Dagster never parses dbt at import time outside `dagster dev`).
setup: $(BIN)/python
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	cd dbt_project && ../$(BIN)/dbt parse --quiet

# The PostgreSQL server binaries and a Java runtime for the engine-equivalence tests
# (tests/scenarios/test_postgres_equivalence.py starts and stops its own throw-away server;
# test_spark_equivalence.py runs a local Spark, which needs Java 17). Installed from Debian packages when missing.
services:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL server binaries missing: install the 'postgresql' package" >&2; fi
	@if command -v java >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	else echo "Java runtime missing (Spark target): install the 'openjdk-17-jre-headless' package" >&2; fi

demo: setup
	$(BIN)/spm demo

test: setup services
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check .

ui: setup
	$(BIN)/dagster dev -m orchestration.definitions

# The scale benchmark (README "Benchmark"): generates each size under data/bench/<size>/, runs the real pipeline
# step by step and writes docs/benchmarks.json and docs/benchmarks.md. Choose sizes / history with BENCH_ARGS,
# e.g. make bench BENCH_ARGS="--sizes 1k" or BENCH_ARGS="--sizes 10k --months 4".
BENCH_ARGS ?=
bench: setup
	$(BIN)/python -m orchestration.benchmark $(BENCH_ARGS)

clean:
	rm -rf data .dagster_home dbt_project/target dbt_project/logs
