"""`attach`, `send` and `stop`: acting on one session of a run, by name."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from engine.cli.parser import add_common
from engine.cli.run_common import add_run_option
from engine.core import run_events as rev
from engine.core.errors import UsageError
from engine.core.jsonio import dumps
from engine.hosts.gitcli import resolve_repo
from engine.run.journal import Journal, RunRecord, SessionRecord, open_journal
from engine.run.status import find_run, pane_for, tmux_of

Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True, slots=True)
class Verb:
    """A verb as `engine.cli.main.COMMANDS` expects: NAME, add_parser, run."""

    NAME: str
    add_parser: Callable[..., None]
    """Takes the subparsers action (argparse's generic is invariant in the parser class)."""
    run: Callable[[argparse.Namespace], int]


def _session(journal: Journal, args: argparse.Namespace) -> tuple[RunRecord, SessionRecord]:
    repo = resolve_repo(args.repo) if not args.run_id else Path(args.repo)
    run = find_run(journal, repo, args.run_id)
    for record in journal.sessions(run.id):
        if args.name in (record.name, record.slug):
            return run, record
    names = ", ".join(s.name for s in journal.sessions(run.id))
    raise UsageError(f"no session {args.name!r} in run {run.id}", hint=f"use one of: {names}")


def _window(run: RunRecord, record: SessionRecord, *, live: bool = False) -> str:
    """The session's window id; with `live`, only while its agent is still running."""
    pane = pane_for(record, tmux_of(run).panes())
    if pane is None:
        raise UsageError(f"session {record.name!r} has no tmux window",
                         hint="see `parallel-tui status`; start it again with `run --reuse`")
    if live and pane.dead:
        raise UsageError(f"session {record.name!r} has already ended",
                         hint="see `parallel-tui status`; start it again with `run --reuse`")
    return pane.window_id


def _add(name: str, help_text: str, func: Callable[[argparse.Namespace], int],
         extra: Callable[[argparse.ArgumentParser], object]) -> Callable[[Sub], None]:
    def add_parser(sub: Sub) -> None:
        p = sub.add_parser(name, help=help_text)
        add_common(p)
        add_run_option(p)
        p.add_argument("name", help="the session's subtask name (or slug)")
        extra(p)
        p.set_defaults(func=func)
    return add_parser


def _attach(args: argparse.Namespace) -> int:
    with open_journal() as journal:
        run, record = _session(journal, args)
        window = _window(run, record)
        argv = tmux_of(run).attach_argv(window)
    if os.environ.get("TMUX") and not run.tmux_socket:
        argv = ["tmux", "switch-client", "-t", window]
    elif os.environ.get("TMUX") and sys.stdout.isatty() and not args.json:
        raise UsageError("this terminal is inside another tmux server, and tmux nests only on request",
                         hint=f"detach first, or run: TMUX= {shlex.join(argv)}")
    if args.json or not sys.stdout.isatty():
        print(dumps({"window": window, "command": shlex.join(argv)}) if args.json else shlex.join(argv))
        return 0
    os.execvp(argv[0], argv)  # argv list, no shell


MAX_SEND_BYTES = 12_000
"""tmux refuses a command over about 16 KB ("command too long"); stay well under it."""
_ALLOWED_CONTROLS = frozenset("\n\t")


def check_send_text(text: str, *, raw: bool) -> None:
    """Refuse what tmux would type as a keystroke the agent did not ask for: a control character
    (\\x03 is Ctrl-C and kills the agent) unless `--raw`, and text tmux cannot carry."""
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


def _send_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text")
    parser.add_argument("--raw", action="store_true",
                        help="also send control characters (Ctrl-C, Escape...) as keystrokes")


def _send(args: argparse.Namespace) -> int:
    check_send_text(args.text, raw=args.raw)
    with open_journal() as journal:
        run, record = _session(journal, args)
        tmux_of(run).send_text(_window(run, record, live=True), args.text)
    print(dumps({"sent": record.name}) if args.json else f"sent to {record.name}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    with open_journal() as journal:
        run, record = _session(journal, args)
        tmux = tmux_of(run)
        window = _window(run, record, live=True)
        journal.update_session(run.id, record.slug, phase="stopped")
        tmux.interrupt(window)
        _terminate_if_alive(run, record)
        journal.record(rev.SessionStopped(run_id=run.id, name=record.name))
    print(dumps({"stopped": record.name}) if args.json else f"stopped {record.name}")
    return 0


def _terminate_if_alive(run: RunRecord, record: SessionRecord, grace_s: float = 2.0) -> None:
    """Ctrl-C first; SIGTERM to the pane's process group if it outlives the grace time; then
    wait for the pane to die, so `stop` returning means stopped (cleanup relies on it)."""
    if _dead_within(run, record, grace_s):
        return
    pane = pane_for(record, tmux_of(run).panes())
    if pane is not None and not pane.dead and pane.pid:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pane.pid, signal.SIGTERM)  # the pane's shell leads its process group
    _dead_within(run, record, grace_s)


def _dead_within(run: RunRecord, record: SessionRecord, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    tmux = tmux_of(run)
    while True:
        pane = pane_for(record, tmux.panes())
        if pane is None or pane.dead:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


ATTACH = Verb("attach", _add("attach", "attach the terminal to a session's tmux window", _attach,
                             lambda p: None), _attach)
SEND = Verb("send", _add("send", "type text into a session (literally, then Enter)", _send,
                         _send_options), _send)
STOP = Verb("stop", _add("stop", "stop a session's agent (Ctrl-C, then SIGTERM)", _stop,
                         lambda p: None), _stop)
