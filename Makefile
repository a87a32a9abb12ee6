# parallel-tui — `make help` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Claude Code CLI the e2e tests and pane patterns were checked against: installed into the
# project (git-ignored), never globally, and put first on the tests' PATH.
CLAUDE_CODE_VERSION := 2.1.197
CLAUDE_DIR := .tools/claude-$(CLAUDE_CODE_VERSION)
CLAUDE_BIN := $(CLAUDE_DIR)/node_modules/.bin/claude

.PHONY: help venv claude-cli run test check lint typecheck imports bench bench-mirrors snap-update clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP) ## create .venv and install the project with its dev tools

run: $(STAMP) ## open parallel-tui on this repo (REPO=path for another; DEMO=1: a scratch demo repo)
	@if [ -z "$(DEMO)" ] && git -C "$(or $(REPO),.)" rev-parse --git-dir >/dev/null 2>&1; then \
		$(BIN)/parallel-tui --repo "$(or $(REPO),.)"; \
	else \
		[ -n "$(DEMO)" ] || echo "$(or $(REPO),.) is not a git repo: opening --demo (a scratch repo, offline planner, demo agent)"; \
		$(BIN)/parallel-tui --demo; \
	fi

$(CLAUDE_BIN):
	npm install --prefix $(CLAUDE_DIR) --no-audit --no-fund --loglevel=error \
		@anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)

claude-cli: ## install the pinned Claude Code CLI into .tools/ for the e2e tests (needs npm)
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(CLAUDE_BIN); \
	else echo "npm is not on PATH: the Claude Code e2e tests will be skipped"; fi

test: $(STAMP) claude-cli ## run the test suite (parallel with xdist)
	@if [ -x $(CLAUDE_BIN) ]; then \
		PATH="$(CURDIR)/$(CLAUDE_DIR)/node_modules/.bin:$$PATH" $(BIN)/pytest -n auto -q; \
	else \
		PARALLEL_TUI_SKIP_E2E=1 PARALLEL_TUI_SKIP_E2E_WHY="npm is not on PATH" $(BIN)/pytest -n auto -q; \
	fi

lint: $(STAMP) ## ruff
	$(BIN)/ruff check engine tui tests bench snapshots

typecheck: $(STAMP) ## mypy --strict on engine/ and tui/
	$(BIN)/mypy

imports: $(STAMP) ## the engine never imports textual, rich or tui
	$(BIN)/lint-imports

check: lint typecheck imports test ## everything CI checks

MIRRORS ?= .bench-mirrors

bench-mirrors: $(STAMP) ## bare clones of the planner benches' repositories into MIRRORS (default .bench-mirrors)
	$(BIN)/python bench/histories.py "$(MIRRORS)"

bench: $(STAMP) ## benchmarks: ratios against the raw git/tmux floor; planner benches on MIRRORS
	$(BIN)/python bench/analyze.py
	$(BIN)/python bench/setup.py
	$(BIN)/python bench/check.py
	$(BIN)/python bench/status.py
	$(BIN)/python bench/radar.py
	$(BIN)/python bench/calibration.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/app.py
	@if [ -d "$(MIRRORS)" ]; then \
		$(BIN)/python bench/localize.py --mirrors "$(MIRRORS)" && \
		$(BIN)/python bench/replay.py --mirrors "$(MIRRORS)"; \
	else echo "no $(MIRRORS)/: the planner benches are skipped (make bench-mirrors, or MIRRORS=DIR)"; fi

snap-update: $(STAMP) ## rewrite SVG snapshots (look at snapshot_report.html first)
	$(BIN)/pytest snapshots --snapshot-update

clean: ## remove the venv and caches
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
