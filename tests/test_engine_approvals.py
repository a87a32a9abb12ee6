"""Launch and stop ask through the one Approver port: a declined Decision changes nothing.

Real git in a tmp repo, a private tmux server (`tmux_socket`), the demo agent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.core.approval import Approver, Decision, approved
from engine.core.models import Subtask
from engine.service import Engine, build_engine
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, branches, windows, worktree_paths

pytestmark = pytest.mark.tmux


def _engine(repo: Path) -> Engine:
    return build_engine(repo, planner="offline", agent="demo")


def _subtasks(n: int) -> tuple[Subtask, ...]:
    return tuple(Subtask(name=f"part{i}", description=f"do part {i}") for i in range(n))


def _decline(asked: list[Decision]) -> Approver:
    def approve(decision: Decision) -> bool:
        asked.append(decision)
        return False
    return approve


def test_a_declined_launch_creates_nothing(repo_factory: RepoFactory, tmux_socket: str) -> None:
    repo = repo_factory(FILES)
    engine = _engine(repo)
    asked: list[Decision] = []
    started = asyncio.run(engine.start_run(_subtasks(2), "two parts", "demo", approve=_decline(asked)))
    assert started is None
    assert [d.action for d in asked] == ["launch"]
    assert asked[0].question == "Start 2 sessions of agent demo on this machine"
    assert "part0, part1" in asked[0].detail and "Estimate (modelled): about" in asked[0].detail
    assert branches(repo) == [] and worktree_paths(repo) == [str(repo)]
    assert windows(tmux_socket) == []
    assert asyncio.run(engine.runs()) == []


def test_a_launch_asked_about_other_subtasks_is_declined(repo_factory: RepoFactory, tmux_socket: str) -> None:
    """The app's approver agrees only to what the person saw: a changed plan starts nothing."""
    repo = repo_factory(FILES)
    engine = _engine(repo)
    seen = engine.launch_decision(_subtasks(2), None, "demo")
    asked = approved(seen.detail)
    started = asyncio.run(engine.start_run(_subtasks(3), "three parts", "demo", approve=asked))
    assert started is None
    assert branches(repo) == [] and asyncio.run(engine.runs()) == []


def test_a_declined_stop_leaves_the_agent_running(repo_factory: RepoFactory, tmux_socket: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "60")
    repo = repo_factory(FILES)
    engine = _engine(repo)
    started = asyncio.run(engine.start_run(_subtasks(1), "one part", "demo"))
    assert started is not None
    asked: list[Decision] = []
    assert asyncio.run(engine.stop("part0", approve=_decline(asked))) is None
    assert [(d.action, d.question) for d in asked] == [("stop", "Stop part0")]
    status = asyncio.run(engine.status(started.run_id))
    assert [s.state.value for s in status.sessions] != ["stopped"]
    assert status.sessions[0].agent_running and status.sessions[0].detail != "stopped by user"
    assert asyncio.run(engine.stop("part0", approve=approved(asked[0].detail))) == "part0"
    assert asyncio.run(engine.status(started.run_id)).sessions[0].detail == "stopped by user"
    asyncio.run(engine.cleanup(force=True))
