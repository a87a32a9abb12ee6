"""The ONE bridge from a run to the screens: follow its events, fold them, post per change.

An async worker iterates `Engine.follow(run_id)`, folds each event with the engine's own
reducer (`engine.run.fold.reduce`), and reads the live status (panes, commits, cost) on each
event and at least once a second; it posts a `RunStateChanged` only when something the board
shows changed (`can_replace` collapses a burst to the newest). A run another process already
follows (its lock is held), or one that was interrupted while being created, is watched by
status alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from textual import work

from engine.core import events as rev
from engine.core.errors import EngineError
from engine.run.fold import RunState, reduce
from engine.run.lock import LockedError
from engine.run.status import RunStatus
from tui.state import RunStateChanged

if TYPE_CHECKING:
    from tui.app import ParallelApp

TICK_S = 1.0
"""Elapsed time and commits refresh at least this often; state changes show on their event."""


def follow_run(app: ParallelApp, run_id: str) -> None:
    _follow(app, run_id)


@work(group="bridge", exclusive=True, exit_on_error=False)
async def _follow(app: ParallelApp, run_id: str) -> None:
    bridge = _Bridge(app, run_id)
    try:
        if await bridge.interrupted():
            await bridge.watch_status()  # following would take its lock and call it "running"
            return
        await bridge.follow_events()
    except LockedError:
        await bridge.watch_status()  # another process follows this run: status alone


class _Bridge:
    def __init__(self, app: ParallelApp, run_id: str) -> None:
        self.app = app
        self.run_id = run_id
        self.state = RunState(run_id=run_id)
        self.last: object = None

    async def follow_events(self) -> None:
        events = self.app.backend.engine.follow(self.run_id).__aiter__()
        await self.post()
        try:
            async for event in _ticks(events):
                if isinstance(event, rev.RunEvent):
                    self.state = reduce(self.state, event)
                await self.post()
        finally:
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]
        await self.post()

    async def interrupted(self) -> bool:
        """A run whose orchestrator died while creating it: `run --resume` finishes it, not us."""
        try:
            return (await self.app.backend.status(self.run_id)).orchestrator == "interrupted"
        except EngineError:
            return False

    async def watch_status(self) -> None:
        while True:
            await self.post()
            await asyncio.sleep(TICK_S)

    async def post(self) -> None:
        try:
            status = await self.app.backend.status(self.run_id)
        except EngineError as exc:
            self.app.notify(exc.one_line(), severity="error")
            return
        seen = _visible(status)
        if seen != self.last:
            self.last = seen
            self.app.post_message(RunStateChanged(status, self.state))


async def _ticks(events: AsyncIterator[rev.Event]) -> AsyncIterator[rev.Event | None]:
    """The run's events, with a None whenever a tick passes without one."""
    pending = asyncio.ensure_future(anext(events))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=TICK_S)
            if not done:
                yield None
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            pending = asyncio.ensure_future(anext(events))
            yield event
    finally:
        pending.cancel()


def _visible(status: RunStatus) -> object:
    """What the board shows; elapsed time counts in whole seconds (at most one message a second)."""
    return (status.orchestrator, status.overlaps,
            tuple((s.name, s.state, s.commits, s.files_changed, s.cost_usd, s.last_line, s.problem,
                   int(s.elapsed_s)) for s in status.sessions))
