"""The dashboard on the real engine: real git, a private tmux server, the demo agent."""

from __future__ import annotations

import gc
import time
import warnings
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from engine.core.models import SessionState
from engine.service import build_engine
from tui.app import ParallelApp
from tui.modals import EditSubtask, HelpScreen
from tui.review_screen import ReviewScreen
from tui.sessions_screen import SessionsScreen
from tui.split_screen import SplitScreen
from tui.task_screen import TaskScreen
from tui.widgets import TaskArea

TASK = "Implement user authentication with frontend and backend"
ENDED = (SessionState.DONE, SessionState.FAILED, SessionState.EXITED)


def make_app(repo: Path) -> ParallelApp:
    return ParallelApp(build_engine(repo, planner="offline", agent="demo"), planner="offline",
                       label="test-repo", still=True)


async def plan(pilot: Pilot[None], app: ParallelApp, task: str = TASK) -> None:
    """Type the task into the task field, as a person would, and press Enter."""
    await pilot.pause()
    app.query_one(TaskArea).focus()
    await pilot.press(*task)
    await pilot.press("enter")
    await settle(pilot, app)
    if isinstance(app.screen, SplitScreen):  # the split and verdict come first; enter reviews
        await pilot.press("enter")
        await settle(pilot, app)


async def settle(pilot: Pilot[None], app: ParallelApp, timeout_s: float = 30) -> None:
    """Until every worker but the run bridge (it follows the run for good) has finished."""
    deadline = time.monotonic() + timeout_s
    await pilot.pause()
    while any(w.is_running and w.group != "bridge" for w in app.workers):
        assert time.monotonic() < deadline, [w for w in app.workers if w.is_running]
        await pilot.pause(0.05)
    await pilot.pause()


async def until_on_board(pilot: Pilot[None], app: ParallelApp, timeout_s: float = 20) -> None:
    """Until the bridge's first status shows the sessions (it is not a worker `settle` waits for)."""
    deadline = time.monotonic() + timeout_s
    while not (app.state.run and app.state.run.sessions) and time.monotonic() < deadline:
        await pilot.pause(0.1)
    await pilot.pause()


async def until_ended(pilot: Pilot[None], app: ParallelApp, count: int, timeout_s: float = 40) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = app.state.run
        if run and len(run.sessions) == count and all(s.state in ENDED for s in run.sessions):
            return
        await pilot.pause(0.2)
    raise AssertionError(f"sessions did not end: {app.state.run}")


async def open_board(pilot: Pilot[None], app: ParallelApp, shows: str) -> SessionsScreen:
    """Until the app opened the live run's board and its preview shows `shows`, then settled."""
    def preview() -> str:
        found = app.screen.query("#preview")  # none until the board is composed
        return str(found.first(Static).render()) if found else ""
    for _ in range(100):
        if isinstance(app.screen, SessionsScreen) and shows in preview():
            break
        await pilot.pause(0.1)
    await settle(pilot, app)
    assert isinstance(app.screen, SessionsScreen) and shows in preview(), preview()
    return app.screen


async def start_demo_run(repo: Path, tasks: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Demo sessions (one per comma-separated name) that stay alive for 20 s."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "20")
    engine = build_engine(repo, planner="offline", agent="demo")
    task, subtasks = engine.quick_subtasks(tasks, "demo work")
    await engine.start_run(subtasks, task, "demo")


async def test_task_plan_approve_all_launch_reaches_done(web_repo: Path, tmux_socket: str) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        assert isinstance(app.screen, ReviewScreen), "a plan arriving opens the review"
        assert app.focused is app.screen.query_one("#subtasks"), "focus is on the list"
        names = [s.name for s in app.state.subtasks]
        assert "auth-backend" in names
        await pilot.press("space")  # toggle off, then approve all
        assert len(app.state.approved) == len(names) - 1
        await pilot.press("a")
        await settle(pilot, app)
        assert app.state.launch_blocker() == ""
        await pilot.press("l", "y")  # l asks first; y starts
        await settle(pilot, app)
        assert isinstance(app.screen, SessionsScreen)
        await until_ended(pilot, app, len(names))
        assert {s.name for s in app.state.run.sessions} == set(names)  # type: ignore[union-attr]
        for _ in range(50):  # a session's last commit can land one supervisor look after its end
            if all(s.commits == 1 for s in app.state.run.sessions):  # type: ignore[union-attr]
                break
            await pilot.pause(0.2)
        assert all(s.state == SessionState.DONE and s.commits == 1
                   for s in app.state.run.sessions)  # type: ignore[union-attr]
        assert "done" in app.sub_title


async def test_reject_one_and_launch_the_rest(web_repo: Path, tmux_socket: str) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        names = [s.name for s in app.state.subtasks]
        await pilot.press("down", "r")
        await settle(pilot, app)
        rejected = names[1]
        assert rejected not in app.state.approved
        assert app.state.checked is not None
        assert len(app.state.checked.subtasks) == len(names) - 1, "validated for the approved set"
        await pilot.press("l", "y")  # l asks first; y starts
        await settle(pilot, app)
        await until_ended(pilot, app, len(names) - 1)
        assert rejected not in {s.name for s in app.state.run.sessions}  # type: ignore[union-attr]


async def test_an_overlap_blocks_launch_until_fixed(web_repo: Path, tmux_socket: str) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        first, second = app.state.subtasks[:2]
        taken = first.files()[0]
        await pilot.press("down", "e")
        assert isinstance(app.screen, EditSubtask)
        app.screen.query_one("#edit-modify").value = ", ".join((*second.files_to_modify, taken))  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot, app)
        problems = str(app.screen.query_one("#problems").render())
        assert taken in problems and first.name in problems and second.name in problems
        assert app.screen.query_one("#problems-box").has_class("-invalid")
        assert "invalid" in app.state.launch_blocker()
        await pilot.press("l")
        await settle(pilot, app)
        assert app.state.run_id == "", "nothing launched while invalid"
        await pilot.press("r")  # reject the edited subtask: the overlap is gone
        await settle(pilot, app)
        assert app.state.launch_blocker() == ""
        await pilot.press("l", "y")  # l asks first; y starts
        await settle(pilot, app)
        await until_ended(pilot, app, len(app.state.subtasks) - 1)


async def test_an_empty_task_shows_the_engine_error(web_repo: Path) -> None:
    app = make_app(web_repo)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, TaskScreen)
        assert "task text is empty" in str(app.screen.query_one("#progress").render())


async def test_ctrl_j_makes_a_new_line_and_escape_leaves_the_field(web_repo: Path) -> None:
    app = make_app(web_repo)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("a", "ctrl+j", "b")
        assert app.query_one(TaskArea).text == "a\nb"
        await pilot.press("escape")
        assert not isinstance(app.focused, TaskArea)
        await pilot.press("2")
        assert isinstance(app.screen, SplitScreen), "number keys work once out of the field"


async def test_split_table_rerenders_when_minutes_change(web_repo: Path) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("escape", "2")
        await settle(pilot, app)
        table = app.screen.query_one("#overhead")
        before = table.get_row_at(0)  # type: ignore[attr-defined]
        app.screen.query_one(".minutes").focus()
        await pilot.press("2", "0", "0")
        await pilot.pause()
        assert table.get_row_at(0) == before, "typing alone sets nothing"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        after = table.get_row_at(0)  # type: ignore[attr-defined]
        assert after[3] == "200.0" and before != after
        assert table.row_count == 10


# ---- the key map: every key the footer shows does what it says --------------------------------

def footer_keys(app: ParallelApp) -> set[str]:
    return {b.binding.key for b in app.active_bindings.values() if b.binding.show and b.enabled}


@pytest.mark.parametrize("size", [(80, 24)])
async def test_every_footer_key_does_what_it_says(web_repo: Path, tmux_socket: str,
                                                  size: tuple[int, int]) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=size) as pilot:
        await plan(pilot, app)
        review = app.screen
        assert footer_keys(app) >= {"space", "a", "r", "e", "n", "l", "question_mark", "ctrl+q"}
        first = app.state.subtasks[0].name
        await pilot.press("space")
        assert first not in app.state.approved
        await pilot.press("a")
        assert first in app.state.approved
        await pilot.press("r")
        assert first not in app.state.approved
        await pilot.press("a", "e")
        assert isinstance(app.screen, EditSubtask)
        await pilot.press("escape")
        await pilot.press("n")
        assert type(app.screen).__name__ == "SplitsPrompt"
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is review
        await settle(pilot, app)
        await pilot.press("l", "y")  # l asks first; y starts
        await until_on_board(pilot, app)
        assert isinstance(app.screen, SessionsScreen)
        assert footer_keys(app) >= {"enter", "i", "d"}, "s (stop) only while an agent runs: test_tui_trust"
        await until_ended(pilot, app, len(app.state.subtasks))
        await pilot.press("d")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "DiffScreen"
        assert [v.path_modified for v in app.screen.query("DiffView")] == \
            sorted(app.state.run.sessions[0].changed_files)  # type: ignore[union-attr]
        await pilot.press("escape", "i")
        assert type(app.screen).__name__ == "SendLine"
        await pilot.press("escape")
        for key, screen in (("1", TaskScreen), ("2", SplitScreen), ("3", ReviewScreen),
                            ("4", SessionsScreen)):
            if isinstance(app.focused, TaskArea):
                await pilot.press("escape")
            await pilot.press(key)
            assert isinstance(app.screen, screen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_a_failed_session_rings_the_bell_and_notifies(web_repo: Path, tmux_socket: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(web_repo)
    rings: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(1))
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        first = app.state.subtasks[0]
        await pilot.press("e")
        app.screen.query_one("#edit-description").value = "demo:fail"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("l", "y")  # l asks first; y starts
        await settle(pilot, app)
        await until_ended(pilot, app, len(app.state.subtasks))
        await pilot.pause(0.3)
        states = {s.name: s.state for s in app.state.run.sessions}  # type: ignore[union-attr]
        assert states[first.name] == SessionState.FAILED
        assert rings == [1], "one bell for the one failed session"
        assert any(f"{first.name}: failed" in n.message for n in app._notifications)


async def test_a_live_run_opens_its_board(web_repo: Path, tmux_socket: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "20")
    engine = build_engine(web_repo, planner="offline", agent="demo")
    task, subtasks = engine.quick_subtasks("one,two", "demo work")
    started = await engine.start_run(subtasks, task, "demo")
    app = ParallelApp(build_engine(web_repo, planner="offline", agent="demo"), planner="offline", still=True)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(50):
            if isinstance(app.screen, SessionsScreen) and app.state.run is not None:
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, SessionsScreen)
        assert app.state.run_id == started.run_id
        assert {s.name for s in app.state.run.sessions} == {"one", "two"}  # type: ignore[union-attr]
        await pilot.press("i")
        await pilot.press(*"hello agent", "enter")
        await settle(pilot, app)
        assert any("sent to one" in n.message for n in app._notifications)
        for _ in range(30):  # the pane echoes what was typed into it (the preview shows the pane)
            if "hello agent" in str(app.screen.query_one("#preview").render()):
                break
            await pilot.pause(0.1)
        assert "hello agent" in str(app.screen.query_one("#preview").render())
        await pilot.press("s")  # stop the first through the board: it asks first
        assert type(app.screen).__name__ == "Confirm"
        await pilot.press("y")
        await settle(pilot, app)
        for _ in range(50):
            run = app.state.run
            if run and run.sessions[0].state != SessionState.WORKING:
                break
            await pilot.pause(0.1)
        assert app.state.run.sessions[0].state in ENDED  # type: ignore[union-attr]


async def test_a_key_shows_the_next_pane_with_the_cursor(web_repo: Path, tmux_socket: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview changes in the same step as the row cursor, so both are in the key's first
    frame: the pane comes from the cache, and no message round (one more screen update tick,
    17–33 ms) stands between the key and the preview."""
    await start_demo_run(web_repo, "one,two", monkeypatch)
    app = make_app(web_repo)
    async with app.run_test(size=(100, 30)) as pilot:
        board = await open_board(pilot, app, "demo agent one:")  # both panes read, off the key path
        preview = board.query_one("#preview", Static)
        table = board.query_one("#sessions", DataTable)
        table.action_cursor_down()  # what the down key runs; nothing else runs before the frame
        assert "demo agent two:" in str(preview.render())
        assert preview.border_title == "two — pane"
        table.action_cursor_up()
        assert "demo agent one:" in str(preview.render())


async def test_a_pane_read_replaced_before_it_started_leaves_no_warning(
        web_repo: Path, tmux_socket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A newer read of the same pane cancels the older one, even before it started: nothing
    is left behind (no "coroutine was never awaited" when it is collected)."""
    await start_demo_run(web_repo, "one", monkeypatch)
    app = make_app(web_repo)
    async with app.run_test(size=(100, 30)) as pilot:
        board = await open_board(pilot, app, "demo agent one:")
        session = board.selected()
        assert session is not None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):  # events in one burst: each asks for the pane again
                board._load_preview(app.state.run_id, session)
            await settle(pilot, app)
            gc.collect()
        assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
        assert "demo agent one:" in str(board.query_one("#preview", Static).render())


async def test_replan_with_another_n_and_progress_lines(web_repo: Path) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        assert len(app.state.subtasks) > 2
        await pilot.press("n")
        await pilot.press("backspace", "backspace", "2", "enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ReviewScreen)
        assert len(app.state.subtasks) == 2, "re-planned with N = 2"
        await pilot.press("1")
        progress = str(app.screen.query_one("#progress").render())
        assert "✓ analyze" in progress and "✓ split" in progress, progress


FOOTERS = {
    ("TaskScreen", "TaskArea"): {"enter", "ctrl+j", "escape", "ctrl+q"},
    ("TaskScreen", "Select"): {"p", "t", "question_mark", "ctrl+q"},
    ("SplitScreen", "DataTable"): {"enter", "question_mark", "ctrl+q"},
    ("ReviewScreen", "DataTable"): {"space", "a", "r", "e", "n", "l", "question_mark", "ctrl+q"},
    ("SessionsScreen", "DataTable"): {"H", "question_mark", "ctrl+q"},
}
"""Every footer, by screen and default focus, before any run (the board offers history only; its
run's keys are tested with a run): each key here is exercised by a test in this file
(a key added to a footer fails this test until it is listed, and tested)."""


async def test_footers_show_exactly_the_tested_keys(web_repo: Path) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        seen = {}
        for key in ("", "escape", "2", "3", "4"):
            if key:
                await pilot.press(key)
            await pilot.pause()
            shown = {b.binding.key for b in app.active_bindings.values() if b.binding.show}
            seen[(type(app.screen).__name__, type(app.focused).__name__)] = shown
        assert seen == FOOTERS


async def test_task_screen_keys_outside_the_field(web_repo: Path) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press(*"Add search with api and ui", "escape")
        assert not isinstance(app.focused, TaskArea)
        await pilot.press("t")
        assert isinstance(app.focused, TaskArea), "t goes back into the task field"
        await pilot.press("escape", "p")
        await settle(pilot, app)
        assert isinstance(app.screen, SplitScreen), "p plans the task: its split and verdict first"


async def test_needs_input_rings_and_i_answers_it(web_repo: Path, tmux_socket: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A demo session asks (`demo:ask`) for real: the board marks it, the bell rings, `i` answers."""
    engine = build_engine(web_repo, planner="offline", agent="demo")
    task, subtasks = engine.quick_subtasks("asker", "demo:ask Which colour?")
    started = await engine.start_run(subtasks, task, "demo")
    app = ParallelApp(build_engine(web_repo, planner="offline", agent="demo"), planner="offline", still=True)
    rings: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(1))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            run = app.state.run
            if run and run.sessions and run.sessions[0].state == SessionState.NEEDS_INPUT:
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, SessionsScreen) and app.state.run_id == started.run_id
        assert app.state.run.sessions[0].state == SessionState.NEEDS_INPUT  # type: ignore[union-attr]
        await pilot.pause(0.3)
        row = app.screen.query_one("#sessions").get_row_at(0)  # type: ignore[attr-defined]
        assert "!" in str(row[0]) and "needs input" in str(row[2]), row
        assert rings == [1], "one bell for the one session that asks"
        assert any("asker: needs input" in n.message for n in app._notifications)
        await pilot.press("i")
        await pilot.press(*"blue", "enter")
        await until_ended(pilot, app, 1)
        assert app.state.run.sessions[0].state == SessionState.DONE  # type: ignore[union-attr]
        assert app.state.run.sessions[0].commits == 1  # type: ignore[union-attr]
