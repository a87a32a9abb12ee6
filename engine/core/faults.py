"""Test-only fault injection: stop the orchestrator at a chosen phase of a run.

Crash safety is only proven by crashing. `PARALLEL_TUI_FAULT=<phase>:<n>[:<how>]` makes the
n-th arrival at `<phase>` kill this process (`kill`, the default: SIGKILL, as `kill -9`
would), interrupt it (`int`: SIGINT to its process group when it leads one, as Ctrl-C in a
terminal would, killing its git children too) or terminate it (`term`: SIGTERM to itself).
The variable is read here and nowhere else; unset, `reached` is one dict lookup.
"""

from __future__ import annotations

import os
import signal
import threading

from engine.core.errors import UsageError

ENV = "PARALLEL_TUI_FAULT"
PHASES = ("journal", "branch", "worktree", "checkout", "window", "agent", "cleanup", "merge")
"""After the journal rows, after a branch is created, after a worktree is registered, in the
middle of the checkouts, after a window is created, after an agent is started (journaled),
in the middle of cleanup, and between a merge's journaled build and its one ref move."""
HOWS = {"kill": signal.SIGKILL, "int": signal.SIGINT, "term": signal.SIGTERM}

_counts: dict[str, int] = {}
_lock = threading.Lock()


def reached(phase: str) -> None:
    """Count an arrival at `phase`; fire the configured fault on the n-th one."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    want, n, how = parse(spec)
    if want != phase:
        return
    with _lock:
        _counts[phase] = _counts.get(phase, 0) + 1
        hit = _counts[phase] == n
    if hit:
        fire(HOWS[how])


def parse(spec: str) -> tuple[str, int, str]:
    parts = spec.split(":")
    phase, count, how = parts[0], parts[1] if len(parts) > 1 else "1", parts[2] if len(parts) > 2 else "kill"
    if phase not in PHASES or not count.isdigit() or int(count) < 1 or how not in HOWS or len(parts) > 3:
        raise UsageError(f"{ENV}={spec!r} is not <phase>:<n>[:kill|int|term]",
                         hint=f"phases: {', '.join(PHASES)}; unset it outside the test suite")
    return phase, int(count), how


def fire(sig: signal.Signals) -> None:
    if sig == signal.SIGINT and os.getpgrp() == os.getpid():
        os.killpg(os.getpgrp(), sig)
    else:
        os.kill(os.getpid(), sig)
    if sig == signal.SIGKILL:  # pragma: no cover - the process is gone
        threading.Event().wait()
