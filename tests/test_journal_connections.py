"""Two connections to the journal in one process (the app's follower and its commands, the
supervisor and its status snapshot) must not cost the first one its locks: a second `Journal`
once opened and closed the file for its checks, which drops every POSIX lock the process
held on it, and the next process to close a connection deleted the WAL still in use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.core.errors import StateError
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
