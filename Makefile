# Oarlock — the two commands a new user needs are `make serve` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8070
ENGINE_PORT ?= 8061
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Daphne processes sharing the port (oarlock/worker_pool.py); more than one needs REDIS_URL.
WORKERS ?= 1

.PHONY: help install serve test fuzz lint bench chaos clean

help:
	@echo "make serve   run Oarlock on http://$(HOST):$(PORT) (local engine unless PADDLER_INFERENCE_URL is set)"
	@echo "make test    run the whole test suite"
	@echo "make install create $(VENV) and install Oarlock with its dev and local-engine extras"
	@echo "make fuzz    run the fuzzing job at full size (10,000 bodies per /v1 endpoint; minutes)"
	@echo "make lint    ruff (lint + format check) and mypy, as CI runs them"
	@echo "make bench   run the load benchmark (minutes; see bench/README.md)"

install: $(STAMP)

# The venv is (re)built when it is missing or pyproject.toml changed since the last install.
$(STAMP): pyproject.toml scripts/install-local-engine
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# llama.cpp is built for a portable instruction set, never -march=native (scripts/install-local-engine).
	JOBS=$(JOBS) scripts/install-local-engine $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,local]'
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@touch $(STAMP)

# The address printed for clients: a wildcard HOST listens everywhere, but is not an address to call.
URL_HOST := $(if $(filter 0.0.0.0 :: [::],$(HOST)),127.0.0.1,$(HOST))

# What runs once the upstream is known: the demo key (printed on first run), then Daphne.
SERVE_API = $(BIN)/python manage.py ensure_demo_key --base-url http://$(URL_HOST):$(PORT)/v1 \
	--model "$${OARLOCK_DEFAULT_MODEL:-default}" && exec $(BIN)/python -m oarlock.worker_pool --workers $(WORKERS) -b $(HOST) -p $(PORT) oarlock.asgi:application

# Ports are checked first, before migrations and the model load. The local engine listens on
# loopback only, whatever HOST is: it has no authentication, so it must never be reachable from
# elsewhere (the supervisor restarts it when it dies, and stops here when it keeps dying).
serve: $(STAMP)
	@if [ -n "$$PADDLER_INFERENCE_URL" ]; then scripts/check-ports PORT=$(HOST):$(PORT); \
	else scripts/check-ports PORT=$(HOST):$(PORT) ENGINE_PORT=127.0.0.1:$(ENGINE_PORT); fi
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py migrate --noinput
	@if [ -n "$$PADDLER_INFERENCE_URL" ]; then \
		echo "Serving the API on http://$(URL_HOST):$(PORT)/v1 with the Paddler upstream $$PADDLER_INFERENCE_URL"; \
		sh -c '$(SERVE_API)'; \
	else \
		echo "PADDLER_INFERENCE_URL is not set: starting the local engine on 127.0.0.1:$(ENGINE_PORT)"; \
		$(BIN)/python -m local_engine.supervisor --port $(ENGINE_PORT) -- sh -c '$(SERVE_API)'; \
	fi

test: $(STAMP)
	@scripts/install-browser
	$(BIN)/python -m pytest

# The fuzzing job at full size (docs/fuzzing.md); `make test` runs the same tests with fewer cases.
FUZZ_EXAMPLES ?= 10000
fuzz: $(STAMP)
	OARLOCK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) OARLOCK_FUZZ_MANAGEMENT_EXAMPLES=200 OARLOCK_FUZZ_STRICT_TIMING=1 $(BIN)/python -m pytest tests/fuzz -s -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.run

# Faults and load on a PostgreSQL cluster and a Redis of the run's own, both restarted (the
# cluster needs root); CHAOS_ARGS="--quick --no-service-restarts" for a small run without them.
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos_run $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) var/test_*.sqlite3
