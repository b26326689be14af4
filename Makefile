# runhistory — developer entry points. `make demo` and `make test` are the README's quick start.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= dev,server,postgres,s3,tensorboard,notebook,sweep,sklearn,xgboost,lightgbm,optuna,lightning,keras,transformers,mlflow,ray

.PHONY: install studio demo test lint format typecheck clean bench bench-quick screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python  ## create .venv and install runhistory with its extras (and the studio)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory studio; \
	else echo "npm not found: the studio is not built (install Node.js, then make studio)"; fi

studio:  ## build the studio and the notebook widget (frontend/) into the package
	cd frontend && npm install --no-audit --no-fund --loglevel=error && npm run build

demo: install  ## log a realistic run into the default workspace and say where it is
	$(BIN)/python examples/demo.py

test: install  ## run the whole test suite (needs PostgreSQL on 127.0.0.1:5432)
	$(BIN)/python -m pytest -q

screenshots: install  ## re-take the studio screenshots in docs/images (the browser tests)
	RUNHISTORY_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/e2e

bench: install  ## runhistory vs MLflow and Aim (own venvs, built once); BENCH_ARGS="--only B1,B2"
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

bench-quick: install  ## the same at small sizes: CI's smoke test, never fails on speed
	$(BIN)/python benchmarks/run.py --quick $(BENCH_ARGS)

lint: install  ## ruff and mypy
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
