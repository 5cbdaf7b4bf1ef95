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

# Parallel test processes (pytest-xdist): each has its own PostgreSQL test database (suffix _gwN), Redis
# databases (broker and cache numbers + 2N) and var directory. Most tests wait on sockets, workers and
# browsers, so two processes use two cores well; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

.PHONY: demo test bench lint venv venv-dev system-deps runtime-deps services totp lock audit clean

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
demo: runtime-deps venv
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

# Debian packages: PDF rendering (WeasyPrint: Pango, HarfBuzz, DejaVu fonts embedded in the PDF/A)
# at run time; for the tests also Debian's chromium (browser scenarios), poppler-utils (PDF text and
# pages), libdmtx (decoding the INS datamatrix) and slapd (the OpenLDAP directory the account tests start).
RUNTIME_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
TEST_DEBS := $(RUNTIME_DEBS) chromium poppler-utils libdmtx0b slapd
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "Paquets Debian : $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi
endef

## system-deps: Debian packages the product and the tests need.
system-deps:
	$(call apt_install,$(TEST_DEBS))

runtime-deps:
	$(call apt_install,$(RUNTIME_DEBS))

## services: make sure PostgreSQL and Redis answer (start them if the machine stopped them).
services:
	@scripts/ensure-services.sh

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

## test: set up and run the whole suite (after ruff and the one-way dependencies between apps, lint-imports) against PostgreSQL and Redis, with a real worker and browser.
test: system-deps services venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run -v0
	$(TEST_ENV) $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

## bench: print performance figures, each beside a baseline measured in the same run.
bench: services venv-dev
	$(TEST_ENV) $(PY) -m tests.bench

## lock: recompile the pinned, hashed lock files from requirements/*.in.
lock: venv-dev
	cd requirements && ../$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras -o base.txt base.in
	cd requirements && ../$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras -o dev.txt dev.in

## audit: list the known vulnerabilities of the pinned locks and fail on any, or on a package it could not
## check (needs the network: PyPI's JSON API, or OSV with AUDIT_ARGS="-s osv"; not part of `make test`).
audit: venv-dev
	$(VENV)/bin/pip-audit --require-hashes --disable-pip --strict --progress-spinner off --aliases on --desc on \
		$(AUDIT_ARGS) -r requirements/base.txt -r requirements/dev.txt

clean:
	rm -rf var/test var/artefacts
