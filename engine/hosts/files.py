"""Reading a session's files through its host the way the status readers want them: whole or
the tail, and nothing (b"") rather than an error when a file is not there yet or cannot be read
(a file mid-write, a host that stops answering: the next look reads it again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from engine.hosts.host import Host

_END = 1 << 62
"""An offset past any file's end: `read_tail` answers it with the file's size and no bytes."""


def read_or_empty(host: Host, path: Path) -> bytes:
    try:
        return host.read_bytes(path)
    except OSError:
        return b""


def tail(host: Host, path: Path, limit: int) -> bytes:
    """The last `limit` bytes (fewer in a smaller file); two `read_tail` calls, the first one
    only for the size, so a long file is never read whole."""
    end = size(host, path)
    if end < 0:
        return b""
    try:
        data, _ = host.read_tail(path, max(0, end - limit))
    except OSError:
        return b""
    return data


def size(host: Host, path: Path) -> int:
    """The file's size, -1 when absent (a cheap change key for files that only grow: the
    protocol has no stat, and a remote host answers this without sending the file)."""
    try:
        _, end = host.read_tail(path, _END)
    except OSError:
        return -1
    return -1 if end >= _END else end
