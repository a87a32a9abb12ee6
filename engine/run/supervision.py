"""Starting, finding and stopping a run's supervisor (the process is `engine.run.supervisor`).

Apart from the supervisor's own loop because the orchestrator opens supervisors and the
supervisor starts waves through the orchestrator: kept in one module, the two imported each
other. Clients (`run --wait`, the app, `cleanup`) need only this side, never the loop's imports.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from engine.core.config import ParallelConfig
from engine.hosts.host import Host
from engine.hosts.tmux_sessions import PLACEHOLDER, SUPERVISOR_MODULE, Tmux
from engine.run.journal import RunRecord
from engine.run.lock import LockedError, held, is_held
from engine.run.lookup import tmux_of

MODULE = SUPERVISOR_MODULE
_ENV_KEPT = ("PATH", "HOME", "TMUX_TMPDIR", "VIRTUAL_ENV", "PYTHONPATH", "LANG", "LC_ALL")


def argv(run_id: str) -> list[str]:
    """The supervisor's command with this process's environment that matters (state dir, tmux
    socket, git identity) spelled out: a tmux server started earlier has another environment."""
    keep = {k: v for k, v in os.environ.items()
            if k.startswith(("PARALLEL_TUI_", "GIT_")) or k in _ENV_KEPT}
    return ["env", *(f"{k}={v}" for k, v in sorted(keep.items())),
            sys.executable, "-P", "-m", MODULE, run_id]


def alive(tmux: Tmux, run_id: str) -> bool:
    """A live pane runs this run's supervisor (found by its start command)."""
    return tmux.supervises(run_id)


def open_session(tmux: Tmux, run: RunRecord, config: ParallelConfig) -> None:
    """The run's tmux session, with its supervisor running when `config.supervisor` (a new
    session's first window; else a window of its own that closes when it exits)."""
    command = argv(run.id) if config.supervisor else None
    created = tmux.ensure_session(Path(run.repo), config.tmux_history_limit, command)
    if command is not None and not created and not alive(tmux, run.id):
        window = tmux.new_window(PLACEHOLDER, Path(run.repo), command)
        tmux.run("set-option", "-w", "-t", window, "remain-on-exit", "off")


def ensure(run: RunRecord, config: ParallelConfig, host: Host) -> bool:
    """Start the run's supervisor again if it is gone; True if one was started. Under the repo
    lock, so two clients that find it gone at once start one, not two (a client that finds the
    repo taken leaves it to whoever holds it: the next look tries again). `host` is the repo's
    own: the supervisor runs where the journal is."""
    tmux = tmux_of(run, host)
    if alive(tmux, run.id):
        return False
    try:
        with held(f"repo:{run.repo}", f"repo {run.repo}"):
            if alive(tmux, run.id):
                return False
            open_session(tmux, run, config)
    except LockedError:
        return False
    return True


def stop(run: RunRecord, host: Host, wait_s: float = 5.0) -> bool:
    """Close the run's supervisor window(s) on `host` (the repo's own) and wait until the run's
    lock is free (cleanup must hold it); True if one was running."""
    tmux = tmux_of(run, host)
    windows = [wid for wid, dead, command in tmux.start_commands()
               if not dead and MODULE in command and run.id in command]
    for window in windows:
        tmux.kill_window(window)
    deadline = time.monotonic() + wait_s
    while windows and is_held(f"run:{run.id}") and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(windows)
