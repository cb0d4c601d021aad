# Two commands on a fresh machine: `make demo` (installs, then runs the main job on embedded
# defaults) and `make test` (installs, then runs the whole test suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint ui bench-ingest clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/oms demo

test: install lint
	$(BIN)/python -m pytest

# Style (ruff) and the import rules between layers (import-linter, contracts in pyproject.toml).
lint: install
	$(BIN)/ruff check oms_pipeline oms_pipeline_tests
	$(BIN)/lint-imports

ui: install
	$(BIN)/oms ui

bench-ingest: install
	$(BIN)/oms bench ingest --orders 10000

clean:
	rm -rf .oms dbt_project/target dbt_project/logs
