"""The app on the states a person meets outside the happy path: a repo whose last run was
interrupted while it was being created, and the Claude planner chosen with no API key.
Real git, a private tmux server, the real CLI killed by fault injection, the demo agent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Select

from engine.agents.demo_repo import make_demo_repo
from engine.claude.planners import PLANNERS
from engine.core import faults
from engine.core.numfmt import fixed
from engine.service import build_engine
from tests.gitrepo import git
from tests.test_tui import TASK, settle
from tui.app import ParallelApp
from tui.sessions_screen import SessionsScreen
from tui.split_screen import SplitScreen, _plan_files
from tui.task_screen import TaskScreen

_MAIN = "import sys; from engine.cli.main import main; sys.exit(main())"


def killed_while_creating(repo: Path) -> None:
    """`run` SIGKILLed after its 2nd worktree: three sessions journaled, none has an agent."""
    env = {**os.environ, faults.ENV: "worktree:2:kill"}
    proc = subprocess.run([sys.executable, "-c", _MAIN, "run", "--repo", str(repo), "--tasks", "a,b,c",
                           "--agent", "demo", "--yes"], env=env, capture_output=True, text=True, timeout=60,
                          start_new_session=True, check=False)
    assert proc.returncode == -9, proc.stderr


async def test_an_interrupted_run_opens_its_board_and_says_so(web_repo: Path, tmux_socket: str) -> None:
    killed_while_creating(web_repo)
    app = ParallelApp(build_engine(web_repo, planner="offline", agent="demo"), planner="offline", still=True)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(50):
            if isinstance(app.screen, SessionsScreen) and app.state.run is not None:
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, SessionsScreen), "the interrupted run's board opens"
        await pilot.pause(1.5)  # a few bridge ticks: watching must not make it look "running"
        assert app.state.run.orchestrator == "interrupted"  # type: ignore[union-attr]
        head = str(app.screen.query_one("#board-head").render())
        assert "3 sessions" in head and "run interrupted" in head, head
        radar = str(app.screen.query_one("#radar").render())
        assert "run --resume" in radar, radar


async def choose_planner(pilot: Pilot[None], app: ParallelApp, value: str) -> str:
    """Open the planner field and pick `value` by keyboard; the planner line it then shows."""
    select = app.screen.query_one("#planner-choice", Select)
    select.focus()
    await pilot.press("enter")
    moves = PLANNERS.index(value) - PLANNERS.index(str(select.value))
    for _ in range(abs(moves)):
        await pilot.press("down" if moves > 0 else "up")
    await pilot.press("enter")
    await pilot.pause()
    assert select.value == value
    return str(app.screen.query_one("#planner").render())


async def test_claude_planner_without_a_key_says_why_and_auto_falls_back(
        web_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    app = ParallelApp(build_engine(web_repo, planner="auto", agent="demo"), planner="auto", still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        line = await choose_planner(pilot, app, "claude")
        assert "ANTHROPIC_API_KEY is not set" in line and "choose auto" in line, line
        await pilot.press("t", *TASK, "enter")
        await settle(pilot, app)
        assert isinstance(app.screen, TaskScreen), "nothing planned without a key"
        progress = str(app.screen.query_one("#progress").render())
        assert "error: ANTHROPIC_API_KEY is not set" in progress, progress
        line = await choose_planner(pilot, app, "auto")
        assert line == ("plans with: offline (no ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN; "
                        "Claude Code is not logged in)"), line
        await pilot.press("p")
        await settle(pilot, app)
        assert isinstance(app.screen, SplitScreen) and app.state.plan is not None
        assert app.state.plan.planner == "offline"


async def test_the_two_sequential_totals_are_labelled_with_their_source(web_repo: Path) -> None:
    """Split screen: the task estimate; review: the approved subtasks' own minutes. Each total
    says which it is, and the split screen names the review's figure when they differ."""
    app = ParallelApp(build_engine(web_repo, planner="offline", agent="demo"), planner="offline", still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press(*TASK, "enter")
        await settle(pilot, app)
        await pilot.press("enter")  # from the split/savings table to the review
        await settle(pilot, app)
        await pilot.press("down", "r")  # reject one: the approved sum moves, the estimate does not
        await settle(pilot, app)
        assert app.state.checked is not None
        approved = sum(s.estimated_minutes for s in app.state.checked.subtasks)
        assert app.state.checked.overhead.sequential_minutes == pytest.approx(approved)
        head = str(app.screen.query_one("#review-head").render())
        assert f"vs {fixed(approved)} min of the approved subtasks" in head, head
        await pilot.press("2")
        await settle(pilot, app)
        _, table = app.backend.table(app.state.task, app.state.profile, scope=app.state.scope,  # type: ignore[arg-type]
                                     minutes=app.state.minutes, files=_plan_files(app.state))
        assert table.sequential_minutes == app.state.plan.estimate.sequential_minutes  # type: ignore[union-attr]
        verdict = str(app.screen.query_one("#verdict").render())
        assert f"vs {fixed(table.sequential_minutes)} min sequential, the task estimate" in verdict, verdict
        assert fixed(table.sequential_minutes) != fixed(approved), "this case has two totals"
        assert f"plan review (3): {fixed(approved)} min, the approved subtasks' own minutes" in verdict


def test_the_demo_repo_carries_its_own_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--demo` is for a newcomer's machine, which may have no git identity: the scratch repo has
    its own, so the merge at the end of the demo can write its commits."""
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    repo = make_demo_repo(tmp_path)
    git(repo, "config", "user.useConfigOnly", "true")
    ident = subprocess.run(["git", "-C", str(repo), "var", "GIT_COMMITTER_IDENT"], capture_output=True,
                           text=True, check=False)
    assert ident.returncode == 0 and "demo@parallel-tui.invalid" in ident.stdout
