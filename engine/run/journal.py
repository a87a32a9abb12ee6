"""The crash-safe run journal: SQLite (WAL) in the state dir.

Every worktree, branch, window and agent session is written here *before* it is created,
so after a crash or `kill -9` of the orchestrator `status` can rebuild the picture from
journal + tmux + git, and `cleanup` can find every leftover. Rows are only ever updated
forward (a session's `phase` moves planned → worktree → started → cleaned), never
deleted, so the journal is also the run history.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from engine.core.config import ENV_PREFIX, state_dir, writable_dir
from engine.core.errors import StateError
from engine.core.jsonio import to_jsonable
from engine.core.phase import Phase

if TYPE_CHECKING:
    from engine.core.events import RunEvent

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, repo TEXT NOT NULL, base_sha TEXT NOT NULL, base_ref TEXT NOT NULL,
    agent TEXT NOT NULL, tmux_socket TEXT NOT NULL, tmux_session TEXT NOT NULL,
    task TEXT NOT NULL, created_at REAL NOT NULL, pid INTEGER NOT NULL,
    tmux_server TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS sessions (
    run_id TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL, branch TEXT NOT NULL,
    worktree TEXT NOT NULL, window_name TEXT NOT NULL, window_id TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL, agent_session_id TEXT NOT NULL DEFAULT '', owned TEXT NOT NULL,
    phase TEXT NOT NULL, final_state TEXT NOT NULL DEFAULT '', reused INTEGER NOT NULL DEFAULT 0,
    started_at REAL NOT NULL DEFAULT 0, first_activity_at REAL NOT NULL DEFAULT 0,
    ended_at REAL NOT NULL DEFAULT 0, prompt_file TEXT NOT NULL, hook_file TEXT NOT NULL,
    stream_file TEXT NOT NULL, made INTEGER NOT NULL DEFAULT 0, matched TEXT NOT NULL DEFAULT '',
    depends_on TEXT NOT NULL DEFAULT '[]', host TEXT NOT NULL DEFAULT 'local',
    PRIMARY KEY (run_id, slug));
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, at REAL NOT NULL,
    kind TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS timings (
    run_id TEXT NOT NULL, slug TEXT NOT NULL, stage TEXT NOT NULL, seconds REAL NOT NULL);
CREATE TABLE IF NOT EXISTS estimates (
    run_id TEXT PRIMARY KEY, sequential_minutes REAL NOT NULL, source TEXT NOT NULL,
    constants TEXT NOT NULL, specialists TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS merges (
    run_id TEXT NOT NULL, at REAL NOT NULL, target TEXT NOT NULL, old_sha TEXT NOT NULL,
    new_sha TEXT NOT NULL, branches TEXT NOT NULL, seconds REAL NOT NULL,
    waiting_seconds REAL NOT NULL);
"""

PHASES: tuple[Phase, ...] = get_args(Phase)
"""`registered`: branch and worktree exist, checkout not finished; `worktree`: checked out."""
CREATING: tuple[Phase, ...] = ("planned", "registered", "worktree", "launching")
"""Phases a session passes through before its agent runs: left behind by an interrupted run."""
WAVE_PHASES: tuple[Phase, ...] = ("planned", "registered", "worktree")
"""A dependent session in these phases is (still) the supervisor's to create: a wave that
failed part-way leaves some registered or checked out, and the next try carries them on."""
_PROGRESS = "SELECT {} FROM events WHERE run_id = ?1 AND kind = {} GROUP BY json_extract(payload, '$.name')"
_THINNED = ("SELECT at, kind, payload FROM events WHERE id IN (SELECT id FROM events WHERE run_id = ?1 "
            "AND kind NOT IN (?2, ?3) "
            + " ".join(f"UNION ALL {_PROGRESS.format(first_or_last, kind)}"
                       for kind in ("?2", "?3") for first_or_last in ("MIN(id)", "MAX(id)"))
            + ") ORDER BY id")
"""`events_to_fold`'s read: every row of the run but its SessionProgress (?2) and
SessionStateChanged (?3), whose first and last per session come from `events_by_name` alone
(the index holds each payload's name: no JSON is parsed), ~6 ms for 20,000 progress rows."""
MIGRATIONS = (("runs", "tmux_server", "TEXT NOT NULL DEFAULT ''"),
              ("sessions", "made", "INTEGER NOT NULL DEFAULT 1"),
              ("sessions", "matched", "TEXT NOT NULL DEFAULT ''"),
              ("sessions", "depends_on", "TEXT NOT NULL DEFAULT '[]'"),
              ("sessions", "host", "TEXT NOT NULL DEFAULT 'local'"))
"""Columns added since the first release; old journals get them (`made` = 1: back then every
journaled worktree was one this tool created)."""


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
    tmux_server: str = ""
    """The tmux server's socket path (`tmux -S`): where the windows are, wherever cleanup runs."""


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
    phase: Phase
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
    made: bool = False
    """This tool registered (or set out to register) the worktree: only then may cleanup remove it."""
    matched: str = ""
    """The specialist agent the subtask matched, so `run --resume` launches it the same way."""
    depends_on: tuple[str, ...] = ()
    """Names of the subtasks this one builds on (the plan's), so merges go dependencies first."""
    host: str = "local"
    """The host its worktree, window, agent and files live on, by name (`engine.hosts.registry`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Timing:
    slug: str
    stage: str
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEstimate:
    run_id: str
    sequential_minutes: float
    source: str
    """Where the sequential estimate came from: `plan`, `scope`, `flag`, `subtasks`."""
    constants: dict[str, float]
    """The model's constants in force at launch (config names), so the prediction can be redone."""
    specialists: tuple[str, ...] = ()
    """The matched specialist agent of each subtask (`security-engineer`, …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeRecord:
    run_id: str
    at: float
    target: str
    old_sha: str
    new_sha: str
    branches: tuple[str, ...]
    seconds: float
    waiting_seconds: float
    """Time spent waiting for the person to confirm."""


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
        self._key = os.path.realpath(self.path)
        with _OPENING:
            self._db = _connect(self.path, check=not _OPEN.get(self._key))
            _OPEN[self._key] = _OPEN.get(self._key, 0) + 1

    def close(self) -> None:
        self._db.close()
        with _OPENING:
            if self._key:  # closed once
                _OPEN[self._key] -= 1
            self._key = ""

    def add_run(self, run: RunRecord) -> None:
        row = dataclasses.asdict(run)
        self._db.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({_marks(row)})", tuple(row.values()))

    def add_session(self, session: SessionRecord) -> None:
        row = _session_row(session)
        self._db.execute(f"INSERT OR REPLACE INTO sessions ({', '.join(row)}) VALUES ({_marks(row)})",
                         tuple(row.values()))

    def add_run_with_sessions(self, run: RunRecord, sessions: list[SessionRecord]) -> None:
        """All or nothing: a run is never journaled with only some of its sessions."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self.add_run(run)
            for session in sessions:
                self.add_session(session)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def migrate(self) -> None:
        """Add the columns an older journal lacks (idempotent)."""
        for table, column, decl in MIGRATIONS:
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

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

    def events_to_fold(self, run_id: str) -> tuple[list[tuple[float, str, dict[str, object]]], int]:
        """`events`, each session's SessionProgress and SessionStateChanged thinned to its first
        and last, and how many were left out. A fold reads them the same: each such event
        replaces all the fields of the one before (progress; state, source and detail) and no
        event's effect depends on them; the first keeps the place where a session first appears.
        A full `status` then reads a few rows, not the whole history."""
        try:
            kinds = ("session_progress", "session_state_changed")
            rows = self._db.execute(_THINNED, (run_id, *kinds)).fetchall()
        except sqlite3.OperationalError:  # an old payload SQLite's JSON cannot parse: read them all
            return self.events(run_id), 0
        total = self._db.execute("SELECT COUNT(*) FROM events WHERE run_id = ?", (run_id,)).fetchone()[0]
        return [(r[0], r[1], json.loads(r[2])) for r in rows], int(total) - len(rows)

    def events_after(self, run_id: str, after_id: int = 0) -> list[tuple[int, str, dict[str, object]]]:
        """Events journaled after event `after_id`, as (id, kind, payload): how a client tails
        what the run's supervisor records."""
        rows = self._db.execute("SELECT id, kind, payload FROM events WHERE run_id = ? AND id > ? "
                                "ORDER BY id", (run_id, after_id)).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    def last_event_id(self, run_id: str) -> int:
        row = self._db.execute("SELECT MAX(id) FROM events WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0] or 0)

    def add_estimate(self, estimate: RunEstimate) -> None:
        """What the model predicted when the run started (for the report and calibration)."""
        self._db.execute("INSERT OR REPLACE INTO estimates VALUES (?, ?, ?, ?, ?)",
                         (estimate.run_id, estimate.sequential_minutes, estimate.source,
                          json.dumps(estimate.constants, sort_keys=True), json.dumps(estimate.specialists)))

    def estimate(self, run_id: str) -> RunEstimate | None:
        row = self._db.execute("SELECT * FROM estimates WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        return RunEstimate(run_id=row[0], sequential_minutes=row[1], source=row[2],
                           constants=json.loads(row[3]), specialists=tuple(json.loads(row[4])))

    def add_merge(self, merge: MergeRecord) -> None:
        self._db.execute("INSERT INTO merges VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (merge.run_id, merge.at, merge.target, merge.old_sha, merge.new_sha,
                          json.dumps(list(merge.branches)), merge.seconds, merge.waiting_seconds))

    def merges(self, run_id: str) -> list[MergeRecord]:
        rows = self._db.execute("SELECT * FROM merges WHERE run_id = ? ORDER BY at", (run_id,)).fetchall()
        return [MergeRecord(run_id=r[0], at=r[1], target=r[2], old_sha=r[3], new_sha=r[4],
                            branches=tuple(json.loads(r[5])), seconds=r[6], waiting_seconds=r[7])
                for r in rows]


@contextmanager
def open_journal(path: Path | None = None) -> Iterator[Journal]:
    with closing(Journal(path)) as journal:
        journal.migrate()
        yield journal


_CORRUPT = {11, 26}
"""SQLITE_CORRUPT and SQLITE_NOTADB: the file is not (or no longer) a database."""
_SIDECARS = ("", "-wal", "-shm")


_OPEN: dict[str, int] = {}
"""This process's open connections, by journal. The file checks before `connect` open and close
the file, and closing any descriptor of a file drops every POSIX lock the process holds on it,
its other connections' SQLite locks included: another process closing its connection would
then take itself for the last, checkpoint and delete the WAL they still write to (sqlite.org,
"How To Corrupt Your Database Files", 2.2). So they run only while none is open; a journal one
connection of this process reads is a database anyway."""
_OPENING = threading.Lock()


def _connect(path: Path, *, check: bool = True) -> sqlite3.Connection:
    """Open or create the journal; a corrupt one is moved aside (never deleted) and named."""
    if check and not _looks_like_sqlite(path):
        # before sqlite sees it: on close sqlite would delete a WAL file it cannot use
        raise _corrupt(path, sqlite3.DatabaseError("file is not a database"))
    if check and _emptied(path):
        raise _corrupt(path, sqlite3.DatabaseError("the file is empty"))
    try:
        db = sqlite3.connect(path, timeout=15, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _unopenable(path, exc) from None
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        _index_names(db)
    except sqlite3.DatabaseError as exc:
        db.close()
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _CORRUPT:
            raise _unopenable(path, exc) from None
        raise _corrupt(path, exc) from None
    return db


def _index_names(db: sqlite3.Connection) -> None:
    """The index `events_to_fold` reads. An older journal may hold a payload SQLite's JSON
    cannot parse (a NaN cost, before payloads were made strict): the index is then left out
    and the thinned read falls back to reading every event, instead of the journal failing."""
    with contextlib.suppress(sqlite3.OperationalError):
        db.execute("CREATE INDEX IF NOT EXISTS events_by_name "
                   "ON events(run_id, kind, json_extract(payload, '$.name'))")


def _looks_like_sqlite(path: Path) -> bool:
    """True for a missing or empty file (sqlite makes a new one) or one with sqlite's header."""
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except OSError:
        return True  # not ours to judge: sqlite's own error names what is wrong
    return head in (b"", b"SQLite format 3\0")


EMPTY_GRACE_S = 5.0
"""An empty journal younger than this may be one another command is creating right now."""


def _emptied(path: Path) -> bool:
    """An empty journal file with no write-ahead log to fill it: emptied (truncated, a disk
    that lost it), not new. Read as "no runs" it would hide every worktree the runs left, so
    it is treated like a corrupt one. A fresh journal is never empty once made (WAL mode and
    the schema are written at once); one made this instant by another command is spared."""
    try:
        stat = path.stat()
        wal = Path(f"{path}-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
    except OSError:
        return False
    return stat.st_size == 0 and wal_size == 0 and time.time() - stat.st_mtime > EMPTY_GRACE_S


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
    row["depends_on"] = json.dumps(list(session.depends_on))
    row["reused"] = int(session.reused)
    row["made"] = int(session.made)
    return row


def _run(cur: sqlite3.Cursor, row: tuple[object, ...]) -> RunRecord:
    names = [d[0] for d in cur.description]
    return RunRecord(**dict(zip(names, row, strict=True)))


def _session(cur: sqlite3.Cursor, row: tuple[object, ...]) -> SessionRecord:
    data = dict(zip([d[0] for d in cur.description], row, strict=True))
    data["owned"] = tuple(json.loads(str(data["owned"])))
    data["depends_on"] = tuple(json.loads(str(data.get("depends_on", "[]"))))
    data["reused"] = bool(data["reused"])
    data["made"] = bool(data.get("made", 1))  # an old journal opened without `migrate`
    return SessionRecord(**data)
