# Hearth: `make run` starts the bot from .env, `make test` runs every test, `make test-fast`
# the unit and dispatcher tiers (no bot process started).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# tests run in parallel workers (pytest-xdist; each gets its own PostgreSQL database and
# Redis db); `make test TEST_WORKERS=0` runs them in one process
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) --dist worksteal

.PHONY: run test test-fast lint bench migrate clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

# one install with the dev extras (not the plain one first, then the extras: one resolution)
$(VENV)/.installed-dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@test -f .env || { echo "No .env: copy .env.example to .env and set BOT_TOKEN (see README)"; exit 2; }
	$(PY) -m bot migrate
	$(PY) -m bot

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q $(XDIST)

test-fast: $(VENV)/.installed-dev
	$(PY) -m pytest -q $(XDIST) tests/unit tests/dispatcher

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(VENV)/.installed-dev
	$(PY) -m bench

migrate: $(VENV)/.installed
	$(PY) -m bot migrate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
