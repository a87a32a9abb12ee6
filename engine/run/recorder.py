"""The one place run events are written: first the journal, then whoever listens.

Journal first, so a subscriber that crashes (a broken pipe, a closed app) never leaves an
event shown but not recorded, and a client that reads the journal later sees every event a
live one saw. The CLI printer, `--jsonl` and the app's bridge are subscribers; nothing else
writes the journal's events table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from engine.core import events as rev
from engine.run.journal import Journal


class Recorder:
    """An `EmitRun` that journals each event, then hands it to every subscriber in order."""

    def __init__(self, journal: Journal, subscribers: Iterable[rev.EmitRun] = ()) -> None:
        self.journal = journal
        self._subscribers = [s for s in subscribers if s is not rev.ignore]

    def subscribe(self, emit: rev.EmitRun) -> Callable[[], None]:
        """Add a listener; the returned function removes it (an app screen that closes)."""
        self._subscribers.append(emit)
        return lambda: self._subscribers.remove(emit) if emit in self._subscribers else None

    def __call__(self, event: rev.RunEvent) -> None:
        self.journal.record(event)
        for emit in tuple(self._subscribers):
            emit(event)


def recorder_for(journal: Journal, emit: rev.EmitRun) -> Recorder:
    """`emit` as a Recorder on `journal`: callers that pass a plain printer still get every
    event journaled, and one that passes the Recorder does not get it journaled twice."""
    if isinstance(emit, Recorder) and emit.journal is journal:
        return emit
    return Recorder(journal, [emit])
