"""`parallel-tui run` with the real Claude Code CLI against the fake Messages API.

The other e2e module proves the hook, stream-json and pane readers against the binary; this
one proves the run engine wires them: the session's window gets the hooks via --settings,
status reads done/idle and the cost from them, the specialist matched in the plan is passed
with --agent, and a worktree of a repo the user trusts is trusted too. The tmux server is
private to the test; HOME is a temp dir holding its own `.claude.json`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.claude.env import prepare_home
from engine.claude.install import install
from tests.conftest import RepoFactory
from tests.fake_messages_api import FakeMessagesAPI, Recorded, Reply, text, tool_use
from tests.gitrepo import commit
from tests.run_helpers import FILES, cli, status_json
from tests.test_claude_e2e import API_KEY, claude_bin

__all__ = ["claude_bin"]

pytestmark = [pytest.mark.e2e, pytest.mark.tmux]


def side_requests(record: Recorded) -> Reply | None:
    return None if record.body.get("tools") else text('{"title": "Fake session"}')


@pytest.fixture
def claude_env(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    monkeypatch.setenv("DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("CLAUDE_CODE_MAX_RETRIES", "0")
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    yield


def trusted_repo(repo_factory: RepoFactory, home: Path) -> Path:
    repo = repo_factory(FILES)
    prepare_home(home, [repo], API_KEY)  # the user trusts the repo; worktrees inherit it
    return repo


def sessions(capsys: pytest.CaptureFixture[str], repo: Path) -> list[dict[str, object]]:
    data = status_json(capsys, repo)["sessions"]
    assert isinstance(data, list)
    return data


def test_headless_run_writes_the_file_and_status_is_done_with_a_cost(
        claude_bin: str, repo_factory: RepoFactory, tmux_socket: str, claude_env: None,
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = trusted_repo(repo_factory, isolated_env)
    worktree = repo.parent / f"{repo.name}.parallel" / "hello"
    script = [tool_use("Write", {"file_path": str(worktree / "hello.txt"), "content": "hi\n"}),
              text("DONE")]
    with FakeMessagesAPI(script, router=side_requests) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "hello", "--prompt",
                           "Create hello.txt", "--agent", "claude-headless", "--yes", "--wait")
    assert code == 0, err
    assert (worktree / "hello.txt").read_text() == "hi\n"
    [session] = sessions(capsys, repo)
    assert session["state"] == "done"
    assert isinstance(session["cost_usd"], float) and session["cost_usd"] > 0
    prompts = [json.dumps(r.body) for r in api.requests if r.body.get("tools")]
    assert any("Create hello.txt" in p for p in prompts)


def test_interactive_run_goes_working_then_idle_through_the_hooks(
        claude_bin: str, repo_factory: RepoFactory, tmux_socket: str, claude_env: None,
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = trusted_repo(repo_factory, isolated_env)
    install(repo)  # the specialist agent files, committed so every worktree has them
    commit(repo, {}, "install-claude")
    plan = {"task": "t", "estimate": {"sequential_minutes": 30}, "subtasks": [
        {"name": "auth", "description": "Create auth.txt", "files_to_create": ["auth.txt"],
         "agent": {"name": "security-engineer", "skill": "/sc:implement", "confidence": 0.8}}]}
    plan_file = repo.parent / "plan.json"
    plan_file.write_text(json.dumps(plan))
    worktree = repo.parent / f"{repo.name}.parallel" / "auth"
    script = [tool_use("Write", {"file_path": str(worktree / "auth.txt"), "content": "ok\n"}),
              text("All done")]
    seen: list[str] = []
    with FakeMessagesAPI(script, router=side_requests) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan_file),
                           "--agent", "claude", "--yes")
        assert code == 0, err
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and "idle" not in seen:
            seen.append(str(sessions(capsys, repo)[0]["state"]))
            time.sleep(0.3)
    assert "idle" in seen, seen
    assert (worktree / "auth.txt").read_text() == "ok\n"
    hook_file = next((isolated_env / "ptui" / "runs").glob("*/auth.hook.jsonl"))
    events = [json.loads(line)["event"] for line in hook_file.read_text().splitlines()]
    assert events.index("PreToolUse") < events.index("Stop"), events
    usage_file = hook_file.with_name("auth.usage.json")  # the statusLine in its --settings wrote it
    deadline = time.monotonic() + 15
    while not usage_file.exists() and time.monotonic() < deadline:
        time.sleep(0.3)
    usage = json.loads(usage_file.read_text())
    assert isinstance(usage.get("cost_usd"), float) and "rate_limits" not in usage, usage  # an API key
    systems = [json.dumps(r.body.get("system", "")) for r in api.requests if r.body.get("tools")]
    assert any("security" in s.lower() for s in systems), "ran as the matched specialist"
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--force")[0] == 0
