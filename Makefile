# One entry point for people and CI: `make demo`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# What is installed is recorded per extras set, not inferred from the `ragtel` script: the README's
# first command (`pip install -e .`) creates `.venv/bin/ragtel` without the test tools, and `make
# test` must still install them.  A stamp is redone when pyproject.toml changes.
STAMP_BASE := $(VENV)/.ragtel-installed-base
STAMP_DEV := $(VENV)/.ragtel-installed-dev

.PHONY: install demo test unit e2e backends lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_BASE): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_BASE)

install: $(STAMP_DEV)

demo: $(STAMP_BASE)
	$(BIN)/ragtel demo

# Real Jaeger, OpenTelemetry Collector and Phoenix, built or installed once into .cache/.
backends:
	bash scripts/backends/install.sh all

unit: install
	$(BIN)/python -m pytest tests/unit -q

e2e: install backends
	$(BIN)/python -m pytest tests/e2e -q

test: install backends
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench_overhead.py

clean:
	rm -rf $(VENV) .pytest_cache build dist src/*.egg-info
