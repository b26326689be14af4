# runhistory — developer entry points. `make demo` and `make test` are the README's quick start.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= dev,server,postgres,s3

.PHONY: install demo test lint format typecheck clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python  ## create .venv and install runhistory with its extras
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"

demo: install  ## log a realistic run into the default workspace and say where it is
	$(BIN)/python examples/demo.py

test: install  ## run the whole test suite (needs PostgreSQL on 127.0.0.1:5432)
	$(BIN)/python -m pytest -q

lint: install  ## ruff and mypy
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
