# Two commands matter: `make run` and `make test`. Everything else is what they need.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What is installed: the demo extra for `make run`, the dev extra (which includes demo) for the rest.
DEMO := $(VENV)/.installed-demo
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-sync-compare bench-floor bench-media bench-web bench-queue bench-pages reliability mutate venv clean

define install
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[$(1)]'
endef

# `make run`'s install says what it does, a line a step, with pip's own progress for the long
# one and how long it took; it runs only when pyproject.toml changed, so later runs stay quiet.
# (`make test` and `make venv` keep the quiet install above: CI's log is unchanged.)
define install_loudly
	@start=$$SECONDS; \
	if [ ! -x $(BIN)/python ]; then \
	  echo "==> first run: setting up $(VENV)/ (about 3 minutes; later runs skip this)"; \
	  echo "==> creating the virtualenv in $(VENV)/"; \
	  $(PY) -m venv $(VENV) || exit 1; \
	else \
	  echo "==> pyproject.toml changed: updating the packages in $(VENV)/"; \
	fi; \
	echo "==> upgrading pip"; \
	$(BIN)/pip install -q --upgrade pip || exit 1; \
	echo "==> installing the app and its packages ([$(1)] extra); pip shows its progress"; \
	$(BIN)/pip install --progress-bar on -e '.[$(1)]' || exit 1; \
	echo "==> packages installed in $$((SECONDS - start)) s"
endef

$(DEMO): pyproject.toml
	$(call install_loudly,demo)
	@touch $(DEMO)

$(STAMP): pyproject.toml
	$(call install,dev)
	touch $(DEMO) $(STAMP)

venv: $(STAMP)

# A first start says what the app is about to do (it logs each step as it is done); later
# starts, on an existing data directory or an external database, go straight to it.
run: $(DEMO)
	@if [ -z "$$DATABASE_URL" ] && [ ! -d "$${DATA_DIR:-data}/pg" ]; then \
	  echo "==> first start: the app creates its PostgreSQL in $${DATA_DIR:-data}/pg (about 10 s)," \
	    "fills the demo bucket, applies the migrations, queues a first sync, then prints how to sign in"; \
	fi
	$(BIN)/python -m app

# `make lint` first, so CI (.ci/run) fails on a lint or type error before the suite starts.
test: lint
	$(BIN)/python tests/run.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app.py domain controllers harness
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.sync_bench $(ARGS)

# A first sync's CPU per million keys (workers, PostgreSQL) at REV and in this checkout, side by
# side in one run, syncs alternated over rounds (bench/sync_compare.py):
#   make bench-sync-compare ARGS="--before 238d27b --models 1000"
bench-sync-compare: $(STAMP)
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.sync_compare $(ARGS)

# What storing a first sync's media rows costs the database, part by part: as is, without the
# foreign key, without the underived index too (bench/floor_parts.py)
bench-floor: $(STAMP)
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.floor_parts $(ARGS)

# Previews per second on 12 MP JPEGs, a first sync of 10,000 images with derivatives on 1 worker
# and on 2, the workers' peak RSS (bench/media_bench.py; ARGS="--images 2000" for a quicker run).
bench-media: $(STAMP)
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.media_bench $(ARGS)

# Our admin pages and public API under 32 connections against Piccolo Admin's list
# (bench/web_bench.py). Scale mode, each page on ONE connection, PASS when p50 <= 10 ms, plans of
# the failing pages' slow statements (issue 24; about 10 min, 3 GB of database):
#   make bench-web ARGS="--scale --models 1000000 --production 1000000 --media-per-post 1"
# Side by side with another commit (served from a git worktree, pages loaded in turn):
#   make bench-web ARGS="--before 7b1468f"
bench-web: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.web_bench $(ARGS)

bench-queue: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.queue_bench $(ARGS)

# GET /staged p95 idle and during a first sync of 201,000 keys, the worker at the web's CPU
# priority and at WORKER_NICE below it, side by side (bench/pages_first.py).
bench-pages: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python tests/run.py --only-db -- $(BIN)/python -m bench.pages_first $(ARGS)

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
