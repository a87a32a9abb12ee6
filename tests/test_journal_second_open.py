"""A second journal opened in a process must not cost the first one its writes.

SQLite's locks are POSIX advisory locks, which the kernel drops for the whole process when ANY
descriptor of the file is closed. `engine.run.journal._looks_like_sqlite` reads the database
file's header with a plain `open()` before each connection: in a process that already holds a
journal open (the app launching a run whose preflight reads the journal again, say), that close
drops the open connection's locks. Another process that then closes its last connection finds
itself alone, checkpoints and deletes the write-ahead log, and every later write through the
first connection is lost to the other processes. Seen in the app: a session's window ran while
its journal row stayed at phase `worktree`, and the run read as interrupted.

The journal now counts its connections per process and skips the header read while one is
open (tests/test_journal_connections.py): this stays as the end-to-end regression test.
"""

from __future__ import annotations

import subprocess
import sys

from engine.run.journal import journal_path, open_journal


def _other_process(sql: str) -> str:
    """One connection in another process: runs `sql`, prints its first value, closes."""
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "print(c.execute(sys.argv[2]).fetchone()[0]); c.close()")
    return subprocess.run([sys.executable, "-c", code, str(journal_path()), sql],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_a_write_after_a_second_open_reaches_other_processes() -> None:
    with open_journal() as journal:
        journal.timing("run-1", "a", "before", 1.0)
        with open_journal():  # a second journal in this process (the preflight's, the app's status)
            pass
        _other_process("SELECT count(*) FROM timings")  # a status read elsewhere, then closed
        journal.timing("run-1", "a", "after", 1.0)
        assert _other_process("SELECT count(*) FROM timings") == "2"


def test_a_write_reaches_other_processes_without_a_second_open() -> None:
    """The same without the second open: the write is seen (the rule the xfail above breaks)."""
    with open_journal() as journal:
        journal.timing("run-1", "a", "before", 1.0)
        _other_process("SELECT count(*) FROM timings")
        journal.timing("run-1", "a", "after", 1.0)
        assert _other_process("SELECT count(*) FROM timings") == "2"
