"""Two connections to the journal in one process (the app's follower and its commands, the
supervisor and its status snapshot) must not cost the first one its locks: a second `Journal`
once opened and closed the file for its checks, which drops every POSIX lock the process
held on it, and the next process to close a connection deleted the WAL still in use."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.core.errors import StateError
from engine.hosts.local import LOCAL
from engine.hosts.tmux_sessions import Tmux
from engine.run import snapshot, snapshot_read
from engine.run.journal import Journal, RunRecord


def _run(run_id: str) -> RunRecord:
    return RunRecord(id=run_id, repo="/r", base_sha="0" * 40, base_ref="main", agent="demo", tmux_socket="",
                     tmux_session="", task="t", created_at=1.0, pid=0)


def _count_elsewhere(path: Path) -> int:
    """The runs another process reads (it opens and closes a connection of its own)."""
    code = ("import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
            "print(db.execute('SELECT count(*) FROM runs').fetchone()[0]); db.close()")
    return int(subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                              check=True).stdout)


def test_a_second_journal_in_one_process_leaves_the_first_ones_wal_alone(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    first = Journal(path)
    first.add_run(_run("a"))
    wal = Path(f"{path}-wal")
    assert wal.exists()
    Journal(path).close()  # a second connection of this process, opened and closed
    assert _count_elsewhere(path) == 1
    assert wal.exists(), "another process took itself for the last connection and deleted the WAL"
    first.add_run(_run("b"))
    assert _count_elsewhere(path) == 2, "a write after that is seen by the others"
    first.close()
    first.close()  # twice is harmless: the next journal still checks its file
    path.write_bytes(b"not a database at all")
    for sidecar in ("-wal", "-shm"):
        Path(f"{path}{sidecar}").unlink(missing_ok=True)
    with pytest.raises(StateError, match="journal"):
        Journal(path)


def _shm_locks(journal: Journal) -> int:
    """The POSIX locks this process holds on the journal's `-shm` (Linux's /proc/locks)."""
    inode = Path(f"{journal.path}-shm").stat().st_ino
    return sum(1 for line in Path("/proc/locks").read_text().splitlines()
               if line.split()[4] == str(os.getpid()) and line.split()[5].endswith(f":{inode}"))


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="reads Linux's /proc/locks")
def test_the_status_snapshot_keeper_keeps_the_supervisors_locks() -> None:
    """The supervisor's snapshot thread looks at the journal's `-shm` 20 times a second, through
    a descriptor it keeps: closing one drops every lock the process holds on the file, its
    connection's too, and the next process to open the journal takes the shared index for
    unused and rebuilds it under the supervisor's writes (the radar's events went missing)."""
    journal = Journal()
    journal.add_run(_run("r0"))
    held = _shm_locks(journal)
    assert held, "SQLite holds a lock on the index while the connection is open"
    with snapshot.kept(_run("r0"), Tmux("ptui-none", "none", host=LOCAL)):
        deadline = time.monotonic() + 10
        while not Path(snapshot_read.snapshot_file("r0")).exists():
            assert time.monotonic() < deadline, "the keeper wrote the run's snapshot"
            time.sleep(0.05)
        time.sleep(5 * snapshot.EVERY_S)  # a few more looks
        assert _shm_locks(journal) >= held, "the keeper's looks dropped this process's locks"
        journal.add_run(_run("r1"))
        assert _count_elsewhere(journal.path) == 2
    journal.close()
