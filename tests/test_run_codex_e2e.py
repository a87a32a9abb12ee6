"""`parallel-tui run --agent codex…` with the real Codex CLI against the fake Responses API.

Codex is pointed at the fake by a temp CODEX_HOME holding a provider (a user's own lives in
theirs); everything parallel-tui adds goes on the command line: hooks (status + ownership),
trust, and the sandbox with the git dirs writable so the agent's own commit works. TMPDIR is
moved away from CODEX_HOME: Codex 0.171.0 refuses to set up its sandbox helper under the temp
dir (facts §10).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent_e2e import (
    committed_files,
    hook_events,
    pinned_bin,
    state_changes,
    two_subtask_plan,
    worktree_of,
)
from tests.conftest import RepoFactory
from tests.fake_messages_api import Recorded
from tests.fake_responses_api import KEY_ENV, FakeResponsesAPI, Turn, add_file, config_toml, say, shell
from tests.run_helpers import FILES, cli, status_json

pytestmark = [pytest.mark.e2e, pytest.mark.tmux]


@pytest.fixture(scope="session")
def codex_bin() -> str:
    return pinned_bin("codex")


@pytest.fixture
def codex_home(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = isolated_env / "codex-home"
    home.mkdir()
    tmpdir = isolated_env / "tmp"
    tmpdir.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.setenv(KEY_ENV, "fake-key")
    yield home


def _cwd(record: Recorded) -> str:
    found = re.search(r"<cwd>([^<]+)</cwd>", json.dumps(record.body.get("input", [])))
    return found.group(1) if found else ""


def _per_worktree(scripts: dict[str, list[Turn]]) -> object:
    def pick(record: Recorded) -> list[Turn] | None:
        cwd = _cwd(record)
        return next((turns for name, turns in scripts.items() if cwd.endswith(f"/{name}")), None)
    return pick


def _commit(name: str) -> Turn:
    return shell(f"printf '{name}\\n' > {name}.txt && git add {name}.txt && git commit -qm 'Add {name}' "
                 "&& echo COMMITTED")


def test_headless_two_sessions_commit_their_files_with_status_from_hooks_and_tokens(
        codex_bin: str, codex_home: Path, repo_factory: RepoFactory, tmux_socket: str,
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    plan = two_subtask_plan(repo.parent)
    scripts = {
        # alpha first tries to create beta's file: the ownership hook refuses the patch
        "alpha": [add_file("beta.txt", "not mine\n"), _commit("alpha"), say("alpha done", delay=1.5)],
        "beta": [_commit("beta"), say("beta done", delay=1.5)],
    }
    with FakeResponsesAPI(script_for=_per_worktree(scripts)) as api:  # type: ignore[arg-type]
        (codex_home / "config.toml").write_text(config_toml(api.url))
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan),
                           "--agent", "codex-headless", "--yes", "--wait")
    assert code == 0, err
    status = status_json(capsys, repo)
    sessions = {str(s["name"]): s for s in status["sessions"]}  # type: ignore[attr-defined]
    for name in ("alpha", "beta"):
        session = sessions[name]
        assert session["state"] == "done", session
        assert committed_files(repo, str(session["branch"])) == [f"{name}.txt"]
        assert isinstance(session["tokens"], int) and session["tokens"] > 0, session
        changes = state_changes(str(status["run_id"]), name)
        assert ("working", "hook") in changes, changes
        assert changes[-1][0] == "done", changes
        assert changes.index(("working", "hook")) < len(changes) - 1
    assert not (worktree_of(repo, "alpha") / "beta.txt").exists(), "the refused patch was applied"
    refused = sessions["alpha"]["refused_edits"]
    assert [r["path"] for r in refused] == ["beta.txt"], refused  # type: ignore[index]
    told = [r for r in api.response_requests if "belongs to subtask beta" in json.dumps(r.body)]
    assert told, "codex told the model why its patch was refused"
    events = [e["event"] for e in hook_events(isolated_env, "beta")]
    assert events.index("PreToolUse") < events.index("Stop"), events
    first = api.response_requests[0]
    assert first.headers.get("authorization") == "Bearer fake-key"
    assert "Create alpha.txt" in json.dumps(first.body) or "Create beta.txt" in json.dumps(first.body)


def test_headless_without_a_provider_key_fails_with_codex_s_own_message(
        codex_bin: str, codex_home: Path, repo_factory: RepoFactory, tmux_socket: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    monkeypatch.delenv(KEY_ENV)
    with FakeResponsesAPI([say("never")]) as api:
        (codex_home / "config.toml").write_text(config_toml(api.url))
        cli(capsys, "run", "--repo", str(repo), "--tasks", "solo", "--prompt", "Create solo.txt",
            "--agent", "codex-headless", "--yes", "--wait")
    [session] = status_json(capsys, repo)["sessions"]  # type: ignore[misc]
    assert session["state"] == "failed", session
    assert KEY_ENV in session["detail"], session
    assert not api.response_requests


def test_interactive_asks_for_approval_then_goes_idle(
        codex_bin: str, codex_home: Path, repo_factory: RepoFactory, tmux_socket: str,
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    plan = two_subtask_plan(repo.parent)
    outside = isolated_env / "outside.txt"
    # a command that asks to leave the sandbox: Codex asks the person first
    ask = shell(f"printf x > {outside}")
    ask.items[0]["arguments"] = json.dumps({"cmd": f"printf x > {outside}", "yield_time_ms": 10000,
                                            "sandbox_permissions": "require_escalated",
                                            "justification": "write outside the worktree"})
    scripts = {"alpha": [ask, say("alpha done")], "beta": [_commit("beta"), say("beta done")]}
    with FakeResponsesAPI(script_for=_per_worktree(scripts),  # type: ignore[arg-type]
                          router=lambda r: say("Title") if not _cwd(r) else None) as api:
        # the newest model of the catalogue: an older one gets a "Meet GPT-6 Sol" screen first
        (codex_home / "config.toml").write_text(config_toml(api.url, "gpt-6.2-sol"))
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "codex",
                           "--yes")
        assert code == 0, err
        seen: dict[str, list[str]] = {"alpha": [], "beta": []}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                "needs_input" in seen["alpha"] and "idle" in seen["beta"]):
            for s in status_json(capsys, repo)["sessions"]:  # type: ignore[attr-defined]
                seen[s["name"]].append(s["state"])
            time.sleep(0.3)
    assert "needs_input" in seen["alpha"], seen
    assert "idle" in seen["beta"], seen
    run_id = str(status_json(capsys, repo)["run_id"])
    assert ("needs_input", "hook") in state_changes(run_id, "alpha")  # PermissionRequest
    assert ("idle", "hook") in state_changes(run_id, "beta")  # Stop
    assert not outside.exists()
    assert committed_files(repo, "parallel/beta") == ["beta.txt"]
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--force")[0] == 0
