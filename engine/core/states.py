"""What an agent session is doing: the one vocabulary `status`, the fold and the board share.

Apart from `engine.core.models` (which re-exports it) because `status` needs this enum and
none of the models' dozens of dataclasses: it stays a light import on that path
(`bench/status.py`).
"""

from __future__ import annotations

from enum import StrEnum


class SessionState(StrEnum):
    """What an agent session is doing, as `status` reports it (best signal first)."""

    WAITING = "waiting"
    """Not started yet: its dependencies (`depends_on`) are not complete (the run's waves)."""
    STARTING = "starting"
    WORKING = "working"
    NEEDS_INPUT = "needs_input"
    IDLE = "idle"
    DONE = "done"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"
    EXITED = "exited"
    STALLED = "stalled"
    """Alive, said to be working, but no signal and no pane output for `stall_after_s`."""
    UNREACHABLE = "unreachable"
    """Its SSH host does not answer: what it is doing is not known (never read as done or failed)."""
    UNKNOWN = "unknown"
