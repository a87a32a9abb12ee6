"""The ONE bridge from a run to the screens: follow its events, fold them, post per change.

An async worker iterates `Engine.follow(run_id)` and folds each event with the engine's own
reducer (`engine.run.fold.reduce`). Why it does not ask for the full status (git and tmux for
every session) each second: the run's follower already looks at the sessions and journals
what changes, state (SessionStateChanged) and progress (SessionProgress: commits, files,
cost, last line). So the bridge reads the full status when the run starts being watched,
after an event that changes what only status knows (a state, a session's files: overlaps;
its commits: a branch that deletes most files; a refused edit),
and every FULL_EVERY_S as a safety net; in between it patches the last status with the
fold's progress and counts elapsed time on its own clock. It posts a `RunStateChanged` only
when something the board shows changed (`can_replace` collapses a burst to the newest). A
run another process already follows (its lock is held), or one that was interrupted while
being created, is watched by status alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
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
"""Elapsed time refreshes at least this often; state changes and progress show on their event."""
FULL_EVERY_S = 15.0
"""The full status is read again at least this often (what no event reports: a deleted worktree)."""
BURST_S = 0.05
"""Events that arrive within this of each other (one journal read) are folded before one post."""


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
        self.status: RunStatus | None = None
        self.taken = 0.0
        """When `status` was read (monotonic): elapsed time counts on from there."""
        self.last: object = None

    async def follow_events(self) -> None:
        events = self.app.backend.engine.follow(self.run_id).__aiter__()
        if self.status is None:
            await self.refresh()
        try:
            async for batch in _batches(events):
                for event in batch:
                    if isinstance(event, rev.RunEvent):
                        self.state = reduce(self.state, event)
                if self.absorb(batch):
                    await self.refresh()
                else:
                    self.post()
        finally:
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]
        await self.refresh()

    def absorb(self, batch: list[rev.Event]) -> bool:
        """Patch progress into the last status; True when only the full status can tell: a
        state change (its detail, end time, problems), a session's changed files (the overlap
        warnings), or the safety net's time came."""
        if self.status is None or time.monotonic() - self.taken >= FULL_EVERY_S:
            return True
        for event in batch:
            if not isinstance(event, rev.SessionProgress):
                return True
            shown = next((s for s in self.status.sessions if s.name == event.name), None)
            if shown is None or shown.changed_files != event.changed_files or shown.commits != event.commits:
                return True  # a commit can make its branch delete most files: only status tells
            self.status = _with_progress(self.status, self.state, event.name)
        return False

    async def interrupted(self) -> bool:
        """A run whose orchestrator died while creating it: `run --resume` finishes it, not us."""
        if not await self.refresh():
            return False
        return self.status is not None and self.status.orchestrator == "interrupted"

    async def watch_status(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(TICK_S)

    async def refresh(self) -> bool:
        """Read the full status (git and tmux for every session) and post it if it shows news."""
        try:
            self.status, self.taken = await self.app.backend.status(self.run_id), time.monotonic()
        except EngineError as exc:
            self.app.notify(exc.one_line(), severity="error")
            return False
        self.post()
        return True

    def post(self) -> None:
        if self.status is None:
            return
        status = _counted_on(self.status, time.monotonic() - self.taken)
        seen = _visible(status)
        if seen != self.last:
            self.last = seen
            self.app.post_message(RunStateChanged(status, self.state))


async def _batches(events: AsyncIterator[rev.Event]) -> AsyncIterator[list[rev.Event]]:
    """The run's events in bursts (those within BURST_S of each other), and an empty burst
    whenever a tick passes without one."""
    pending = asyncio.ensure_future(anext(events))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=TICK_S)
            batch: list[rev.Event] = []
            while done:
                try:
                    batch.append(pending.result())
                except StopAsyncIteration:
                    if batch:
                        yield batch
                    return
                pending = asyncio.ensure_future(anext(events))
                done, _ = await asyncio.wait({pending}, timeout=BURST_S)
            yield batch
    finally:
        pending.cancel()


def _with_progress(status: RunStatus, state: RunState, name: str) -> RunStatus:
    """`status` with one session's commits, cost, tokens, last line and output time as the fold has them."""
    view = state.session(name)
    if view is None:
        return status
    sessions = tuple(dataclasses.replace(s, commits=view.commits, files_changed=len(view.changed_files),
                                         changed_files=view.changed_files, cost_usd=view.cost_usd,
                                         last_line=view.last_line, tokens=view.tokens,
                                         rate_limit_pct=view.rate_limit_pct,
                                         output_at=view.output_at or s.output_at) if s.name == name else s
                     for s in status.sessions)
    return dataclasses.replace(status, sessions=sessions)


def _counted_on(status: RunStatus, since_s: float) -> RunStatus:
    """Elapsed time of the sessions still running, `since_s` after the status was read."""
    sessions = tuple(dataclasses.replace(s, elapsed_s=round(s.elapsed_s + since_s, 1))
                     if s.started_at and not s.ended_at else s for s in status.sessions)
    return dataclasses.replace(status, sessions=sessions)


def _visible(status: RunStatus) -> object:
    """What the board shows; elapsed time counts in whole seconds (at most one message a second)."""
    return (status.orchestrator, status.sandbox, status.overlaps, status.conflicts,
            tuple((s.name, s.state, s.commits, s.files_changed, s.cost_usd, s.last_line, s.problem,
                   len(s.refused_edits), int(s.elapsed_s), s.tokens, s.rate_limit_pct, s.output_at)
                  for s in status.sessions))
