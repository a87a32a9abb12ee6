"""A dashboard a person trusts: it asks before spending or stopping, offers only keys and
commands that apply, and says why an attach failed. The real engine: real git, a private tmux
server, the demo agent."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import DataTable

from engine.core.models import SessionState
from engine.service import build_engine
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES, cli, status_json
from tests.test_tui import make_app, plan, settle, until_ended
from tui.app import ParallelApp
from tui.merge_modals import Confirm
from tui.merge_screen import MergeScreen
from tui.modals import HelpScreen
from tui.review_screen import ReviewScreen
from tui.sessions_screen import SessionsScreen


def confirm_text(app: ParallelApp) -> str:
    assert isinstance(app.screen, Confirm), type(app.screen).__name__
    return str(app.screen.query_one("#confirm-text").render())


def palette_titles(app: ParallelApp) -> set[str]:
    return {c.title for c in app.get_system_commands(app.screen)}


async def test_l_asks_esc_starts_nothing_y_starts(web_repo: Path, tmux_socket: str) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        await settle(pilot, app)
        n = len(app.state.approved)
        await pilot.press("l")
        text = confirm_text(app)
        assert f"Start {n} sessions of agent demo on this machine" in text, text
        assert "Estimate (modelled)" in text and "min of wall time" in text, text
        assert all(s.name in text for s in app.state.subtasks)
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, ReviewScreen)
        assert app.state.run_id == ""
        assert await app.backend.engine.history() == (), "esc started nothing"
        await pilot.press("l")
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await settle(pilot, app)
        assert isinstance(app.screen, SessionsScreen)
        [line] = await app.backend.engine.history()
        assert line.run == app.state.run_id, "y started one run"
        await until_ended(pilot, app, n)


async def test_the_palette_offers_only_what_applies_here(web_repo: Path, tmux_socket: str) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        titles = palette_titles(app)
        assert "Launch approved subtasks" not in titles
        assert not titles & {"Split / savings", "Plan review", "Merge review", "Run report"}, \
            "no plan, no run: those screens have nothing to show"
        await plan(pilot, app)
        await settle(pilot, app)
        titles = palette_titles(app)
        assert {"Launch approved subtasks", "Plan review", "Split / savings"} <= titles
        await pilot.press("1")
        assert "Launch approved subtasks" not in palette_titles(app), "launch belongs to plan review"
        await pilot.press("escape", "3")
        launch = next(c for c in app.get_system_commands(app.screen) if c.title == "Launch approved subtasks")
        launch.callback()
        await pilot.pause()
        assert isinstance(app.screen, Confirm), "the palette's launch asks too"
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.state.run_id == ""
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")


async def test_help_opens_at_the_screen_you_are_on(web_repo: Path) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("escape", "4", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        here = app.screen.query_one("#help-sessions")
        assert here.has_class("-here")
        box = app.screen.query_one("#help")
        assert box.scroll_y > 0 and here.region.y <= box.region.y + 2, "scrolled to the board's keys"
        await pilot.press("q")
        assert isinstance(app.screen, SessionsScreen)
        for name in ("task", "split", "review", "sessions", "merge", "report", "history"):
            assert app.screen.query(f"#help-{name}") is not None
        await pilot.press("question_mark")
        sections = {w.id for w in app.screen.query("#help Static")}
        assert sections >= {f"help-{n}" for n in ("task", "split", "review", "sessions", "merge",
                                                   "report", "history")}, "help covers every screen"


async def test_s_asks_and_quit_asks_while_agents_run(web_repo: Path, tmux_socket: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")
    engine = build_engine(web_repo, planner="offline", agent="demo")
    task, subtasks = engine.quick_subtasks("one,two", "demo work")
    await engine.start_run(subtasks, task, "demo")
    app = make_app(web_repo)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            run = app.state.run
            if run is not None and all(s.state == SessionState.WORKING for s in run.sessions):
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("s")
        assert "Stop one's agent" in confirm_text(app)
        await pilot.press("escape")
        await settle(pilot, app)
        await pilot.pause(0.5)
        assert app.state.run is not None and app.state.run.sessions[0].state == SessionState.WORKING, \
            "esc stopped nothing"
        await pilot.press("ctrl+q")
        assert "2 agents still run" in confirm_text(app)
        await pilot.press("escape")
        assert app.is_running and isinstance(app.screen, SessionsScreen)
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
        assert not app.is_running or app._exit_renderables is not None
    assert app.return_code in (0, None)


async def test_a_failed_attach_says_why_in_the_app(web_repo: Path, tmux_socket: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The app believes it runs inside a tmux whose server is gone: tmux's complaint is a
    notification, not a line on the shell after quitting."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")
    engine = build_engine(web_repo, planner="offline", agent="demo")
    task, subtasks = engine.quick_subtasks("one", "demo work")
    await engine.start_run(subtasks, task, "demo")
    monkeypatch.setenv("TMUX", f"{web_repo}/no-such-socket,1,0")
    app = make_app(web_repo)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            if app.state.run is not None and app.state.run.sessions[0].has_window:
                break
            await pilot.pause(0.1)
        await pilot.press("enter")
        await settle(pilot, app)
        said = [n.message for n in app._notifications]
        assert any(m.startswith("cannot attach to one:") and "tmux" in m for m in said), said


async def test_w_jumps_to_the_next_session_that_needs_input(web_repo: Path, tmux_socket: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")
    engine = build_engine(web_repo, planner="offline", agent="demo")
    task, subtasks = engine.quick_subtasks("one,two,three", "demo work")
    asking = tuple(dataclasses.replace(s, description="demo:ask Which colour?") if s.name == "three" else s
                   for s in subtasks)
    await engine.start_run(asking, task, "demo")
    app = make_app(web_repo)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(150):
            run = app.state.run
            if run is not None and run.sessions[2].state == SessionState.NEEDS_INPUT:
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, SessionsScreen)
        assert app.screen.selected().name == "one"  # type: ignore[union-attr]
        await pilot.press("w")
        assert app.screen.selected().name == "three"  # type: ignore[union-attr]


async def test_the_reports_headline_leads_with_what_was_measured(web_repo: Path) -> None:
    """The modelled one-session time is an estimate: the headline measures first, labels the
    model's figures and the comparison, and explains the specialization bonus where it shows."""
    from snapshots.test_merge_screens import REPORT  # noqa: PLC0415 - the snapshots' recorded report
    from tui.report_screen import ReportScreen  # noqa: PLC0415

    app = make_app(web_repo)
    async with app.run_test(size=(160, 40)) as pilot:
        app.push_screen(ReportScreen(REPORT.run, recorded=REPORT))
        await pilot.pause()
        head = str(app.screen.query_one("#report-head").render())
        lines = head.splitlines()
        measured = next(i for i, line in enumerate(lines) if line.startswith("measured"))
        modelled = next(i for i, line in enumerate(lines) if line.startswith("modelled"))
        assert measured < modelled, head
        assert "wall 42.0 min (launch to merge)" in lines[measured]
        assert "90.0 min for one session (an estimate, never run)" in lines[modelled]
        assert "53% under that estimated one-session time (a measurement against a model)" in head
        assert "+5% specialization: the spec assumes each agent matched to its subtask's skill adds 5%" \
            in head
        assert "realised savings" not in head, "no bare 'realised savings' against an invented time"


async def test_n_keeps_edits_and_rejections_where_the_new_plan_allows(web_repo: Path) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        first, *_, last = app.state.subtasks
        await pilot.press("e")
        app.screen.query_one("#edit-description").value = "my own words"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press(*["down"] * (len(app.state.subtasks) - 1), "r")  # reject the last one
        await settle(pilot, app)
        assert last.name not in app.state.approved
        n = len(app.state.subtasks) - 1
        await pilot.press("n", "backspace", "backspace", str(n), "enter")
        assert "edited " + first.name in confirm_text(app) and "rejected " + last.name in confirm_text(app)
        await pilot.press("escape")
        await settle(pilot, app)
        assert len(app.state.subtasks) == n + 1, "esc: no re-plan"
        await pilot.press("n", "backspace", "backspace", str(n), "enter", "y")
        await settle(pilot, app)
        names = [s.name for s in app.state.subtasks]
        assert len(names) == n
        kept = next(s for s in app.state.subtasks if s.name == first.name)
        assert kept.description == "my own words", "the edit survives the re-plan"
        said = [m.message for m in app._notifications]
        assert any(f"kept your changes to {first.name}" in m for m in said), said
        if last.name in names:
            assert last.name not in app.state.approved, "the rejection survives"
        else:
            assert any(f"dropped your changes to {last.name}" in m for m in said), said


async def test_switching_the_agent_clears_what_was_said_about_the_last_one(
        web_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """codex is not installed here: launching it says so (in the planning log too); switching
    to demo, that line goes."""
    from textual.widgets import Select  # noqa: PLC0415

    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no codex on it
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        app.screen.query_one("#agent", Select).value = "codex"
        await plan(pilot, app)
        await pilot.press("l", "y")  # the launch finds no codex
        await settle(pilot, app)
        await pilot.press("1")
        await settle(pilot, app)
        progress = str(app.screen.query_one("#progress").render())
        assert "codex" in app.state.error and "codex" in progress, (app.state.error, progress)
        app.screen.query_one("#agent", Select).value = "demo"
        await settle(pilot, app)
        progress = str(app.screen.query_one("#progress").render())
        assert "codex" not in progress and app.state.error == "", progress


async def test_a_session_that_wrote_outside_its_files_is_marked_on_the_board_and_in_merge_review(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    repo = repo_factory(FILES)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"task": "t", "estimate": {"sequential_minutes": 30}, "subtasks": [
        {"name": "a", "description": "a's part", "files_to_create": ["demo/a.md"]},
        {"name": "b", "description": "b's part", "files_to_create": ["demo/b.md"]}]}))
    code, _, err = await asyncio.to_thread(cli, capsys, "run", "--repo", str(repo), "--plan", str(plan_file),
                                           "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    worktree = repo.parent / f"{repo.name}.parallel" / "a"
    (worktree / "src" / "a.py").write_text("A = 2\n")  # b owns nothing there; a does not own it
    git(worktree, "commit", "-qam", "a strays")
    run_id = str((await asyncio.to_thread(status_json, capsys, repo))["run_id"])
    app = ParallelApp(build_engine(repo, planner="offline", agent="demo"), planner="offline",
                      label="test-repo", still=True, open_run=run_id)
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(100):
            if app.state.run is not None and isinstance(app.screen, SessionsScreen):
                break
            await pilot.pause(0.1)
        await settle(pilot, app)
        table = app.screen.query_one("#sessions", DataTable)
        assert "↗1" in str(table.get_row("a")[1]) and "↗" not in str(table.get_row("b")[1])
        await pilot.press("m")
        await settle(pilot, app)
        assert isinstance(app.screen, MergeScreen) and app.screen.state.checked is not None
        flags = {b.name: b.flags for b in app.screen.state.checked.report.branches}
        assert flags["parallel/a"] == ("1 file(s) outside its files: src/a.py",), flags
        assert flags["parallel/b"] == (), flags
        matrix = app.screen.query_one("#matrix", DataTable)
        assert "outside its files" in str(matrix.get_row("parallel/a")[-1])


async def test_a_screen_key_typed_into_the_minutes_field_changes_nothing(web_repo: Path) -> None:
    """The minutes field focused (visibly), `3` meant for plan review: the model does not
    re-run; esc leaves the field as it was, and then `3` goes to plan review."""
    from textual.widgets import Input  # noqa: PLC0415

    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        await pilot.press("2")
        await settle(pilot, app)
        assert type(app.focused).__name__ == "DataTable", "arriving on a screen, focus is on its list"
        verdict = str(app.screen.query_one("#verdict").render())
        field = app.screen.query_one(".minutes", Input)
        field.focus()
        await pilot.pause()
        assert field.styles.border.top[0] == "tall", "the focused field stands out"
        await pilot.press("3")
        await settle(pilot, app)
        assert app.state.minutes is None and str(app.screen.query_one("#verdict").render()) == verdict
        await pilot.press("escape")
        await pilot.pause()
        assert field.value == "" and app.focused is not field
        await pilot.press("3")
        assert isinstance(app.screen, ReviewScreen)


async def test_q_quits_from_a_screen_and_asks_while_agents_run(web_repo: Path, tmux_socket: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")
    engine = build_engine(web_repo, planner="offline", agent="demo")
    task, subtasks = engine.quick_subtasks("one", "demo work")
    await engine.start_run(subtasks, task, "demo")
    app = make_app(web_repo)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            if app.state.run is not None and app.state.run.sessions[0].agent_running:
                break
            await pilot.pause(0.1)
        await pilot.press("q")
        assert "1 agent still runs" in confirm_text(app)
        await pilot.press("q")  # q on the question: no
        assert isinstance(app.screen, SessionsScreen) and app.is_running
