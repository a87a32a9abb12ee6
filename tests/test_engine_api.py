"""The Engine driven directly (no argparse): plan, start a demo run, follow it, stop, clean up.

Real git in a tmp repo, a private tmux server (`tmux_socket`), the demo agent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from engine.core import events as rev
from engine.core.approval import Approver, Decision, approved
from engine.core.config import ParallelConfig
from engine.core.errors import EngineError
from engine.core.models import Subtask
from engine.hosts.registry import Hosts
from engine.planning.offline import OfflinePlanner
from engine.run import orchestrator
from engine.run.fold import fold, journaled
from engine.run.journal import open_journal
from engine.run.orchestrator import PlannedSession, Preflight, RunRequest, preflight
from engine.service import Engine, build_engine
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, branches, cli, windows, worktree_paths

pytestmark = pytest.mark.tmux


def _engine(repo: Path) -> Engine:
    return build_engine(repo, planner="offline", agent="demo")


def _subtasks(n: int) -> tuple[Subtask, ...]:
    return tuple(Subtask(name=f"part{i}", description=f"do part {i}") for i in range(n))


def test_plan_uses_the_injected_planner_and_reports_its_stages(repo_factory: RepoFactory) -> None:
    engine = _engine(repo_factory(FILES))
    seen: list[rev.Event] = []
    engine.subscribe(seen.append)
    plan = asyncio.run(engine.plan("Add a login page with tests", planner=OfflinePlanner()))
    assert plan.subtasks
    assert any(isinstance(e, rev.StageFinished) for e in seen)


def test_start_follow_to_the_end_then_cleanup(repo_factory: RepoFactory, tmux_socket: str) -> None:
    repo = repo_factory(FILES)
    engine = _engine(repo)

    async def scenario() -> list[rev.Event]:
        started = await engine.start_run(_subtasks(2), "two parts", "demo")
        assert [s.phase for s in started.sessions] == ["started", "started"]
        return [e async for b in engine.follow(started.run_id, poll_s=0.1) for e in b.events]

    events = asyncio.run(scenario())
    assert isinstance(events[0], rev.RunFollowed)
    assert isinstance(events[-1], rev.RunFinished)
    assert set(events[-1].states) == {"part0", "part1"}
    status = asyncio.run(engine.status())
    assert status.orchestrator == "gone"
    with open_journal() as journal:  # the recorder journaled what subscribers saw, RunStarted included
        state = fold(status.run_id, journaled(journal.events(status.run_id)))
    assert state.finished and not state.killed
    assert {s.name: s.stage for s in state.sessions} == {"part0": "started", "part1": "started"}
    assert state.counts == {"done": 2}
    outcome = asyncio.run(engine.cleanup())
    assert outcome.result is not None and outcome.result.removed >= 2
    assert worktree_paths(repo) == [str(repo)]
    assert windows(tmux_socket) == []


def test_stop_waits_until_the_session_is_dead(repo_factory: RepoFactory, tmux_socket: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "60")
    repo = repo_factory(FILES)
    engine = _engine(repo)
    started = asyncio.run(engine.start_run(_subtasks(2), "two parts", "demo"))
    assert asyncio.run(engine.stop("part0")) == "part0"
    state = asyncio.run(engine.state(started.run_id))
    assert state.session("part0") is not None and state.session("part0").stage == "stopped"  # type: ignore[union-attr]
    status = asyncio.run(engine.status(started.run_id))
    by_name = {s.name: s for s in status.sessions}
    assert by_name["part0"].detail == "stopped by user"
    assert by_name["part1"].state.value in ("working", "starting", "idle")
    asyncio.run(engine.cleanup(force=True))
    assert branches(repo) == [] or all(b.startswith("parallel/") for b in branches(repo))


def test_a_blocking_plan_is_refused_before_anything_exists(repo_factory: RepoFactory,
                                                           tmux_socket: str) -> None:
    repo = repo_factory(FILES)
    engine = _engine(repo)
    twice = (Subtask(name="a", description="a", files_to_modify=("src/a.py",)),
             Subtask(name="b", description="b", files_to_modify=("src/a.py",)))
    with pytest.raises(EngineError, match=r"src/a\.py"):
        asyncio.run(engine.start_run(twice, "overlap", "demo"))
    assert branches(repo) == [] and windows(tmux_socket) == []


def test_run_preflights_once(repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """`run` shows the preflight's sessions before confirming, then creates with that same
    preflight: the agent, branch, path and tmux checks run once (the Engine alone, too). Only
    the cheap taken-check of branches and paths runs again, under the repo lock at start
    (another run may have taken them while the person read the preflight)."""
    calls: list[str] = []
    taken: list[str] = []
    check_taken = orchestrator.check_taken

    def counted(request: RunRequest, config: ParallelConfig, hosts: Hosts) -> Preflight:
        calls.append(request.task)
        return preflight(request, config, hosts)

    def counted_taken(request: RunRequest, planned: Sequence[PlannedSession], hosts: Hosts) -> None:
        taken.append(request.task)
        check_taken(request, planned, hosts)

    monkeypatch.setattr(orchestrator, "preflight", counted)
    monkeypatch.setattr(orchestrator, "check_taken", counted_taken)
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--prompt", "go",
                       "--agent", "demo", "--yes")
    assert code == 0, err
    assert "a: parallel/a at" in err and len(calls) == 1, calls
    assert len(taken) == 2, "the preflight's taken-check, then once more under the lock"
    engine = _engine(repo)
    started = asyncio.run(engine.start_run(_subtasks(2), "two parts", "demo"))
    assert len(started.sessions) == 2 and calls[1:] == ["two parts"]
    solo = (Subtask(name="solo", description="alone"),)
    other = asyncio.run(engine.preflight(solo, "demo", task="another task"))
    asyncio.run(engine.start_run(solo, "one part", "demo", preflight=other))
    assert calls[2:] == ["another task", "one part"], "a preflight of another request is run again"


class _Slow(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "Executing" in message and "took" in message:
            self.lines.append(message)


def test_following_eight_sessions_never_blocks_the_event_loop(repo_factory: RepoFactory, tmux_socket: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """asyncio debug mode logs every callback over `slow_callback_duration`: none may appear
    while 8 demo sessions are started and followed to the end."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "1")
    engine = build_engine(repo_factory(FILES), planner="offline", agent="demo")
    slow = _Slow()
    logger = logging.getLogger("asyncio")
    logger.addHandler(slow)
    old_level = logger.level
    logger.setLevel(logging.WARNING)

    async def scenario() -> list[rev.Event]:
        asyncio.get_running_loop().slow_callback_duration = 0.1
        started = await engine.start_run(_subtasks(8), "eight parts", "demo")
        return [e async for b in engine.follow(started.run_id, poll_s=0.2) for e in b.events]

    try:
        events = asyncio.run(scenario(), debug=True)
    finally:
        logger.removeHandler(slow)
        logger.setLevel(old_level)
    assert isinstance(events[-1], rev.RunFinished)
    assert len(events[-1].states) == 8
    assert slow.lines == []
    asyncio.run(engine.cleanup(force=True))
    assert os.environ["PARALLEL_TUI_TMUX_SOCKET"] == tmux_socket


def test_run_jsonl_prints_exactly_the_journaled_events(repo_factory: RepoFactory, tmux_socket: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI's `--jsonl` is one more subscriber of the recorder: each line is the journal's
    own payload, in the journal's order, and stdout holds nothing else."""
    repo = repo_factory(FILES)
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes",
                         "--wait", "--jsonl")
    assert code == 0, err
    printed = [json.loads(line) for line in out.splitlines()]
    assert printed[0]["kind"] == "run_started" and printed[-1]["kind"] == "run_finished"
    with open_journal() as journal:
        stored = [payload for _at, _kind, payload in journal.events(printed[0]["run_id"])]
    assert printed == stored


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
