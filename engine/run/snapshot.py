"""The supervisor keeps its run's status ready for `status --json` (read back by
`engine.run.snapshot_read`, before argparse or the Engine load).

What it writes is the fold `status` would show (`engine.run.status.status_of`) with the
liveness overlay left open: each session both as it reads with its window and without one,
plus what the reader needs to choose (the window's id and name) and to count its time (when it
started and ended). Stamped with the journal's signature, taken before the journal is read and
checked again after (a write in between: not written, the next look tries again), and the
repo's latest run beside it, so a snapshot is only ever read at the journal state it shows.

Written by a thread of the supervisor that looks at the journal's signature every EVERY_S
and rewrites after any change, whoever wrote it (the supervisor's own tick, `stop`, `cleanup`,
another run): `status` between a write and the rewrite takes the normal path.
"""

from __future__ import annotations

import json
import os
import threading
import traceback
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from engine.core.config import load_config, state_dir
from engine.core.jsonio import Json, to_jsonable
from engine.hosts.local import LOCAL
from engine.hosts.tmux_sessions import Tmux
from engine.run.journal import Journal, RunRecord
from engine.run.lock import lock_path
from engine.run.lookup import NO_WINDOW_YET
from engine.run.snapshot_read import (
    VERSION,
    config_files,
    journal_signature,
    pointer_file,
    shell_key,
    snapshot_file,
)
from engine.run.status import ended_at, frame_of, recorded, status_of

EVERY_S = 0.05
"""How often the journal's signature is looked at (a few system calls: ~40 µs)."""


def snapshot(journal: Journal, run: RunRecord, tmux: Tmux, signature: str) -> dict[str, Json] | None:
    """The run's status as `status --json` prints it while `run` is supervised, bar the
    overlay; None for a run whose sessions live on another host (the reader runs tmux here)."""
    frame = frame_of(journal, run, tmux, shell=True)
    if tmux.host is not LOCAL or any(r.host != LOCAL.name for r in frame.records):
        return None
    load_config(Path(run.repo))  # a config `status` cannot load: it must say so itself (EngineError)
    state = recorded(journal, run)
    shown = status_of(frame, state, frozenset(r.name for r in frame.records))
    hidden = status_of(frame, state, frozenset())
    return {"version": VERSION, "journal": signature, "repo": run.repo, "shell": shell_key(run.repo),
            "lock": str(lock_path(f"run:{run.id}")), "tmux": list(tmux.server_args),
            "session": run.tmux_session, "status": to_jsonable(shown),
            "without": to_jsonable(hidden.sessions),
            "panes": [None if r.phase in NO_WINDOW_YET else [r.window_id, r.window_name]
                      for r in frame.records],
            "times": [[r.started_at, ended_at(r, state)] for r in frame.records]}


def write(journal: Journal, run: RunRecord, tmux: Tmux, shm: int) -> bool:
    """Write the run's snapshot and its repo's pointer to its latest run; True if written.
    Not written when the journal changed while it was read, or `snapshot` says the normal path
    must answer (an older snapshot left in place is stamped with an older journal: unused).
    `shm`: the journal's `-shm`, kept open (`journal_signature`)."""
    signature = journal_signature(str(journal.path), shm)
    data = snapshot(journal, run, tmux, signature)
    latest = journal.runs(run.repo)[0].id
    if data is None or journal_signature(str(journal.path), shm) != signature:
        return False
    LOCAL.write_bytes(Path(snapshot_file(run.id)), json.dumps(data).encode())
    pointer = {"repo": run.repo, "run": latest, "journal": signature}
    LOCAL.write_bytes(Path(pointer_file(run.repo)), json.dumps(pointer).encode())
    return True


def remove(run_id: str) -> None:
    Path(snapshot_file(run_id)).unlink(missing_ok=True)


@contextmanager
def kept(run: RunRecord, tmux: Tmux) -> Iterator[None]:
    """While the block runs (the supervisor follows the run), keep the snapshot current; it is
    removed at the end (the run's lock is free then: the reader would not use it anyway)."""
    stop = threading.Event()
    thread = threading.Thread(target=_keep, args=(run, tmux, stop), name="status-snapshot", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        remove(run.id)


def _keep(run: RunRecord, tmux: Tmux, stop: threading.Event) -> None:
    """Rewrite after every change of the journal or of the config files (this process's
    environment, the rest of what the sandbox note depends on, stays as it is), on a connection
    of its own (the follow loop's is busy in its own thread)."""
    with closing(Journal()) as journal:
        # never closed: that would drop this process's SQLite locks on it (`journal_signature`);
        # the process ends soon after its supervisor stops following
        shm = os.open(f"{journal.path}-shm", os.O_RDONLY)
        seen = ""
        while not stop.wait(EVERY_S):
            now = journal_signature(str(journal.path), shm) + config_files(run.repo)
            if now == seen:
                continue
            seen = now
            try:
                write(journal, run, tmux, shm)
            except Exception:  # noqa: BLE001 - a snapshot is only a shortcut: without it `status` takes the normal path
                remove(run.id)
                log = state_dir() / "runs" / run.id / "snapshot.log"  # next to the supervisor's own
                LOCAL.write_bytes(log, traceback.format_exc().encode())
