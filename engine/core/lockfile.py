"""Whether a live process holds an advisory lock file: the one probe `engine.run.lock` and the
status snapshot's reader (`engine.run.snapshot_read`, stdlib only, before anything else loads)
both ask."""

from __future__ import annotations

import fcntl
import os


def taken(path: str) -> bool:
    """Whether a live process holds the `flock` on `path` (a probe: takes and drops it); False
    when there is no such file. OSError when it cannot be opened (a folder, unreadable, …)."""
    if not os.path.isfile(path):  # noqa: PTH113 - no pathlib for the snapshot's reader
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
