"""SVG snapshots of every screen and the important states (`make snap-update` after looking
at snapshot_report.html). The app runs with `still=True` (no cursor blink) and a fixed label;
the sessions board is rendered from a recorded run's events through the app's real bridge,
with the clock frozen, so no tmux is involved."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from engine.core.config import user_config_path
from engine.run.diffs import FileDiff
from engine.service import build_engine
from snapshots.recorded_run import NOW, feed
from tui.app import ParallelApp

TASK = "Implement user authentication with frontend and backend"
WIDE = (160, 48)
SMALL = (80, 24)


def app_for(repo: Path, planner: str = "offline") -> ParallelApp:
    return ParallelApp(build_engine(repo, planner=planner, agent="demo"), planner=planner,
                       label="demo-repo", still=True, task=TASK)


async def settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def planned(pilot: Any) -> None:
    """Enter plans the task and shows its split first; enter again opens plan review."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def test_task_entry_80x24(snap_compare: Any, web_repo: Path) -> None:
    """Task entry at 80×24: the task box (text prefilled, no cursor blink), scope and minutes on
    one line, agent and planner on the next, 'plans with: offline (chosen)', then the Repo
    panel (12 files, modules, churn, complexity, worktrees in use 0) beside the Planning panel;
    the footer shows enter Plan, ctrl+j New line, esc Leave field."""
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=settle)


def test_task_entry_wide_claude_unavailable(snap_compare: Any, web_repo: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Task entry at 160×48 with --planner auto, no API key and no Claude Code on PATH: the
    planner line says 'plans with: offline (no ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN; Claude
    Code (`claude`) is not installed)' under the planner field set to auto — the fallback is
    explained before anything is planned."""
    path = os.environ.get("PATH", "").split(os.pathsep)
    monkeypatch.setenv("PATH", os.pathsep.join(d for d in path if not (Path(d) / "claude").exists()))
    assert snap_compare(app_for(web_repo, "auto"), terminal_size=WIDE, run_before=settle)


def test_split_savings_after_planning(snap_compare: Any, web_repo: Path) -> None:
    """Split / savings after the auth task: the verdict line on top (its total labelled 'the task
    estimate'; plan review's total, when it differs, named under it), the N = 1..10 table with the
    optimal row highlighted and starred, break-even marked ◆, rows over the cap '✗ over cap',
    the chart of total minutes falling under the flat sequential line, and the checklist."""
    async def run(pilot: Any) -> None:
        await planned(pilot)
        await pilot.press("2")
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=run)


def test_plan_review_valid(snap_compare: Any, web_repo: Path) -> None:
    """Plan review of the auth plan: every subtask ✓ approved with its agent and confidence bar,
    auth-backend selected (description, files, agent, why), 'valid' in the head line, the
    Problems panel 'none — …' in green and the footer offering l launch."""
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=planned)


def test_plan_review_80x24_one_rejected(snap_compare: Any, web_repo: Path) -> None:
    """Plan review at 80×24 with the second subtask rejected (✗): the panels stack, the head
    line counts one less approved, and the model is re-run for that count ('vs … min of the
    approved subtasks')."""
    async def run(pilot: Any) -> None:
        await planned(pilot)
        await pilot.press("down", "r")
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)


def test_plan_review_overlap_is_invalid(snap_compare: Any, web_repo: Path) -> None:
    """An edit made the second subtask also modify the first one's file: the head line says
    INVALID, the Problems panel has a red border and names the file and both subtasks in red,
    and the line above the footer says why l cannot launch (launch is greyed out)."""
    async def run(pilot: Any) -> None:
        await planned(pilot)
        app = pilot.app
        first, second = app.state.subtasks[:2]
        edited = dataclasses.replace(second, files_to_modify=(*second.files_to_modify, first.files()[0]))
        app.replace_subtask(second.name, edited)
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=run)


async def board(pilot: Any) -> None:
    """The board as the app's bridge shows the recorded run's events (`snapshots.recorded_run`)."""
    await settle(pilot)
    pilot.app.clock = lambda: NOW
    pilot.app.NOTIFICATION_TIMEOUT = 600  # the needs-input and failed notices stay, however slow the machine
    await feed(pilot.app)
    await pilot.press("escape", "4")
    await settle(pilot)


def test_sessions_board_recorded(snap_compare: Any, web_repo: Path) -> None:
    """The sessions board from a recorded run: auth-backend working (green ●), auth-frontend
    needs input and auth-docs failed (red ! markers, red state), auth-tests done (✓); elapsed,
    commits, files and cost per row; the selected session's pane preview on the right; the
    radar names the overlap on api/auth_routes.py and the failed session's problem. The
    header shows 1/4 done and the run id."""
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=board)


def test_sessions_board_80x24(snap_compare: Any, web_repo: Path) -> None:
    """The same recorded board at 80×24: the list above the pane preview, nothing cut to
    unreadable, the footer's keys enter/i/s/d visible."""
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=board)


def test_sessions_board_200x50_uses_the_room(snap_compare: Any, web_repo: Path) -> None:
    """The board at 200×50 from recorded events: every session's last line or question (the
    needs-input one in red, the failed one's problem), how long its pane has been quiet (4s,
    1m, 5m), tokens, the cost — or, for the subscription login, 'limit 37 %' — and its host
    (local); the pane preview beside it."""
    assert snap_compare(app_for(web_repo), terminal_size=(200, 50), run_before=board)


def test_help_screen(snap_compare: Any, web_repo: Path) -> None:
    """`?` from the review screen: the Keys dialog lists every key of every screen."""
    async def run(pilot: Any) -> None:
        await planned(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=run)


def test_light_theme_review(snap_compare: Any, web_repo: Path) -> None:
    """The plan review in the light theme: the same layout, readable with theme colours only."""
    async def run(pilot: Any) -> None:
        await planned(pilot)
        pilot.app.action_toggle_theme()
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=run)


DIFFS = (
    FileDiff(path="api/auth.py", status="added", before="",
             after="def login(user, password):\n    return check(user, password)\n\n\ndef logout(user):\n"
                   "    session.end(user)\n"),
    FileDiff(path="api/routes.py", status="modified",
             before="def routes():\n    return ['index', 'cart']\n",
             after="def routes():\n    return ['index', 'cart', 'login', 'logout']\n"),
    FileDiff(path="web/logo.png", status="added", before="", after="", note="binary"),
)


def test_diff_80x24(snap_compare: Any, web_repo: Path) -> None:
    """`d` at 80×24: one coloured diff per file, unified (no room for two columns), new lines
    green with + marks, the removed one red; a binary file named with why it is not shown."""
    from tui.diff_screen import DiffScreen  # noqa: PLC0415

    async def run(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.push_screen(DiffScreen("auth-backend", DIFFS))
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)


def test_diff_wide_side_by_side(snap_compare: Any, web_repo: Path) -> None:
    """The same diff at 160 columns: before and after side by side."""
    from tui.diff_screen import DiffScreen  # noqa: PLC0415

    async def run(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.push_screen(DiffScreen("auth-backend", DIFFS))
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=run)


def test_split_first_after_enter_80x24(snap_compare: Any, web_repo: Path) -> None:
    """enter on the task shows the split/savings table and verdict first (the footer offers
    enter Plan review), not the review."""
    async def run(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)


def test_edit_dialog_80x24(snap_compare: Any, web_repo: Path) -> None:
    """e on plan review at 80×24: every field on its own row (name, description, modify,
    create, minutes, agent, skill) and the save hint, all inside the screen."""
    async def run(pilot: Any) -> None:
        await planned(pilot)
        await pilot.press("e")
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)


def test_host_picker_80x24(snap_compare: Any, web_repo: Path) -> None:
    """h on plan review at 80×24, with two SSH hosts in the user's config: the Hosts dialog lists
    local (8 slots, this machine), build1 (2 slots) and build2 (3 slots), build1 and build2
    chosen; behind it the head line says 'on build1, build2 by free slots' and the footer offers
    h hosts. Nothing connects to the hosts."""
    config = user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[[hosts]]\nname = "build1"\nssh = "dev@build1.example.com"\nmax_sessions = 2\n'
                      '[[hosts]]\nname = "build2"\nssh = "dev@build2.example.com:2222"\nmax_sessions = 3\n')

    async def run(pilot: Any) -> None:
        await planned(pilot)
        await pilot.press("h", "space", "down", "space", "down", "space", "enter")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)


def test_task_field_grows_and_dropdown_80x24(snap_compare: Any, web_repo: Path) -> None:
    """A long task wraps onto more rows of the task field (up to four at 80×24), and the agent
    dropdown shows 'claude-headless' on one line."""
    async def run(pilot: Any) -> None:
        await settle(pilot)
        area = pilot.app.query_one("#task")
        area.load_text(TASK + ", with password reset by email, rate limiting on the login endpoint and an "
                              "audit log of every sign-in")
        pilot.app.query_one("#agent").focus()
        await pilot.press("enter")
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)

