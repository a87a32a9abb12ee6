"""Plan review's host choice: `h` picks hosts from the user's `[[hosts]]`, the head line says
where the approved subtasks run, and launch hands the choice to the engine's placement.

The hosts are ports on 127.0.0.1 where nothing listens: the picker needs only the config, and
the engine finds them down (connection refused) when it places sessions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import SelectionList, Static

from engine.core.config import user_config_path
from engine.core.models import SessionState
from tests.sshd import free_port
from tests.test_tui import make_app, plan, settle, until_ended, until_on_board
from tui.app import ParallelApp
from tui.merge_modals import Confirm
from tui.modals import HelpScreen, HostPicker
from tui.review_screen import ReviewScreen
from tui.sessions_screen import SessionsScreen


@pytest.fixture
def two_hosts() -> tuple[str, str]:
    """Two SSH host tables in the user's config (2 and 3 slots); nothing answers on their ports."""
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[[hosts]]\nname = "build1"\nssh = "dev@127.0.0.1:{free_port()}"\nmax_sessions = 2\n'
                    f'[[hosts]]\nname = "build2"\nssh = "dev@127.0.0.1:{free_port()}"\nmax_sessions = 3\n')
    return "build1", "build2"


def head(app: ParallelApp) -> str:
    return str(app.screen.query_one("#review-head", Static).render())


def picker_rows(app: ParallelApp) -> list[tuple[str, bool]]:
    listing: SelectionList[str] = app.screen.query_one(SelectionList)
    options = [listing.get_option_at_index(i) for i in range(listing.option_count)]
    return [(str(o.prompt), o.value in listing.selected) for o in options]


async def choose(app: ParallelApp, pilot: Pilot[None], *names: str) -> None:
    """`h`, then exactly `names` chosen with space, then enter."""
    await pilot.press("h")
    assert isinstance(app.screen, HostPicker)
    listing: SelectionList[str] = app.screen.query_one(SelectionList)
    for i in range(listing.option_count):
        listing.highlighted = i
        value = listing.get_option_at_index(i).value
        if (value in names) != (value in listing.selected):
            await pilot.press("space")
    await pilot.press("enter")
    await pilot.pause()


def made(repo: Path) -> tuple[list[str], list[str]]:
    """The run branches and the worktrees the repo has."""
    branches = subprocess.run(["git", "-C", str(repo), "branch", "--list", "parallel/*"],
                              capture_output=True, text=True, check=True).stdout.split()
    worktrees = subprocess.run(["git", "-C", str(repo), "worktree", "list", "--porcelain"],
                               capture_output=True, text=True, check=True).stdout
    return branches, [line for line in worktrees.splitlines() if line.startswith("worktree ")]


async def test_h_picks_hosts_and_the_head_line_names_them(web_repo: Path, two_hosts: tuple[str, str]) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        assert isinstance(app.screen, ReviewScreen)
        assert "h" in {b.binding.key for b in app.active_bindings.values() if b.binding.show and b.enabled}
        assert " approved · on local · " in head(app), "nothing chosen: everything here"
        await pilot.press("h")
        assert isinstance(app.screen, HostPicker)
        assert picker_rows(app) == [("local   8 slots (this machine)", True), ("build1  2 slots", False),
                                    ("build2  3 slots", False)]
        await pilot.press("space", "down", "space", "down", "space", "enter")  # local off, both builds on
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        assert app.state.hosts == two_hosts
        assert " approved · on build1, build2 by free slots · " in head(app)
        await pilot.press("h")
        assert [chosen for _, chosen in picker_rows(app)] == [False, True, True], "it opens on the choice"
        await pilot.press("down", "space", "down", "space", "enter")  # none chosen: enter keeps nothing
        assert isinstance(app.screen, HostPicker), "one host at least"
        await pilot.press("escape")
        assert app.state.hosts == two_hosts, "esc leaves the choice as it was"
        await choose(app, pilot, "build2")
        assert " approved · on build2 · " in head(app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "the hosts to run on" in str(app.screen.query_one("#help-review", Static).render())


async def test_without_ssh_hosts_plan_review_shows_no_host_choice(web_repo: Path) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        assert "h" not in {b.binding.key for b in app.active_bindings.values() if b.binding.show}
        assert " on local" not in head(app)
        await pilot.press("h")
        assert isinstance(app.screen, ReviewScreen), "h does nothing without [[hosts]]"
        await pilot.press("question_mark")
        assert "the hosts to run on" not in str(app.screen.query_one("#help-review", Static).render())


async def test_launch_on_an_unreachable_host_says_why_and_creates_nothing(
        web_repo: Path, two_hosts: tuple[str, str], tmux_socket: str) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        await choose(app, pilot, "build1")
        assert app.state.hosts == ("build1",)
        await pilot.press("l")
        await settle(pilot, app)
        assert isinstance(app.screen, ReviewScreen), "no question: there is nowhere to start them"
        n = len(app.state.approved)
        error = app.state.error
        assert error.startswith(f"error: {n} sessions need {n} slots, free: none; nothing was started "
                                "(build1 skipped: down ("), error
        assert "\n" not in error
        assert made(web_repo) == ([], [f"worktree {web_repo}"])
        assert not await app.backend.engine.runs()
        assert app.state.busy == "" and app.state.launch_blocker() == "", "l may be pressed again"


async def test_a_skipped_host_is_named_in_the_question_and_the_rest_run_here(
        web_repo: Path, two_hosts: tuple[str, str], tmux_socket: str) -> None:
    app = make_app(web_repo)
    async with app.run_test(size=(120, 40)) as pilot:
        await plan(pilot, app)
        await choose(app, pilot, "local", "build1")
        assert " approved · on local, build1 by free slots · " in head(app)
        await pilot.press("l")
        await settle(pilot, app)
        assert isinstance(app.screen, Confirm)
        n = len(app.state.approved)
        asked = str(app.screen.query_one("#confirm-text", Static).render())
        assert f"sessions on local ({n})" in asked
        assert "skipped host build1: down (" in asked
        await pilot.press("n")
        assert made(web_repo)[0] == [], "n starts nothing"
        await pilot.press("l")
        await settle(pilot, app)
        await pilot.press("y")
        await until_on_board(pilot, app)
        assert isinstance(app.screen, SessionsScreen)
        await until_ended(pilot, app, n)
        run = app.state.run
        assert run is not None
        assert [s.host for s in run.sessions] == ["local"] * n
        assert all(s.state == SessionState.DONE for s in run.sessions)
