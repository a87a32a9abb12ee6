"""`status --json` from the supervisor's snapshot: read back, checked, overlaid, printed.

While a run's supervisor lives, `status` is the fold of its events plus a liveness overlay
(`engine.run.status`), and the supervisor keeps that fold ready in a file
(`engine.run.snapshot`). Reading it back here skips argparse, the journal, the models and the
Engine, the cost of a call that scripts and slash commands make often (`bench/status.py`):
stdlib only, and neither `subprocess` nor `dataclasses` (the one `tmux list-panes` is spawned
with `os.posix_spawnp`).

The snapshot is used only while it is exactly what the normal path would print, bar the
overlay: written at the journal's current state (`journal_signature`), the config and PATH
that make its sandbox note unchanged (`shell_key`), and the run's lock held. Anything else
(a run on another host, `GIT_DIR` set, an odd argument) returns None and the normal path
answers, errors included. The overlay is computed here as there: which sessions' windows
exist (one `list-panes`), each session shown as the snapshot's `with window` or `without`,
and the time since it started, at print time. tests/test_status_snapshot.py holds both paths
to printing the same text.
"""

from __future__ import annotations

import json
import os
import time

from engine.core.lockfile import taken
from engine.core.places import ENV_PREFIX, REPO_CONFIG_NAME, stamps, state_home, user_config_file

TYPE_CHECKING = False  # typing costs this path ~3 ms
if TYPE_CHECKING:
    from hashlib import sha256
    from typing import Any
else:
    try:  # the built-in hash alone: `hashlib` also loads OpenSSL (see engine.analysis.cache)
        from _sha256 import sha256
    except ImportError:  # a Python that names it otherwise (3.12: _sha2)
        from hashlib import sha256

VERSION = 1
"""The snapshot's shape; a file of another version is not read."""
PANE_FORMAT = "#{session_name}\t#{window_id}\t#{window_name}"


def folder() -> str:
    """Where snapshots and the repos' latest-run pointers live: next to the journal."""
    return os.path.join(state_home(), "status")


def journal_file() -> str:
    return os.path.join(state_home(), "journal.sqlite3")


def snapshot_file(run_id: str) -> str:
    return os.path.join(folder(), f"run-{run_id}.json")


def pointer_file(repo: str) -> str:
    """The file naming `repo`'s latest run (a hash: a path may be longer than a file name)."""
    digest = sha256(repo.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return os.path.join(folder(), f"repo-{digest}.json")


def journal_signature(path: str, shm: int | None = None) -> str:
    """What changes whenever the journal does: the database's and its WAL's identity, size and
    modification time, and from the WAL index header in `-shm` (sqlite.org/walformat.html, its
    first copy) the WAL's last valid frame, the database's size in pages, the last frame's
    checksum and the WAL's salts. A timestamp alone is too coarse: a write within the same
    clock tick into a WAL being reused changes neither size nor mtime. Readers change none of
    these (a connection's opening does bump the header's change counter and checksum: left out).

    A process with a connection to the journal passes `shm`, a descriptor of `-shm` it keeps
    open: closing one would drop every POSIX lock the process holds on the file, its SQLite
    connection's too, and the next process to open the journal would take the shared index for
    unused and rebuild it under that connection's writes (`engine.run.journal._OPEN` is the same
    trap for the database file; tests/test_journal_connections.py)."""
    parts = []
    for suffix in ("", "-wal"):
        try:
            st = os.stat(path + suffix)
        except OSError:
            parts.append("-")
            continue
        parts.append(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    try:
        fd = os.open(path + "-shm", os.O_RDONLY) if shm is None else shm
    except OSError:
        parts.append("-")
    else:
        try:
            parts.append(os.pread(fd, 40, 0)[16:].hex())
        finally:
            if shm is None:
                os.close(fd)
    return " ".join(parts)


def shell_key(repo: str) -> str:
    """What the sandbox note depends on (`engine.run.status.shell_of`: the config, from the
    user's and the repo's files and `PARALLEL_TUI_*`, and PATH), as a hash: a snapshot's note
    holds while this is unchanged."""
    parts = [config_files(repo), os.environ.get("PATH", "")]
    parts += sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith(ENV_PREFIX))
    return sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def config_files(repo: str) -> str:
    """The identity and change time of the user's and the repo's config files."""
    return "\0".join(stamps((user_config_file(), os.path.join(repo, REPO_CONFIG_NAME))))


def elapsed_s(started: float, ended: float, now: float) -> float:
    """A session's seconds so far (to its end once it ended); 0 before it started."""
    return round(max((ended or now) - started, 0.0), 1) if started else 0.0


def status_json(repo: str, run_id: str | None) -> str | None:
    """What `status --json [--repo REPO] [--run ID]` prints, from the snapshot; None when the
    normal path must answer (see the module docstring)."""
    try:
        journal = journal_file()
        if not os.access(journal, os.R_OK | os.W_OK):
            return None  # the normal path says what is wrong with it
        signature = journal_signature(journal)
        named = run_id or _latest(repo, signature)
        snap = _load(snapshot_file(named)) if named and named.replace("-", "").isalnum() else None
        if snap is None or snap.get("version") != VERSION or snap.get("journal") != signature \
                or snap.get("shell") != shell_key(snap["repo"]) \
                or (run_id and not _same_config(repo, snap["repo"])) or not taken(snap["lock"]):
            return None
        windows = _windows(snap["tmux"], snap["session"])
        return None if windows is None else _printed(snap, windows, time.time())
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # a snapshot of another shape, half a file: the normal path answers


def _latest(repo: str, signature: str) -> str | None:
    """The latest run of the repo at `repo`, as the normal path finds it without git (the
    nearest folder up holding a `.git`); None when it would ask git (`toplevel_without_git`)."""
    if any(os.environ.get(k) for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES")) \
            or not _on_path("git"):
        return None
    here = os.path.realpath(repo)
    while not os.path.exists(os.path.join(here, ".git")):
        if os.path.dirname(here) == here:
            return None
        here = os.path.dirname(here)
    pointer = _load(pointer_file(here))
    if pointer is None or pointer.get("repo") != here or pointer.get("journal") != signature:
        return None
    return str(pointer["run"])


def _same_config(repo: str, run_repo: str) -> bool:
    """With `--run`, the normal path loads the config in `--repo` (default: here), not in the
    run's repo: the snapshot holds when that is the same file, or there is none."""
    mine = os.path.join(repo, REPO_CONFIG_NAME)
    return not os.path.exists(mine) or os.path.samefile(mine, os.path.join(run_repo, REPO_CONFIG_NAME))


def _on_path(program: str) -> bool:
    """`shutil.which(program) is not None` without shutil's imports."""
    for folder_ in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder_ or os.curdir, program)
        if os.access(path, os.F_OK | os.X_OK) and not os.path.isdir(path):
            return True
    return False


def _load(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _windows(server: list[str], session: str) -> dict[str, str] | None:
    """Window id → name of the session's windows, as `Tmux.panes` reads them ({} when the
    session or its server is gone); None when tmux cannot be started."""
    argv = ["tmux", *server, "list-panes", "-s", "-t", f"={session}", "-F", PANE_FORMAT]
    out, code = _spawn(argv)
    windows: dict[str, str] = {}
    if code != 0:
        return windows
    for line in out.decode("utf-8", "backslashreplace").split("\n"):
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] == session:  # tmux 3.3 may answer for `app-1a2b` (Tmux.panes)
            windows.setdefault(parts[1], parts[2])
    return windows


def _spawn(argv: list[str]) -> tuple[bytes, int]:
    """Run `argv` (found on PATH) with stdin and stderr on /dev/null; its stdout and exit code.
    `subprocess` would cost this path a fifth of its time."""
    read, write = os.pipe()
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, write, 1),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    finally:
        os.close(write)
    try:
        chunks = []
        while chunk := os.read(read, 65536):
            chunks.append(chunk)
    finally:
        os.close(read)
    _, status = os.waitpid(pid, 0)
    return b"".join(chunks), os.waitstatus_to_exitcode(status)


def _printed(snap: dict[str, Any], windows: dict[str, str], now: float) -> str:
    """The snapshot with the overlay: each session as it reads with its window or without, and
    its elapsed time now."""
    status = snap["status"]
    sessions = []
    for shown, hidden, pane, (started, ended) in zip(status["sessions"], snap["without"], snap["panes"],
                                                       snap["times"], strict=True):
        session = shown if pane is not None and _has_window(pane[0], pane[1], windows) else hidden
        sessions.append({**session, "elapsed_s": elapsed_s(started, ended, now)})
    return json.dumps({**status, "sessions": sessions}, indent=2, ensure_ascii=False)


def _has_window(window_id: str, name: str, windows: dict[str, str]) -> bool:
    """`engine.run.lookup.pane_for`'s rule: by id and name (a new server reuses ids), by name
    alone when the id never made it into the journal."""
    if window_id:
        return windows.get(window_id) == name
    return name in windows.values()
