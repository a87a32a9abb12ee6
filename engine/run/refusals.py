"""Each refusal of the ownership hook, journaled once as an `EditRefused` event.

Why the follower does it: the hook is a tiny fail-closed script that only appends a line to
the session's hook file (it must not open the journal), yet a refusal must reach the board,
`status` and the report as an event, like everything else a run does. Why it is gated: a hook
file that did not grow since the last look (its size, asked of the session's host) is not read
again. Why it asks the
journal once per session: a supervisor that restarts must not journal the same refusal twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.core import events as rev
from engine.hosts.files import size
from engine.hosts.host import Host
from engine.run.journal import Journal, SessionRecord
from engine.run.session_status import RefusedSignal

Key = tuple[float, str]
"""A refusal's identity: when (to the millisecond, as the journal keeps floats), and which path."""


@dataclass(slots=True)
class _Seen:
    stamp: int = -2
    journaled: set[Key] = field(default_factory=set)


class RefusalWatch:
    """Called once per session per follow tick; emits an EditRefused per refusal not yet journaled."""

    def __init__(self, journal: Journal, read: Callable[[Path, Host], tuple[RefusedSignal, ...]],
                 host: Host) -> None:
        """`host`: where the sessions' hook files are."""
        self.journal, self.read, self.host = journal, read, host
        self.seen: dict[str, _Seen] = {}
        self.known: dict[str, set[Key]] | None = None
        """What the journal held when this watch began, per session name (read once)."""

    def __call__(self, record: SessionRecord, emit: rev.EmitRun) -> None:
        if not record.hook_file:
            return
        stamp = size(self.host, Path(record.hook_file))  # appended only: it grows when it changes
        seen = self.seen.get(record.slug)
        if seen is None:
            seen = self.seen[record.slug] = _Seen(journaled=self._journaled(record).get(record.name, set()))
        if stamp == seen.stamp:
            return
        seen.stamp = stamp
        for refused in self.read(Path(record.hook_file), self.host):
            key = (round(refused.at, 3), refused.path)
            if key not in seen.journaled:
                seen.journaled.add(key)
                emit(rev.EditRefused(run_id=record.run_id, name=record.name, path=refused.path,
                                     at=refused.at, decision=refused.decision))

    def _journaled(self, record: SessionRecord) -> dict[str, set[Key]]:
        if self.known is None:
            self.known = {}
            for _at, kind, payload in self.journal.events(record.run_id):
                if kind == "edit_refused":
                    at, path = payload.get("at"), payload.get("path")
                    self.known.setdefault(str(payload.get("name")), set()).add(
                        (round(float(at), 3) if isinstance(at, int | float) else 0.0, str(path)))
        return self.known
