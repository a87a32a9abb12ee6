"""Ownership enforced on the real Claude Code CLI (against the fake Messages API).

The scripted agent first tries to Write a file another subtask owns, then its own file: the
PreToolUse hook refuses the first before it runs (the file never exists, the refusal reason
reaches the model as the tool result), the second goes through, and `status --json` lists
the refusal under the session.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.run.journal import Journal
from tests.conftest import RepoFactory
from tests.fake_messages_api import FakeMessagesAPI, Recorded, Reply, text, tool_use
from tests.run_helpers import cli
from tests.test_claude_e2e import claude_bin
from tests.test_run_claude_e2e import claude_env, sessions, side_requests, trusted_repo

__all__ = ["claude_bin", "claude_env"]

pytestmark = [pytest.mark.e2e, pytest.mark.tmux]


def beta_just_answers(record: Recorded) -> Reply | None:
    """Beta's session runs alongside; it answers at once so alpha's script stays in order."""
    first = json.dumps(record.body.get("messages", [])[:1])
    return text("DONE") if record.body.get("tools") and "Your part (beta)" in first else side_requests(record)


def two_subtask_plan(repo: Path) -> Path:
    plan = {"task": "t", "estimate": {"sequential_minutes": 30}, "subtasks": [
        {"name": "alpha", "description": "Create alpha.txt", "files_to_create": ["alpha.txt"]},
        {"name": "beta", "description": "Create beta.txt", "files_to_create": ["beta.txt"]}]}
    path = repo.parent / "plan.json"
    path.write_text(json.dumps(plan))
    return path


@pytest.mark.usefixtures("claude_bin", "claude_env", "tmux_socket")
@pytest.mark.parametrize("mode", ["deny", "ask"])  # nobody can answer under `claude -p`: ask denies
def test_a_write_outside_the_subtask_is_refused_and_its_own_write_lands(
        repo_factory: RepoFactory, mode: str,
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = trusted_repo(repo_factory, isolated_env)
    monkeypatch.setenv("PARALLEL_TUI_OWNERSHIP", mode)
    base = repo.parent / f"{repo.name}.parallel"
    stray, own = base / "alpha" / "beta.txt", base / "alpha" / "alpha.txt"
    main_checkout = repo / "alpha.txt"
    script = [tool_use("Write", {"file_path": str(stray), "content": "not mine\n"}),
              tool_use("Write", {"file_path": str(main_checkout), "content": "not here\n"}),
              tool_use("Write", {"file_path": str(own), "content": "mine\n"}), text("DONE")]
    with FakeMessagesAPI(script, router=beta_just_answers) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(two_subtask_plan(repo)),
                           "--agent", "claude-headless", "--yes", "--wait")
    assert code == 0, err
    assert not stray.exists() and not main_checkout.exists()
    assert own.read_text() == "mine\n"
    tool_results = [json.dumps(r.body["messages"][-1]) for r in api.requests if r.body.get("tools")]
    assert any("beta.txt belongs to subtask beta" in t for t in tool_results), tool_results
    assert any("the main checkout" in t for t in tool_results), tool_results
    alpha = next(s for s in sessions(capsys, repo) if s["name"] == "alpha")
    refused = alpha["refused_edits"]
    assert isinstance(refused, list)
    assert [r["path"] for r in refused] == [str(stray), str(main_checkout)]
    assert all(isinstance(r["at"], float) and r["at"] > 0 for r in refused)
    assert {r["decision"] for r in refused} == {"deny"}
    assert "refused 2 edit(s) outside its files" in str(alpha["problem"])
    journal = Journal()
    (run,) = journal.runs()
    journaled = [p for _, kind, p in journal.events(run.id) if kind == "edit_refused"]
    assert [(p["name"], p["path"]) for p in journaled] == [("alpha", str(stray)),
                                                          ("alpha", str(main_checkout))]
    written = json.loads(next((isolated_env / "ptui" / "runs").glob("*/alpha.ownership.json")).read_text())
    assert written["mode"] == "deny"
    assert written["elsewhere"][str(repo)] == "the main checkout"
    assert written["elsewhere"][str(base / "beta")] == "subtask beta's worktree"
    assert written["protected"][str(isolated_env / "ptui")] == "parallel-tui's config and state folder"


def test_esc_fires_no_hook_but_the_registry_says_idle(
        claude_bin: str, repo_factory: RepoFactory, tmux_socket: str, claude_env: None,
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The interactive CLI's own `~/.claude/sessions/<pid>.json` (2.1.197): busy while the
    model is slow to answer; after Esc no hook fires (the hooks still say working), and status
    reads `idle` from the registry."""
    repo = trusted_repo(repo_factory, isolated_env)
    slow = text("too late")
    script = [Reply(status=slow.status, body=slow.body, delay=20)]
    with FakeMessagesAPI(script, router=side_requests) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "slow", "--prompt", "Think",
                           "--agent", "claude", "--yes")
        assert code == 0, err
        busy = wait_for(capsys, repo, lambda s: s["source"] == "registry" or s["state"] == "working")
        hook_file = next((isolated_env / "ptui" / "runs").glob("*/slow.hook.jsonl"))
        assert "UserPromptSubmit" in hook_file.read_text()
        window = str(busy["window"])
        subprocess.run(["tmux", "-L", tmux_socket, "send-keys", "-t", window, "Escape"], check=True)
        idle = wait_for(capsys, repo, lambda s: s["state"] == "idle")
    assert (idle["source"], idle["detail"]) == ("registry", "registry idle")
    events = [json.loads(line)["event"] for line in hook_file.read_text().splitlines()]
    assert "Stop" not in events, events  # Esc: no hook said the turn ended
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--force")[0] == 0


def wait_for(capsys: pytest.CaptureFixture[str], repo: Path,
             ok: Callable[[dict[str, object]], bool], seconds: float = 40) -> dict[str, object]:
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        [session] = sessions(capsys, repo)
        seen.append((session["state"], session["source"]))
        if ok(session):
            return session
        time.sleep(0.3)
    raise AssertionError(f"never happened; seen {seen[-10:]}")
