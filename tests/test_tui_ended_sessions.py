"""The board offers only what a session can still do: no `stop` once its agent has ended.
Real git, a private tmux server, the demo agent."""

from __future__ import annotations

import pytest

from tests.conftest import RepoFactory
from tests.run_helpers import FILES, tmux_socket
from tests.test_tui import settle
from tests.test_tui_merge import demo_run, footer_actions, make_app
from tui.merge_modals import Confirm
from tui.sessions_screen import SessionsScreen

__all__ = ["tmux_socket"]

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
