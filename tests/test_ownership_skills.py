"""Sessions launched with their skill: invoked as a Claude Code command when the agent has
it, stated in words otherwise; `status` says which (`skill`, `skill_use`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.agents.descriptors import skill_command
from engine.agents.prompt import Brief, prompt_text, skill_intent, skill_use
from engine.core.models import AgentMatch, Subtask
from tests.conftest import RepoFactory
from tests.fake_messages_api import FakeMessagesAPI, text
from tests.gitrepo import commit
from tests.run_helpers import FILES, cli, status_json
from tests.test_claude_e2e import claude_bin
from tests.test_run_claude_e2e import claude_env, side_requests, trusted_repo

__all__ = ["claude_bin", "claude_env"]

SKILL = "/sc:implement --focus security"


def subtask(skill: str = SKILL) -> Subtask:
    return Subtask(name="auth", description="Add login", files_to_modify=("src/a.py",),
                   agent=AgentMatch(name="security-engineer", skill=skill, confidence=0.8, why=""))


def test_an_invoked_skill_leads_the_prompt_and_the_task_becomes_its_arguments() -> None:
    prompt = prompt_text(subtask(), [], Brief(task="Add login and logout"), invoke_skill=True)
    assert prompt.startswith(f"{SKILL}\n\nThe whole task (every session of this run shares it; yours is "
                             "one part):\nAdd login and logout\n\nYour part (auth):\nAdd login")
    assert skill_use(prompt) == (SKILL, "invoked")


def test_a_skill_without_a_command_is_stated_in_words() -> None:
    prompt = prompt_text(subtask(), [], Brief())
    assert prompt.startswith("Add login")
    words = ("Work the way the skill /sc:implement --focus security would: "
             "implement, with a focus on security.")
    assert words in prompt
    assert skill_use(prompt) == (SKILL, "described")
    assert skill_use(prompt_text(Subtask(name="x", description="plain"), [], Brief(task="plain"))) == ("", "")
    assert skill_intent("/sc:test --coverage") == "test, coverage"


def test_the_command_must_be_committed_or_the_users_own(repo_factory: RepoFactory, tmp_path: Path) -> None:
    repo, home = repo_factory(FILES), tmp_path / "home"
    assert not skill_command("claude", SKILL, repo, home)
    (repo / ".claude/commands/sc").mkdir(parents=True)
    (repo / ".claude/commands/sc/implement.md").write_text("Implement: $ARGUMENTS\n")
    assert not skill_command("claude", SKILL, repo, home)  # untracked: worktrees would not have it
    commit(repo, {}, "add the command")
    assert skill_command("claude", SKILL, repo, home)
    assert not skill_command("codex", SKILL, repo, home)  # a Claude Code command only
    assert not skill_command("claude", "/../etc:passwd", repo, home)
    (home / ".claude/commands").mkdir(parents=True)
    (home / ".claude/commands/mine.md").write_text("x")
    assert skill_command("claude-headless", "/mine", repo, home)


@pytest.mark.e2e
@pytest.mark.tmux
def test_a_headless_session_runs_its_skill_command_and_status_says_so(
        claude_bin: str, repo_factory: RepoFactory, tmux_socket: str, claude_env: None,
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = trusted_repo(repo_factory, isolated_env)
    commit(repo, {".claude/commands/sc/implement.md": "SKILL-BODY-7 focus=[$ARGUMENTS]\n"}, "skill")
    plan = {"task": "t", "estimate": {"sequential_minutes": 30}, "subtasks": [
        {"name": "auth", "description": "Create auth.txt", "files_to_create": ["auth.txt"],
         "agent": {"name": "security-engineer", "skill": SKILL, "confidence": 0.8}},
        {"name": "docs", "description": "Create docs.txt", "files_to_create": ["docs.txt"],
         "agent": {"name": "technical-writer", "skill": "/sc:document", "confidence": 0.8}}]}
    plan_file = repo.parent / "plan.json"
    plan_file.write_text(json.dumps(plan))
    with FakeMessagesAPI([text("DONE"), text("DONE")], router=side_requests) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan_file),
                           "--agent", "claude-headless", "--yes", "--wait")
    assert code == 0, err
    sent = [json.dumps(r.body["messages"]) for r in api.requests if r.body.get("tools")]
    assert any("SKILL-BODY-7 focus=[--focus security" in s for s in sent), sent
    assert any("Work the way the skill /sc:document would: document." in s for s in sent)
    sessions = {s["name"]: s for s in status_json(capsys, repo)["sessions"]}  # type: ignore[attr-defined]
    assert (sessions["auth"]["skill"], sessions["auth"]["skill_use"]) == (SKILL, "invoked")
    assert (sessions["docs"]["skill"], sessions["docs"]["skill_use"]) == ("/sc:document", "described")
