"""Following a run from a client: its supervisor's journaled events, in batches, as they come.

The supervisor is the run's one observer (`engine.run.follow`); a client (the app's bridge,
`run --wait`) only reads what it journals. Each `Batch` holds the events journaled since the
last one and the run's rows as they are now, so a client folds the events and shows the
status with no tmux or git call (`engine.run.status.status_of`); the first batch also carries
the fold of what was journaled before.

Why a stat-driven poll and not a fixed one: a status change must reach the board within a
second, worst case, on top of the supervisor's own 0.5 s tick. Looking at the journal's WAL
file every POLL_S (one `stat`, no query: microseconds) and querying only when it changed keeps
the client's share to ~50 ms at a cost an idle app does not notice (bench/app.py measures both).
Neither inotify (Linux only, a dependency) nor a socket from the supervisor (one more thing to
leave behind on a crash) was needed for that.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core import events as rev
from engine.core.errors import EngineError
from engine.run.fold import RunState, journaled, recorded
from engine.run.journal import Journal, RunRecord
from engine.run.lookup import tmux_of
from engine.run.status import Frame, frame_of

if TYPE_CHECKING:
    from engine.hosts.host import Host
    from engine.hosts.registry import Hosts

POLL_S = 0.05
"""How often the journal's files are looked at (a `stat` each): the client's share of the budget."""
QUERY_EVERY_S = 1.0
"""The journal is queried at least this often even when its files look unchanged (a write the
`stat` could not tell from the last: same size within the clock's tick)."""
SUPERVISION_EVERY_S = 2.0
"""How often a quiet tail checks its supervisor is alive (a tmux call): an idle app stays cheap."""
MAX_RESTARTS = 3
"""How often a client starts a run's supervisor again before it says so and stops."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """What a follower of a run gets at once: the events journaled since the last batch, the
    run's rows now, and (first batch only) the fold of what was journaled before it began."""

    events: tuple[rev.RunEvent, ...]
    frame: Frame
    base: RunState | None = None
    """The fold of the run's events before `events` (first batch): a client folds on from here."""


class JournalWatch:
    """Whether the journal may have changed since the last look: its files' sizes and times."""

    def __init__(self, path: Path) -> None:
        self._paths = (path, path.with_name(path.name + "-wal"))
        self._seen: tuple[tuple[int, int], ...] = ()
        self._queried = 0.0

    def changed(self) -> bool:
        """True when a file's size or mtime moved, or QUERY_EVERY_S passed (then query)."""
        seen = tuple(_signature(p) for p in self._paths)
        now = time.monotonic()
        if seen == self._seen and now - self._queried < QUERY_EVERY_S:
            return False
        self._seen, self._queried = seen, now
        return True


def _signature(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


def first_batch(journal: Journal, run: RunRecord, host: Host) -> tuple[Batch, int]:
    """The fold so far and the rows, read with the id of the last event they include."""
    after = journal.last_event_id(run.id)
    while True:  # the fold and the id it reaches to, read as one (the supervisor writes meanwhile)
        base = recorded(journal, run)
        if (last := journal.last_event_id(run.id)) == after:
            break
        after = last
    return Batch(events=(), frame=frame_of(journal, run, tmux_of(run, host), shell=True), base=base), after


def next_batch(journal: Journal, run: RunRecord, after: int, frame: Frame) -> tuple[Batch | None, int]:
    """The events after `after` and the rows now (None when nothing was journaled)."""
    rows = journal.events_after(run.id, after)
    if not rows:
        return None, after
    events = tuple(journaled((0.0, kind, payload) for _id, kind, payload in rows))
    fresh = dataclasses.replace(frame, records=tuple(journal.sessions(run.id)))
    return Batch(events=events, frame=fresh), rows[-1][0]


async def tail(journal: Journal, run: RunRecord, hosts: Hosts, *, poll_s: float = POLL_S,
               timeout_s: float | None = None) -> AsyncIterator[Batch]:
    """The run's batches from now on, as its supervisor journals them, until RunFinished (the
    last batch ends with it) or its supervisor is over (none at all when it already was); a
    supervisor gone while sessions run is started again (`supervision_verdict`)."""
    host = hosts.local  # the run's own server, where its supervisor runs
    batch, after = await asyncio.to_thread(first_batch, journal, run, host)
    verdict = await asyncio.to_thread(supervision_verdict, journal, run, after, hosts)
    if verdict == "over":  # finished, or interrupted while creating: nothing will be journaled
        return
    yield batch
    frame, watch = batch.frame, JournalWatch(journal.path)
    started, restarts, looked = time.monotonic(), int(verdict == "restarted"), time.monotonic()
    while timeout_s is None or time.monotonic() - started < timeout_s:
        news: Batch | None = None
        if watch.changed():
            news, after = await asyncio.to_thread(next_batch, journal, run, after, frame)
        if news is not None:
            frame = news.frame
            finished = next((e for e in news.events if isinstance(e, rev.RunFinished)), None)
            if finished is not None:  # let it exit: then status says `gone`
                await asyncio.to_thread(wait_exited, run, host)
            yield news
            if finished is not None:
                return
            looked = time.monotonic()
        elif time.monotonic() - looked >= SUPERVISION_EVERY_S:
            looked = time.monotonic()
            verdict = await asyncio.to_thread(supervision_verdict, journal, run, after, hosts)
            if verdict == "over":
                return
            restarts += verdict == "restarted"
            if restarts > MAX_RESTARTS:
                raise EngineError(f"the supervisor of run {run.id} keeps exiting",
                                  hint="see its log under the state folder's runs/ and "
                                       f"`parallel-tui status --run {run.id}`")
        await asyncio.sleep(poll_s)


def wait_exited(run: RunRecord, host: Host, wait_s: float = 5.0) -> None:
    """Until the supervisor that journaled RunFinished has let go of the run and exited."""
    from engine.run import supervision  # noqa: PLC0415
    from engine.run.lock import is_held  # noqa: PLC0415

    tmux, deadline = tmux_of(run, host), time.monotonic() + wait_s
    while (is_held(f"run:{run.id}") or supervision.alive(tmux, run.id)) and time.monotonic() < deadline:
        time.sleep(0.05)


def supervision_verdict(journal: Journal, run: RunRecord, after: int, hosts: Hosts) -> str:
    """`alive` (the supervisor runs, the creator holds the run, or events came in since
    `after`), `over` (it exited: the run finished, or was interrupted before its agents all
    started), or `restarted` (it was gone while sessions still run: started again)."""
    from engine.core.config import load_config  # noqa: PLC0415
    from engine.run import supervision  # noqa: PLC0415
    from engine.run.lock import is_held  # noqa: PLC0415
    from engine.run.lookup import Sites  # noqa: PLC0415
    from engine.run.status import orchestrator_state  # noqa: PLC0415

    host = hosts.local
    tmux = tmux_of(run, host)
    if supervision.alive(tmux, run.id) or is_held(f"run:{run.id}") or journal.last_event_id(run.id) > after:
        return "alive"
    verdict = orchestrator_state(journal, run, Sites(run, journal.sessions(run.id), hosts).panes())
    if verdict == "interrupted" or (verdict == "gone" and recorded(journal, run).finished):
        return "over"
    return "restarted" if supervision.ensure(run, load_config(Path(run.repo)), host) else "alive"
