# Two commands matter: `make run` and `make test`. Everything else is what they need.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-web bench-queue reliability mutate venv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m app

test: $(STAMP)
	$(BIN)/python tests/run.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app.py domain controllers

bench: $(STAMP)
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.sync_bench $(ARGS)

bench-web: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.web_bench $(ARGS)

bench-queue: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.queue_bench $(ARGS)

reliability: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.reliability $(ARGS)

# Mutation testing of the pure core (key rules, sync plan, deletion guard, activation plan) with
# mutmut; prints the kill rate and the survivors. Not part of `make test` or CI (docs/mutation.md).
mutate: $(STAMP)
	$(BIN)/pip install -q -e '.[mutate]'
	$(BIN)/python tests/mutate.py $(ARGS)

clean:
	rm -rf $(VENV) data test-output mutants
