"""`parallel-tui run --agent aider` with the real aider against a fake chat-completions API.

aider is configured as a user would: `AIDER_*` variables (model `openai/<name>`, the API base,
the `whole` edit format) and the provider's key. It has no hooks: its status is its exit, its
tokens come from its own text, and a write outside its files is stopped after the fact by the
boundary watch. aider is withdrawn from the picker (it did not always exit after its commit
here), so these run only on purpose: `make aider-cli`, then PTUI_AIDER_E2E=1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.agent_e2e import committed_files, state_changes, two_subtask_plan, worktree_of
from tests.conftest import RepoFactory
from tests.fake_chat_api import COMMIT_MESSAGE, FakeChatAPI, is_commit_request, whole_file
from tests.fake_messages_api import Recorded
from tests.gitrepo import git
from tests.run_helpers import FILES, cli, status_json

pytestmark = [pytest.mark.e2e, pytest.mark.tmux, pytest.mark.timeout(400)]  # aider: ~5 s CPU a run


@pytest.fixture(scope="session")
def aider_bin() -> str:
    if os.environ.get("PTUI_AIDER_E2E") != "1":
        pytest.skip("aider is withdrawn: set PTUI_AIDER_E2E=1 (after `make aider-cli`) to re-verify it")
    found = shutil.which("aider")
    if found is None:
        pytest.skip("aider is not installed: `make aider-cli` installs the pinned one (~690 MB)")
    return found


@pytest.fixture
def aider_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AIDER_MODEL", "openai/fake-coder")
    monkeypatch.setenv("AIDER_EDIT_FORMAT", "whole")
    monkeypatch.setenv("OPENAI_API_KEY", "fake-openai-key")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price list from the network
    yield


def _per_subtask(scripts: dict[str, list[str]]) -> object:
    def pick(record: Recorded) -> list[str] | None:
        text = record.text()
        return next((r for name, r in scripts.items() if f"Create {name}.txt and commit it" in text), None)
    return pick


def test_two_sessions_commit_their_files_and_end_done_with_tokens(
        aider_bin: str, aider_env: None, repo_factory: RepoFactory, tmux_socket: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    plan = two_subtask_plan(repo.parent)
    scripts = {name: [whole_file(f"{name}.txt", f"{name}\n")] for name in ("alpha", "beta")}
    with FakeChatAPI(script_for=_per_subtask(scripts)) as api:  # type: ignore[arg-type]
        monkeypatch.setenv("AIDER_OPENAI_API_BASE", f"{api.url}/v1")
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "aider",
                           "--yes", "--wait")
    assert code == 0, err
    status = status_json(capsys, repo)
    for session in status["sessions"]:  # type: ignore[attr-defined]
        name = session["name"]
        assert session["state"] == "done", session
        assert committed_files(repo, session["branch"]) == [f"{name}.txt"]
        assert git(repo, "log", "-1", "--format=%s", session["branch"]).strip() == COMMIT_MESSAGE
        assert isinstance(session["tokens"], int) and session["tokens"] > 0, session
        assert state_changes(str(status["run_id"]), name)[-1][0] == "done"
        assert not list(worktree_of(repo, name).glob(".aider*")), "aider left its files in the worktree"
    assert sum(is_commit_request(r) for r in api.chat_requests) == 2


def test_a_write_to_another_subtask_s_file_is_stopped_after_the_fact(
        aider_bin: str, aider_env: None, repo_factory: RepoFactory, tmux_socket: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    plan = two_subtask_plan(repo.parent)
    scripts = {"alpha": [whole_file("beta.txt", "not mine\n")], "beta": [whole_file("beta.txt", "beta\n")]}
    # the edit lands, then sits uncommitted while aider waits for its commit message
    with FakeChatAPI(script_for=_per_subtask(scripts), commit_delay=8.0) as api:  # type: ignore[arg-type]
        monkeypatch.setenv("AIDER_OPENAI_API_BASE", f"{api.url}/v1")
        cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "aider", "--yes", "--wait")
    sessions = {s["name"]: s for s in status_json(capsys, repo)["sessions"]}  # type: ignore[attr-defined]
    assert sessions["alpha"]["state"] == "exited", sessions["alpha"]
    assert "beta.txt" in sessions["alpha"]["problem"], sessions["alpha"]
    assert committed_files(repo, "parallel/alpha") == [], "stopped before its commit"
    assert sessions["beta"]["state"] == "done"
