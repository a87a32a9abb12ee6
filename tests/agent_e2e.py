"""Shared steps of the e2e runs of the other agents' real CLIs (Codex, Gemini): the pinned
binary or a clear failure, a two-subtask plan, and what the journal says a session went
through."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from engine.run.journal import open_journal
from tests.gitrepo import git

SKIP_E2E = os.environ.get("PARALLEL_TUI_SKIP_E2E") == "1"
SUBTASKS = ("alpha", "beta")


def pinned_bin(program: str) -> str:
    """The CLI on PATH (conftest puts the pinned one first), or a failure naming `make agent-clis`."""
    found = shutil.which(program)
    if found:
        return found
    if SKIP_E2E:
        pytest.skip(f"PARALLEL_TUI_SKIP_E2E=1 and no {program} binary")
    pytest.fail(f"the `{program}` CLI is not on PATH — install the pinned version with `make agent-clis` "
                "(or set PARALLEL_TUI_SKIP_E2E=1 to skip these tests on purpose)", pytrace=False)


def two_subtask_plan(folder: Path) -> Path:
    """alpha creates alpha.txt, beta creates beta.txt: each owns only its file."""
    plan = {"task": "two files", "estimate": {"sequential_minutes": 10}, "subtasks": [
        {"name": name, "description": f"Create {name}.txt and commit it", "files_to_create": [f"{name}.txt"]}
        for name in SUBTASKS]}
    path = folder / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def worktree_of(repo: Path, name: str) -> Path:
    return repo.parent / f"{repo.name}.parallel" / name


def committed_files(repo: Path, branch: str, base: str = "HEAD") -> list[str]:
    """Files the branch's commits add over `base` of the main checkout."""
    return git(repo, "diff", "--name-only", f"{base}...{branch}").split()


def state_changes(run_id: str, name: str) -> list[tuple[str, str]]:
    """(new state, source) of each journaled state change of one session, oldest first."""
    with open_journal() as journal:
        events = journal.events(run_id)
    return [(str(data["new"]), str(data["source"])) for _, kind, data in events
            if kind == "session_state_changed" and data.get("name") == name]


def hook_events(state_home: Path, name: str) -> list[dict[str, object]]:
    hook_file = next((state_home / "ptui" / "runs").glob(f"*/{name}.hook.jsonl"))
    return [json.loads(line) for line in hook_file.read_text().splitlines()]
