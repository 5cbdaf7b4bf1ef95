# Two commands on a fresh machine: `make demo` (run the product) and `make test` (prove it).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
WEB_PORT ?= 8000

# The test suite and the benchmarks run against real PostgreSQL and a real broker (Redis).
TEST_ENV := DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/dpi} \
	CELERY_BROKER_URL=$${TEST_BROKER_URL:-redis://127.0.0.1:6379/10} \
	CACHE_URL=$${TEST_CACHE_URL:-redis://127.0.0.1:6379/11} \
	DPI_VAR_DIR=$(CURDIR)/var/test

.PHONY: demo test bench lint venv venv-dev system-deps services totp lock clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.base-installed: requirements/base.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements/base.txt
	touch $@

$(VENV)/.dev-installed: requirements/dev.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@ $(VENV)/.base-installed

venv: $(VENV)/.base-installed
venv-dev: $(VENV)/.dev-installed

## demo: set up and run the product on the embedded default (SQLite, filesystem broker).
demo: venv
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	$(PY) manage.py load_demo
	@echo
	@echo "DPI démarre sur http://127.0.0.1:$(WEB_PORT)/  (administration : http://127.0.0.1:$(WEB_PORT)/admin/)"
	@echo "Listener MLLP : 127.0.0.1:$${MLLP_PORT:-2575}. Arrêt : Ctrl-C."
	@echo
	DPI_WEB_PORT=$(WEB_PORT) $(VENV)/bin/honcho -f Procfile.demo start

## totp: print the current second-factor code of a demo login (make totp USER=dr.martin).
totp: venv
	@$(PY) manage.py demo_totp $(USER)

## system-deps: Debian packages the tests need (the browser scenarios drive Debian's chromium).
system-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## services: make sure PostgreSQL and Redis answer (start them if the machine stopped them).
services:
	@scripts/ensure-services.sh

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## test: set up and run the whole suite against PostgreSQL and Redis, with a real worker and browser.
test: system-deps services venv-dev
	$(VENV)/bin/ruff check .
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run -v0
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

## bench: print performance figures, each beside a baseline measured in the same run.
bench: services venv-dev
	$(TEST_ENV) $(PY) -m tests.bench

## lock: recompile the pinned, hashed lock files from requirements/*.in.
lock: venv-dev
	cd requirements && ../$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras -o base.txt base.in
	cd requirements && ../$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras -o dev.txt dev.in

clean:
	rm -rf var/test var/artefacts
