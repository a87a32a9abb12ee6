"""The crash-safe run journal: SQLite (WAL) in the state dir.

Every worktree, branch, window and agent session is written here *before* it is created,
so after a crash or `kill -9` of the orchestrator `status` can rebuild the picture from
journal + tmux + git, and `cleanup` can find every leftover. Rows are only ever updated
forward (a session's `phase` moves planned → worktree → started → cleaned), never
deleted, so the journal is also the run history.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.config import ENV_PREFIX, state_dir, writable_dir
from engine.errors import StateError
from engine.jsonio import to_jsonable
from engine.run_events import RunEvent

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, repo TEXT NOT NULL, base_sha TEXT NOT NULL, base_ref TEXT NOT NULL,
    agent TEXT NOT NULL, tmux_socket TEXT NOT NULL, tmux_session TEXT NOT NULL,
    task TEXT NOT NULL, created_at REAL NOT NULL, pid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    run_id TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL, branch TEXT NOT NULL,
    worktree TEXT NOT NULL, window_name TEXT NOT NULL, window_id TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL, agent_session_id TEXT NOT NULL DEFAULT '', owned TEXT NOT NULL,
    phase TEXT NOT NULL, final_state TEXT NOT NULL DEFAULT '', reused INTEGER NOT NULL DEFAULT 0,
    started_at REAL NOT NULL DEFAULT 0, first_activity_at REAL NOT NULL DEFAULT 0,
    ended_at REAL NOT NULL DEFAULT 0, prompt_file TEXT NOT NULL, hook_file TEXT NOT NULL,
    stream_file TEXT NOT NULL, PRIMARY KEY (run_id, slug));
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, at REAL NOT NULL,
    kind TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS timings (
    run_id TEXT NOT NULL, slug TEXT NOT NULL, stage TEXT NOT NULL, seconds REAL NOT NULL);
"""

PHASES = ("planned", "worktree", "launching", "started", "launch_failed", "stopped", "cleaned")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    id: str
    repo: str
    base_sha: str
    base_ref: str
    agent: str
    tmux_socket: str
    tmux_session: str
    task: str
    created_at: float
    pid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    run_id: str
    slug: str
    name: str
    branch: str
    worktree: str
    window_name: str
    agent: str
    owned: tuple[str, ...]
    phase: str
    prompt_file: str
    hook_file: str
    stream_file: str
    window_id: str = ""
    agent_session_id: str = ""
    final_state: str = ""
    reused: bool = False
    started_at: float = 0.0
    first_activity_at: float = 0.0
    ended_at: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Timing:
    slug: str
    stage: str
    seconds: float


def journal_path() -> Path:
    return state_dir() / "journal.sqlite3"


class Journal:
    """One connection per instance; every write commits at once (autocommit + WAL)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or journal_path()
        writable_dir(self.path.parent, "state directory")
        if self.path.is_file() and not os.access(self.path, os.R_OK | os.W_OK):
            # sqlite would open it read-only and fail at the first write, mid-run
            raise StateError(f"the journal {self.path} is not writable",
                             hint="fix its permissions (chmod u+rw; `lsattr` shows an immutable flag), "
                                  f"or set {ENV_PREFIX}HOME to another folder")
        self._db = _connect(self.path)

    def close(self) -> None:
        self._db.close()

    def add_run(self, run: RunRecord) -> None:
        row = dataclasses.asdict(run)
        self._db.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({_marks(row)})", tuple(row.values()))

    def add_session(self, session: SessionRecord) -> None:
        row = _session_row(session)
        self._db.execute(f"INSERT OR REPLACE INTO sessions ({', '.join(row)}) VALUES ({_marks(row)})",
                         tuple(row.values()))

    def update_session(self, run_id: str, slug: str, **fields: object) -> None:
        """Move a session forward; field names are the dataclass's own (checked)."""
        known = {f.name for f in dataclasses.fields(SessionRecord)}
        bad = set(fields) - known
        if bad:
            raise ValueError(f"unknown session fields: {sorted(bad)}")
        values = [json.dumps(list(v)) if isinstance(v, tuple) else v for v in fields.values()]
        sets = ", ".join(f"{k} = ?" for k in fields)
        self._db.execute(f"UPDATE sessions SET {sets} WHERE run_id = ? AND slug = ?",
                         (*values, run_id, slug))

    def record(self, event: RunEvent) -> None:
        payload = json.dumps(to_jsonable(event), ensure_ascii=False)
        self._db.execute("INSERT INTO events (run_id, at, kind, payload) VALUES (?, ?, ?, ?)",
                         (event.run_id, time.time(), event.kind, payload))

    def timing(self, run_id: str, slug: str, stage: str, seconds: float) -> None:
        self._db.execute("INSERT INTO timings VALUES (?, ?, ?, ?)", (run_id, slug, stage, seconds))

    def run(self, run_id: str) -> RunRecord | None:
        cur = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,))
        row = cur.fetchone()
        return _run(cur, row) if row else None

    def runs(self, repo: str | None = None) -> list[RunRecord]:
        """Runs, newest first; only `repo`'s when given."""
        sql, args = "SELECT * FROM runs", ()  # type: tuple[str, tuple[str, ...]]
        if repo is not None:
            sql, args = sql + " WHERE repo = ?", (repo,)
        cur = self._db.execute(sql + " ORDER BY created_at DESC, rowid DESC", args)
        return [_run(cur, r) for r in cur.fetchall()]

    def sessions(self, run_id: str) -> list[SessionRecord]:
        cur = self._db.execute("SELECT * FROM sessions WHERE run_id = ? ORDER BY rowid", (run_id,))
        return [_session(cur, r) for r in cur.fetchall()]

    def timings(self, run_id: str) -> list[Timing]:
        rows = self._db.execute("SELECT slug, stage, seconds FROM timings WHERE run_id = ? ORDER BY rowid",
                                (run_id,)).fetchall()
        return [Timing(slug=r[0], stage=r[1], seconds=r[2]) for r in rows]

    def events(self, run_id: str) -> list[tuple[float, str, dict[str, object]]]:
        rows = self._db.execute("SELECT at, kind, payload FROM events WHERE run_id = ? ORDER BY id",
                                (run_id,)).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]


@contextmanager
def open_journal(path: Path | None = None) -> Iterator[Journal]:
    with closing(Journal(path)) as journal:
        yield journal


_CORRUPT = {11, 26}
"""SQLITE_CORRUPT and SQLITE_NOTADB: the file is not (or no longer) a database."""
_SIDECARS = ("", "-wal", "-shm")


def _connect(path: Path) -> sqlite3.Connection:
    """Open or create the journal; a corrupt one is moved aside (never deleted) and named."""
    if not _looks_like_sqlite(path):
        # before sqlite sees it: on close sqlite would delete a WAL file it cannot use
        raise _corrupt(path, sqlite3.DatabaseError("file is not a database"))
    try:
        db = sqlite3.connect(path, timeout=15, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _unopenable(path, exc) from None
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
    except sqlite3.DatabaseError as exc:
        db.close()
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _CORRUPT:
            raise _unopenable(path, exc) from None
        raise _corrupt(path, exc) from None
    return db


def _looks_like_sqlite(path: Path) -> bool:
    """True for a missing or empty file (sqlite makes a new one) or one with sqlite's header."""
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except OSError:
        return True  # not ours to judge: sqlite's own error names what is wrong
    return head in (b"", b"SQLite format 3\0")


def _unopenable(path: Path, exc: sqlite3.Error) -> StateError:
    return StateError(f"the journal {path} cannot be opened ({exc})",
                      hint=f"it must be a readable, writable file (not a folder), or set {ENV_PREFIX}HOME "
                           "to another folder")


def _corrupt(path: Path, exc: sqlite3.Error) -> StateError:
    """Stop with one line rather than go on with an empty history.

    The journal is the tool's memory of what it created: `status` or `cleanup` answering from
    a silently fresh journal would say nothing is left while old worktrees still exist. So the
    file is kept for recovery, the user is told, and the next command starts a fresh journal.
    """
    try:
        aside = _move_aside(path)
    except OSError as err:
        return StateError(f"the journal {path} is corrupt ({exc}) and could not be moved aside "
                          f"({err.strerror or err})",
                          hint=f"move it away yourself (mv {path} {path}.corrupt), then run it again")
    return StateError(f"the journal {path} is corrupt ({exc}); it was moved to {aside}",
                      hint=f"run the command again to start a fresh journal; `sqlite3 {aside} .recover` "
                           "salvages what it can, and old runs' worktrees and branches stay in git "
                           "(`git worktree list`)")


def _move_aside(path: Path) -> Path:
    """Rename the journal and its WAL files to a timestamped name beside them; never overwrite."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside, n = path.with_name(f"{path.name}.corrupt-{stamp}"), 0
    while any(Path(f"{aside}{s}").exists() for s in _SIDECARS):
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}.{n}")
    for suffix in _SIDECARS:
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(f"{aside}{suffix}")
    return aside


def _marks(row: dict[str, object]) -> str:
    return ", ".join("?" for _ in row)


def _session_row(session: SessionRecord) -> dict[str, object]:
    row = dataclasses.asdict(session)
    row["owned"] = json.dumps(list(session.owned))
    row["reused"] = int(session.reused)
    return row


def _run(cur: sqlite3.Cursor, row: tuple[object, ...]) -> RunRecord:
    names = [d[0] for d in cur.description]
    return RunRecord(**dict(zip(names, row, strict=True)))


def _session(cur: sqlite3.Cursor, row: tuple[object, ...]) -> SessionRecord:
    data = dict(zip([d[0] for d in cur.description], row, strict=True))
    data["owned"] = tuple(json.loads(str(data["owned"])))
    data["reused"] = bool(data["reused"])
    return SessionRecord(**data)
