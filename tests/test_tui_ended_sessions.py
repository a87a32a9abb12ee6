"""The board offers only what a session can still do (no `stop` once its agent has ended), and
merge review counts what the board counts. Real git, a private tmux server, the demo agent."""

from __future__ import annotations

import pytest

from engine.service import build_engine
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES
from tests.test_tui import settle
from tests.test_tui_merge import (
    both_edit_the_title,
    cells,
    demo_run,
    footer_actions,
    make_app,
    open_review,
    until_read_again,
)
from tui.merge_modals import Confirm
from tui.sessions_screen import SessionsScreen

pytestmark = pytest.mark.tmux


async def test_stop_is_neither_offered_nor_asked_for_a_session_that_has_ended(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    app = make_app(repo, run_id)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, SessionsScreen)
        run = app.state.run
        assert run is not None and all(s.has_window and not s.agent_running for s in run.sessions), run
        assert "stop" not in footer_actions(app), footer_actions(app)
        assert "attach" in footer_actions(app), "its window is still there to look at"
        await pilot.press("s")
        await settle(pilot, app)
        assert not isinstance(app.screen, Confirm), "nothing to stop: no question"
        assert list(app._notifications)[-1].message == \
            f"{run.sessions[0].name} has already ended: nothing to stop"


async def test_after_x_the_review_counts_each_branch_as_the_board_does_and_g_reads_again(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The resolve merges a into b's worktree: the matrix reads again when b's agent commits,
    and counts b's own commits (the board's number), not a's too; `g` reads again at once."""
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    worktrees = both_edit_the_title(repo)
    app = make_app(repo, run_id)
    async with app.run_test(size=(140, 44)) as pilot:
        review = await open_review(pilot, app)
        await pilot.press("down", "x")
        await until_read_again(pilot, review)
        await settle(pilot, app)
        status = await build_engine(repo).status(run_id)  # the board's source
        board = {s.branch.rsplit("/", 1)[-1]: s.commits for s in status.sessions}
        assert board == {"a": 2, "b": 2}, board
        assert {row[0]: int(row[1]) for row in cells(review)} == board, cells(review)
        (worktrees["a"] / "more.md").write_text("more\n")
        git(worktrees["a"], "add", "more.md")
        git(worktrees["a"], "commit", "-qm", "a adds more")
        await pilot.press("g")
        await settle(pilot, app)
        assert {row[0]: int(row[1]) for row in cells(review)} == {"a": 3, "b": 2}, cells(review)
