"""`parallel-tui run --agent gemini…` with the real Gemini CLI against the fake Gemini API.

The test's GEMINI_CLI_HOME stands for the user's own Gemini folder: an API-key login and the
repo in its trusted folders. parallel-tui gives each session a home of its own that links to
it, with the hooks added to its settings (see `engine.agents.gemini`).
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
from tests.fake_gemini_api import FakeGeminiAPI, Turn, call, say, settings, shell
from tests.fake_messages_api import Recorded
from tests.run_helpers import FILES, cli, status_json

pytestmark = [pytest.mark.e2e, pytest.mark.tmux]


@pytest.fixture(scope="session")
def gemini_bin() -> str:
    return pinned_bin("gemini")


@pytest.fixture
def gemini_home(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = isolated_env / "gemini-user"
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings()))
    monkeypatch.setenv("GEMINI_CLI_HOME", str(home))
    monkeypatch.setenv("GEMINI_API_KEY", "fake-gemini-key")
    yield home


def trust(home: Path, repo: Path) -> None:
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps({str(repo): "TRUST_FOLDER"}))


def _workspace(record: Recorded) -> str:
    found = re.search(r"Workspace Directories:\*\*\n\s*- (\S+)", record.text())
    return found.group(1) if found else ""


def _per_worktree(scripts: dict[str, list[Turn]]) -> object:
    def pick(record: Recorded) -> list[Turn] | None:
        where = _workspace(record)
        return next((turns for name, turns in scripts.items() if where.endswith(f"/{name}")), None)
    return pick


def _commit(name: str) -> Turn:
    return shell(f"printf '{name}\\n' > {name}.txt && git add {name}.txt && git commit -qm 'Add {name}' "
                 "&& echo COMMITTED")


def test_headless_two_sessions_commit_their_files_with_status_from_hooks_and_tokens(
        gemini_bin: str, gemini_home: Path, repo_factory: RepoFactory, tmux_socket: str,
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    trust(gemini_home, repo)
    plan = two_subtask_plan(repo.parent)
    scripts = {
        # alpha first tries to write beta's file: the BeforeTool ownership hook blocks it
        "alpha": [call("write_file", {"file_path": "beta.txt", "content": "not mine\n"}), _commit("alpha"),
                  say("alpha done", delay=1.5)],
        "beta": [_commit("beta"), say("beta done", delay=1.5)],
    }
    with FakeGeminiAPI(script_for=_per_worktree(scripts)) as api:  # type: ignore[arg-type]
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan),
                           "--agent", "gemini-headless", "--yes", "--wait")
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
    assert not (worktree_of(repo, "alpha") / "beta.txt").exists(), "the refused write happened"
    refused = sessions["alpha"]["refused_edits"]
    assert [r["path"] for r in refused] == ["beta.txt"], refused  # type: ignore[index]
    told = [r for r in api.turn_requests if "belongs to subtask beta" in r.text()]
    assert told, "gemini told the model why its write was blocked"
    events = [e["event"] for e in hook_events(isolated_env, "beta")]
    assert events.index("BeforeTool") < events.index("AfterAgent"), events
    assert api.turn_requests[0].headers.get("x-goog-api-key") == "fake-gemini-key"
    assert not (gemini_home / ".gemini" / "settings.json").read_text().count("hook_writer"), \
        "the user's own settings were left alone"


def test_a_repo_gemini_does_not_trust_is_refused_before_anything_starts(
        gemini_bin: str, gemini_home: Path, repo_factory: RepoFactory, tmux_socket: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "solo", "--prompt", "Create solo.txt",
                       "--agent", "gemini-headless", "--yes")
    assert code != 0
    assert "does not trust" in err and "trustedFolders.json" in err, err
    assert not (repo.parent / f"{repo.name}.parallel").exists()


def test_interactive_asks_for_approval_then_goes_idle(
        gemini_bin: str, gemini_home: Path, repo_factory: RepoFactory, tmux_socket: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    trust(gemini_home, repo)
    plan = two_subtask_plan(repo.parent)
    scripts = {"alpha": [_commit("alpha"), say("alpha done")],  # the shell asks under auto_edit
               "beta": [call("write_file", {"file_path": "beta.txt", "content": "beta\n"}), say("beta done")]}
    with FakeGeminiAPI(script_for=_per_worktree(scripts)) as api:  # type: ignore[arg-type]
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "gemini",
                           "--yes")
        assert code == 0, err
        seen: dict[str, list[str]] = {"alpha": [], "beta": []}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (
                "needs_input" in seen["alpha"] and "idle" in seen["beta"]):
            for s in status_json(capsys, repo)["sessions"]:  # type: ignore[attr-defined]
                seen[s["name"]].append(s["state"])
            time.sleep(0.3)
    assert "needs_input" in seen["alpha"], seen
    assert "idle" in seen["beta"], seen
    run_id = str(status_json(capsys, repo)["run_id"])
    assert ("needs_input", "hook") in state_changes(run_id, "alpha")  # Notification ToolPermission
    assert ("idle", "hook") in state_changes(run_id, "beta")  # AfterAgent
    assert (worktree_of(repo, "beta") / "beta.txt").read_text() == "beta\n"
    assert not (worktree_of(repo, "alpha") / "alpha.txt").exists(), "ran before it was approved"
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--force")[0] == 0
