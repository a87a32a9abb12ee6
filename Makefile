# parallel-tui — `make help` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv run test check lint typecheck imports bench snap-update clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP) ## create .venv and install the project with its dev tools

run: $(STAMP) ## open parallel-tui on this repo (REPO=path for another)
	$(BIN)/parallel-tui --repo "$(or $(REPO),.)"

test: $(STAMP) ## run the test suite (parallel with xdist)
	$(BIN)/pytest -n auto -q

lint: $(STAMP) ## ruff
	$(BIN)/ruff check engine tui tests bench snapshots

typecheck: $(STAMP) ## mypy --strict on engine/
	$(BIN)/mypy

imports: $(STAMP) ## the engine never imports textual, rich or tui
	$(BIN)/lint-imports

check: lint typecheck imports test ## everything CI checks

bench: $(STAMP) ## benchmarks: ratios against the raw git/tmux floor
	$(BIN)/python bench/analyze.py
	$(BIN)/python bench/setup.py

snap-update: $(STAMP) ## rewrite SVG snapshots (look at snapshot_report.html first)
	$(BIN)/pytest snapshots --snapshot-update

clean: ## remove the venv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
