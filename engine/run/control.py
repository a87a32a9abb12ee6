"""Acting on one live session of a run: find it by name, type into it, stop it.

These are rules, not rendering: `stop` returning must mean stopped (cleanup relies on it),
and `send` must never type a keystroke the agent did not ask for. The CLI and the app both
reach them through the Engine, which hands in the session's host (where its window is).
"""

from __future__ import annotations

import signal
import time

from engine.core import events as rev
from engine.core.errors import UsageError
from engine.hosts.host import Host
from engine.hosts.tmux_sessions import Tmux
from engine.run.journal import Journal, RunRecord, SessionRecord
from engine.run.lookup import pane_for, tmux_of
from engine.run.recorder import recorder_for

MAX_SEND_BYTES = 12_000
"""tmux refuses a command over about 16 KB ("command too long"); stay well under it."""
_ALLOWED_CONTROLS = frozenset("\n\t")


def find_session(journal: Journal, run: RunRecord, name: str) -> SessionRecord:
    """The session named `name` (or its slug); UsageError listing the names otherwise."""
    for record in journal.sessions(run.id):
        if name in (record.name, record.slug):
            return record
    names = ", ".join(s.name for s in journal.sessions(run.id))
    raise UsageError(f"no session {name!r} in run {run.id}", hint=f"use one of: {names}")


def window_of(run: RunRecord, record: SessionRecord, host: Host, *, live: bool = False) -> str:
    """The session's window id on `host`; with `live`, only while its agent is still running."""
    pane = pane_for(record, tmux_of(run, host).panes())
    if pane is None:
        raise UsageError(f"session {record.name!r} has no tmux window",
                         hint="see `parallel-tui status`; start it again with `run --reuse`")
    if live and pane.dead:
        raise UsageError(f"session {record.name!r} has already ended",
                         hint="see `parallel-tui status`; start it again with `run --reuse`")
    return pane.window_id


def check_send_text(text: str, *, raw: bool) -> None:
    """Refuse what tmux would type as a keystroke the agent did not ask for: a control character
    (\\x03 is Ctrl-C and kills the agent) unless `raw`, and text tmux cannot carry."""
    size = len(text.encode("utf-8", "surrogateescape"))
    if size > MAX_SEND_BYTES:
        raise UsageError(f"text too long ({size:,} bytes; max {MAX_SEND_BYTES:,})",
                         hint="put the text in a file in the worktree and send its path")
    bad = next((c for c in text if _is_control(c) and c not in _ALLOWED_CONTROLS), None)
    if bad is not None and not raw:
        raise UsageError(f"the text holds control character {bad!r} (a keystroke such as Ctrl-C, "
                         "not text)", hint="remove it, or pass --raw to send it as a keystroke")


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F


def send_text(run: RunRecord, record: SessionRecord, text: str, *, raw: bool, host: Host) -> None:
    """Type `text` into the session's live agent (checked first), then Enter."""
    check_send_text(text, raw=raw)
    tmux_of(run, host).send_text(window_of(run, record, host, live=True), text)


def stop_session(journal: Journal, run: RunRecord, record: SessionRecord,
                 emit: rev.EmitRun = rev.ignore, grace_s: float = 2.0, reason: str = "", *,
                 host: Host) -> None:
    """Journal the intent, Ctrl-C, SIGTERM if it outlives the grace time, and wait for the pane
    to die: returning means stopped. The `stopped` phase goes first, so a session that dies of
    the interrupt is read as stopped by the user, not as failed."""
    window = window_of(run, record, host, live=True)
    journal.update_session(run.id, record.slug, phase="stopped")
    tmux = tmux_of(run, host)
    tmux.interrupt(window)
    _terminate_if_alive(tmux, record, grace_s)
    recorder_for(journal, emit)(rev.SessionStopped(run_id=run.id, name=record.name, reason=reason))


def _terminate_if_alive(tmux: Tmux, record: SessionRecord, grace_s: float) -> None:
    if _dead_within(tmux, record, grace_s):
        return
    pane = pane_for(record, tmux.panes())
    if pane is not None and not pane.dead and pane.pid:
        tmux.host.signal(pane.pid, signal.SIGTERM, group=True)  # its shell leads its process group
    _dead_within(tmux, record, grace_s)


def _dead_within(tmux: Tmux, record: SessionRecord, seconds: float) -> bool:
    """Blocking wait (the Engine runs it in a worker thread, never on the event loop)."""
    deadline = time.monotonic() + seconds
    while True:
        pane = pane_for(record, tmux.panes())
        if pane is None or pane.dead:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
