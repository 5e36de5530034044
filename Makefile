# One entry point for people and CI: `make demo`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# What is installed is recorded per extras set, not inferred from the `ragtel` script: the README's
# first command (`pip install -e .`) creates `.venv/bin/ragtel` without the test tools, and `make
# test` must still install them.  A stamp is redone when pyproject.toml changes.
STAMP_BASE := $(VENV)/.ragtel-installed-base
STAMP_DEV := $(VENV)/.ragtel-installed-dev

.PHONY: install demo test unit e2e backends lint bench compiled dist dist-check clean

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

# The release artifacts (sdist, pure wheel, a compiled wheel per CPython 3.11+ on this machine) in
# dist/, rebuilt when a source file changes; dist-check installs each as users would and tests it.
DIST := dist/.ragtel-dist
$(DIST): setup.py pyproject.toml $(shell find src/ragtel -name '*.py')
	bash scripts/release/build_dist.sh
	touch $@

dist: $(DIST)

dist-check: $(DIST)
	bash scripts/release/check_dist.sh

# The compiled build for the bench (--ragtel-from build/compiled): the release's compiled wheel for
# this interpreter, as pip picks it from dist/, installed apart so that the editable install stays
# pure Python for development. The bench then measures exactly what a release installs.
COMPILED := build/compiled/.ragtel-compiled
$(COMPILED): $(DIST) | $(STAMP_DEV)
	rm -rf build/compiled
	$(BIN)/pip install --quiet --no-deps --no-index --find-links dist --target build/compiled ragtel
	PYTHONPATH=build/compiled $(BIN)/python -c 'import ragtel, sys; sys.exit(not ragtel.compiled())' \
		|| { echo "make compiled: dist/ has no compiled wheel for $(BIN)/python" >&2; exit 1; }
	touch $@

compiled: $(COMPILED)

demo: $(STAMP_BASE)
	$(BIN)/ragtel demo

# Real Jaeger, OpenTelemetry Collector and Phoenix, built or installed once into .cache/.
backends:
	bash scripts/backends/install.sh all

unit: install
	$(BIN)/python -m pytest tests/unit -q

e2e: install backends
	$(BIN)/python -m pytest tests/e2e -q

# The whole suite on the pure-Python source, then the release wheels: the unit and workload suites
# on each compiled wheel, installed into a fresh venv of its CPython (conftest.py fails the run if
# it is not the compiled build), and the demo from the pure wheel.
test: install backends
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q
	$(MAKE) dist-check

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench_overhead.py

clean:
	rm -rf $(VENV) .pytest_cache build dist src/*.egg-info
