"""The ONE bridge from a run to the screens: fold its events, post one message per batch.

An async worker iterates `Engine.follow(run_id)`. Each batch holds the events the run's
supervisor (its one observer) journaled since the last, and the run's rows; the bridge folds
the events with the engine's own reducer and composes the status exactly as `status` does
(`engine.run.status.status_of`), each window's existence as the events tell it (a closed one
is journaled: WindowClosed). So it asks tmux and git nothing, and never reads the full status
while the run is followed. Elapsed time is the board's own timer over each session's
`started_at`. When following ends (the run finished, it was interrupted before its agents
started, or its supervisor cannot be kept alive) one `status` has the last word: with no
supervisor left it observes the sessions once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

from textual import work
from textual.message import Message

from engine.core.errors import EngineError
from engine.views import RunState, RunStatus, fold, status_of, windows_told
from tui.state import RunStateChanged

if TYPE_CHECKING:
    from engine.views import Batch
    from tui.app import ParallelApp


class Poster(Protocol):
    """What the bridge needs of the app: somewhere to post."""

    def post_message(self, message: Message) -> bool: ...


def follow_run(app: ParallelApp, run_id: str) -> None:
    _follow(app, run_id)


@work(group="bridge", exclusive=True, exit_on_error=False)
async def _follow(app: ParallelApp, run_id: str) -> None:
    try:
        async with contextlib.aclosing(app.backend.engine.follow(run_id)) as batches:
            await bridge(batches, app, run_id)
    except EngineError as exc:
        app.notify(exc.one_line(), severity="error")
    try:
        status = await app.backend.status(run_id)
    except EngineError as exc:
        app.notify(exc.one_line(), severity="error")
        return
    app.post_message(RunStateChanged(status))


async def bridge(batches: AsyncIterator[Batch], app: Poster, run_id: str) -> RunState:
    """Fold each batch onto the run's state and post the status it tells; the state at the end."""
    state = RunState(run_id=run_id)
    async for batch in batches:
        state = fold(run_id, batch.events, batch.base if batch.base is not None else state)
        app.post_message(RunStateChanged(view(batch, state), state))
    return state


def view(batch: Batch, state: RunState) -> RunStatus:
    """The status `state` tells over the batch's rows: the supervisor runs until RunFinished."""
    return status_of(batch.frame, state, windows_told(state), "gone" if state.finished else "running")
