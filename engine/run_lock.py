"""An advisory lock (fcntl) that keeps two orchestrators off the same run or repo.

The kernel drops an `flock` when its holder dies, so a `kill -9`'d orchestrator never
leaves a stale lock behind; the file also records the holder's pid for the error text.
A finished run's lock file is removed by its holder (`Held.remove`) once cleanup has left
nothing of the run: nobody waits on these locks (they fail at once), so no one can be
left holding the unlinked file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.config import state_dir
from engine.errors import EngineError


class LockedError(EngineError):
    """Another orchestrator holds the run or repo."""


def lock_path(key: str) -> Path:
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return state_dir() / "locks" / f"{digest}.lock"


class Held:
    """A lock this process holds."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def remove(self) -> None:
        """Delete the lock file while still holding it (the run it guarded is gone)."""
        self.path.unlink(missing_ok=True)


@contextmanager
def held(key: str, what: str) -> Iterator[Held]:
    """Hold the lock for `key` or raise LockedError at once (never wait on a stranger)."""
    path = lock_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise LockedError(f"{what} is being driven by another parallel-tui (pid {holder})",
                              hint="wait for it to finish, or stop that process first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield Held(path)
    finally:
        os.close(fd)


def is_held(key: str) -> bool:
    """Whether a live process holds `key` (a probe: takes and drops the lock)."""
    path = lock_path(key)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
