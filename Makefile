# Two commands on a fresh machine with Python 3.11+, make and access to PyPI:
#   make run    set up .venv, migrate the SQLite database, load demo data, serve
#               (with the job worker beside it: Ctrl-C stops both)
#   make portal the app framed by the example portal (examples/portal), two tenants
#   make test   Chromium (found or obtained: scripts/chromium.py), lint, format
#               check and the whole test suite (unit, HTTP, CLI, browser)
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
PORTAL_PORT ?= 5001
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run portal test browser lint format install dev serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo setup
	@echo "Invoice Manager: http://127.0.0.1:$(PORT)/billing/invoices"
	@# One recipe line, one shell: the worker runs in the background of it and
	@# is stopped when the server ends (Ctrl-C), so neither outlives the other.
	$(BIN)/flask jobs worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	  $(BIN)/flask run --port $(PORT)

# The app (127.0.0.1:$(PORT)) embedded by the example portal (localhost:$(PORTAL_PORT),
# another site), with demo data for two tenants; scripts/portal.sh runs both.
portal: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed --tenant acme
	$(BIN)/flask demo seed --tenant globex
	BIN=$(BIN) PORT=$(PORT) PORTAL_PORT=$(PORTAL_PORT) scripts/portal.sh

# Production-style: gunicorn with gunicorn.conf.py (PORT, GUNICORN_* override).
serve: install
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# The browser tests' Chromium: found, or installed (apt-get as root on Debian or
# Ubuntu, else Playwright's download), or one line saying what to run.
browser: dev
	$(BIN)/python scripts/chromium.py

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: browser lint
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
