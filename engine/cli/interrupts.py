"""Ctrl-C and SIGTERM in the middle of a verb that creates or removes things.

A generic "nothing was left half-done" is false once branches or worktrees exist, so the
verbs that change things catch the interrupt themselves and say what was left and what
to run next. SIGTERM is turned into the same exception, so every `with` (locks, journal)
unwinds the same way and the message is just as true.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be."""


def name_of(exc: KeyboardInterrupt) -> str:
    return "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises `Terminated` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated
