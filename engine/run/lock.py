"""An advisory lock (fcntl) that keeps two orchestrators off the same run or repo.

The kernel drops an `flock` when its holder dies, so a `kill -9`'d orchestrator never
leaves a stale lock behind; the file also records the holder's pid for the error text.
A finished run's lock file is removed by its holder (`Held.remove`) once cleanup has left
nothing of the run: nobody waits on these locks (they fail at once), so no one can be
left holding the unlinked file.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.core.config import ENV_PREFIX, state_dir, writable_dir
from engine.core.errors import EngineError, StateError
from engine.core.lockfile import taken


class LockedError(EngineError):
    """Another orchestrator holds the run or repo."""


def lock_path(key: str) -> Path:
    import hashlib  # noqa: PLC0415 - `check` takes no lock: not its import

    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return state_dir() / "locks" / f"{digest}.lock"


class Held:
    """A lock this process holds."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def remove(self) -> None:
        """Delete the lock file while still holding it (the run it guarded is gone)."""
        self.path.unlink(missing_ok=True)


def _open(path: Path, flags: int) -> int:
    """The lock file's descriptor, or one StateError line naming it (a folder, unreadable, …)."""
    try:
        return os.open(path, flags, 0o600)
    except OSError as exc:
        raise _unopenable(path, exc) from None


def _unopenable(path: Path, exc: OSError) -> StateError:
    return StateError(f"the lock file {path} cannot be opened ({exc.strerror or exc})",
                      hint=f"remove it if it is not a regular file, or set {ENV_PREFIX}HOME "
                           "to a writable folder")


@contextmanager
def held(key: str, what: str) -> Iterator[Held]:
    """Hold the lock for `key` or raise LockedError at once (never wait on a stranger)."""
    path = lock_path(key)
    writable_dir(path.parent, "lock folder")
    fd = _open(path, os.O_RDWR | os.O_CREAT)
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
    try:
        return taken(str(path))
    except OSError as exc:
        raise _unopenable(path, exc) from None
