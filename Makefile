# One command sets everything up: a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
# the suite's processes (pytest-xdist): one per core; TEST_WORKERS=0 runs it in this one
TEST_WORKERS ?= auto

.PHONY: run test lint typecheck bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "forcesim needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# running needs only the runtime dependencies; the tests and linters need the rest
$(RUN_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $(RUN_STAMP)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(RUN_STAMP) $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/forcesim run
	@echo "The chart is at out/iraq-syria-2024/envelope.png"

test: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_ensemble.py
	$(BIN)/python benchmarks/bench_conditioning.py
	$(BIN)/python benchmarks/bench_compare.py
	$(BIN)/python benchmarks/bench_scale_memory.py
	$(BIN)/python benchmarks/bench_records.py
	$(BIN)/python benchmarks/bench_sweep.py

clean:
	rm -rf $(VENV) out build dist .pytest_cache .ruff_cache .mypy_cache
