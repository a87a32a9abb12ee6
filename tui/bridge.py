"""The ONE bridge from a run to the screens: follow it, post one message per change.

A thread worker (libtmux and git block) reads the run's status on a short tick and posts a
`RunStateChanged` only when something visible changed; `can_replace` lets a burst collapse to
the newest. When `engine.service.Engine.follow` lands, this loop becomes `async for event in
engine.follow(run_id): state = reduce(state, event)` and nothing else in the app changes.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from engine.core.errors import EngineError
from engine.run.status import RunStatus
from tui.state import RunStateChanged

if TYPE_CHECKING:
    from tui.app import ParallelApp

TICK_S = 0.5
"""A change shows within one tick plus one status read (well under the 1 s the issue asks)."""


def follow_run(app: ParallelApp, run_id: str) -> None:
    app.workers.cancel_group(app, "bridge")
    _follow(app, run_id)


@work(thread=True, group="bridge", exclusive=True, exit_on_error=False)
def _follow(app: ParallelApp, run_id: str) -> None:
    worker = get_current_worker()
    wake = threading.Event()
    last: RunStatus | None = None
    while not worker.is_cancelled:
        try:
            status = app.backend.status_now(run_id)
        except EngineError as exc:
            app.call_from_thread(app.notify, exc.one_line(), severity="error")
            return
        if _visible(status) != _visible(last):
            app.post_message(RunStateChanged(status))
            last = status
        wake.wait(TICK_S)


def _visible(status: RunStatus | None) -> object:
    """What the board shows; elapsed time counts in whole seconds (at most one message a second)."""
    if status is None:
        return None
    return (status.orchestrator, status.overlaps,
            tuple((s.name, s.state, s.commits, s.files_changed, s.cost_usd, s.last_line, s.problem,
                   int(s.elapsed_s)) for s in status.sessions))
