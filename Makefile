# Hamseda — `make run` serves the demo, `make test` checks everything. `make help` lists all.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON ?= python3
# Debian packages for the browser tests, PDF and image work, load tests, and pg_dump
# (postgresql-client) for `hamseda backup` on PostgreSQL.
APT_PACKAGES := chromium poppler-utils fonts-noto-core libpango-1.0-0 libpangoft2-1.0-0 libfribidi0 wrk gettext postgresql-client
TEST_PG_URL ?= postgres://postgres@127.0.0.1:5432/hamseda
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_REDIS_URL_PG ?= redis://127.0.0.1:6379/14

.PHONY: help install system-deps run demo lint format test test-sqlite test-postgres messages bench clean

help: ## This list.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## Install Hamseda and its tools into ./.venv.

system-deps: ## Install the Debian packages the tests need (needs root; skipped if present).
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install ## Set up the embedded demo in ./var and serve it on http://127.0.0.1:8000.
	$(BIN)/hamseda demo

demo: run

lint: install ## ruff (lint and formatting), mypy on the service layer.
	$(BIN)/ruff check hamseda tests bench
	$(BIN)/ruff format --check hamseda tests bench
	$(BIN)/mypy

format: install ## Format the code and fix what ruff can.
	$(BIN)/ruff format hamseda tests bench
	$(BIN)/ruff check --fix hamseda tests bench

messages: install ## Extract translatable strings into the .po files, then compile them.
	cd hamseda && ../$(BIN)/django-admin makemessages -l fa -l ps --no-obsolete --settings=hamseda.settings
	cd hamseda && ../$(BIN)/django-admin compilemessages --settings=hamseda.settings

# The SQLite and PostgreSQL runs go side by side (one per core), each with its own data
# folder and Redis database; --output-sync prints each run's output whole when it ends.
test: install system-deps lint ## Lint, then all tests on SQLite and PostgreSQL (in parallel).
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: install
	HAMSEDA_DATA_DIR=$(CURDIR)/var/test-sqlite HAMSEDA_TEST_REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -q

test-postgres: install
	@if $(PY) bench/services.py postgres $(TEST_PG_URL); then \
	  HAMSEDA_DATA_DIR=$(CURDIR)/var/test-postgres HAMSEDA_DATABASE_URL=$(TEST_PG_URL) HAMSEDA_TEST_REDIS_URL=$(TEST_REDIS_URL_PG) $(BIN)/pytest -q -m "not browser"; \
	elif [ -n "$$HAMSEDA_REQUIRE_SERVICES" ]; then \
	  echo "PostgreSQL at $(TEST_PG_URL) is required (HAMSEDA_REQUIRE_SERVICES is set) but not reachable."; exit 1; \
	else echo "SKIPPED: PostgreSQL at $(TEST_PG_URL) is not reachable, so the PostgreSQL test run was skipped."; fi

bench: install system-deps ## Load-test signing, integrity, kit images, mail-outs, pulse import and dashboard, API reads (about 25 minutes).
	$(PY) bench/sign_load.py
	$(PY) bench/integrity_overhead.py
	$(PY) bench/kit_render.py
	$(PY) bench/kit_cards.py
	$(PY) bench/mailout_queue.py
	$(PY) bench/pulse_import.py
	$(PY) bench/pulse_dashboard.py
	$(PY) bench/api_reads.py

clean: ## Remove the virtualenv and the demo data.
	rm -rf $(VENV) var
