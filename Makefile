# One entry point for people and CI: `make demo`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test unit e2e backends lint bench clean

$(BIN)/ragtel: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/ragtel

demo: install
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
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

bench: install
	$(BIN)/python bench/bench_overhead.py

clean:
	rm -rf $(VENV) .pytest_cache build dist src/*.egg-info
