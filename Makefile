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
# The other agents the app offers, pinned the same way (their e2e tests skip when absent).
CODEX_VERSION := 0.171.0
CODEX_DIR := .tools/codex-$(CODEX_VERSION)
CODEX_BIN := $(CODEX_DIR)/node_modules/.bin/codex
GEMINI_VERSION := 0.61.0
GEMINI_DIR := .tools/gemini-$(GEMINI_VERSION)
GEMINI_BIN := $(GEMINI_DIR)/node_modules/.bin/gemini
# aider is a Python program with ~100 pinned dependencies: a venv of its own, not the project's.
AIDER_VERSION := 0.86.2
AIDER_DIR := .tools/aider-$(AIDER_VERSION)
AIDER_BIN := $(AIDER_DIR)/shim/aider
# shim/ holds only `aider`: the venv's bin/ on PATH would put its python and pip first
AGENT_PATH := $(CURDIR)/$(CLAUDE_DIR)/node_modules/.bin:$(CURDIR)/$(CODEX_DIR)/node_modules/.bin:$(CURDIR)/$(GEMINI_DIR)/node_modules/.bin:$(CURDIR)/$(AIDER_DIR)/shim

.PHONY: help venv claude-cli agent-clis aider-cli run test check lint typecheck imports bench bench-mirrors \
	snap-update clean

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

$(CODEX_BIN):
	npm install --prefix $(CODEX_DIR) --no-audit --no-fund --loglevel=error @openai/codex@$(CODEX_VERSION)

$(GEMINI_BIN):
	npm install --prefix $(GEMINI_DIR) --no-audit --no-fund --loglevel=error @google/gemini-cli@$(GEMINI_VERSION)

$(AIDER_BIN):
	$(PY) -m venv $(AIDER_DIR)
	$(AIDER_DIR)/bin/pip install -q aider-chat==$(AIDER_VERSION)
	mkdir -p $(AIDER_DIR)/shim && ln -sf ../bin/aider $(AIDER_BIN)

aider-cli: ## aider (withdrawn, see README) into its own venv under .tools/ to re-verify it (~690 MB, ~5 min)
	@$(MAKE) --no-print-directory $(AIDER_BIN) || echo "aider could not be installed: its e2e tests will be skipped"

agent-clis: ## install the pinned Codex CLI and Gemini CLI into .tools/ for their e2e tests (needs npm)
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(CODEX_BIN) $(GEMINI_BIN); \
	else echo "npm is not on PATH: the Codex and Gemini CLI e2e tests will be skipped"; fi

test: $(STAMP) claude-cli agent-clis ## run the test suite (parallel with xdist)
	@if [ -x $(CLAUDE_BIN) ]; then \
		PATH="$(AGENT_PATH):$$PATH" $(BIN)/pytest -n auto -q; \
	else \
		PARALLEL_TUI_SKIP_E2E=1 PARALLEL_TUI_SKIP_E2E_WHY="npm is not on PATH" $(BIN)/pytest -n auto -q; \
	fi

lint: $(STAMP) ## ruff
	$(BIN)/ruff check engine tui tests bench snapshots

typecheck: $(STAMP) ## mypy --strict on engine/ and tui/
	$(BIN)/mypy

imports: $(STAMP) ## the engine never imports textual, rich or tui; layers; the app through one door
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
	$(BIN)/python bench/hosts.py
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
