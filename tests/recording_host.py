"""A Host that writes down every process and every file it is asked about, then lets the local
host do it: where a remote host would sit, so a test can see what would cross to it."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from engine.hosts.host import Completed, LocalHost, Stream


class RecordingHost:
    """The local host under another name, recording argv lists (`calls`) and file paths with
    the operation asked (`files`: (op, path))."""

    def __init__(self, name: str = "local") -> None:
        self.name = name
        self.calls: list[list[str]] = []
        self.files: list[tuple[str, str]] = []
        self._local = LocalHost()
        self._guard = threading.Lock()  # a run checks worktrees out from several threads

    def _call(self, argv: Sequence[str]) -> None:
        with self._guard:
            self.calls.append(list(argv))

    def _file(self, op: str, path: Path) -> None:
        with self._guard:
            self.files.append((op, str(path)))

    def paths(self, *ops: str) -> set[str]:
        """Every path asked about (with one of `ops`, when given)."""
        with self._guard:
            return {p for op, p in self.files if not ops or op in ops}

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None, stdin: bytes | None = None, group: bool = False) -> Completed:
        self._call(argv)
        return self._local.run(argv, cwd=cwd, env=env, timeout=timeout, stdin=stdin, group=group)

    def stream(self, argv: Sequence[str], *, cwd: Path | None = None,
               env: Mapping[str, str] | None = None) -> Stream:
        self._call(argv)
        return self._local.stream(argv, cwd=cwd, env=env)

    def which(self, program: str) -> str | None:
        return self._local.which(program)

    def signal(self, pid: int, sig: int, *, group: bool = False) -> bool:
        return self._local.signal(pid, sig, group=group)

    def alive(self, pid: int) -> bool:
        return self._local.alive(pid)

    def terminal(self, argv: Sequence[str]) -> Completed:
        """Written down, not run: a test has no terminal to hand over (like `exec`)."""
        self._call(argv)
        return Completed(list(argv), 0, None, b"")

    def exec(self, argv: Sequence[str]) -> NoReturn:
        self._call(argv)
        raise SystemExit(0)

    def read_bytes(self, path: Path) -> bytes:
        self._file("read", path)
        return self._local.read_bytes(path)

    def write_bytes(self, path: Path, data: bytes) -> None:
        self._file("write", path)
        self._local.write_bytes(path, data)

    def append_bytes(self, path: Path, data: bytes) -> None:
        self._file("append", path)
        self._local.append_bytes(path, data)

    def read_tail(self, path: Path, offset: int) -> tuple[bytes, int]:
        self._file("tail", path)
        return self._local.read_tail(path, offset)

    def exists(self, path: Path) -> bool:
        self._file("exists", path)
        return self._local.exists(path)

    def mkdir(self, path: Path) -> None:
        self._file("mkdir", path)
        self._local.mkdir(path)

    def remove(self, path: Path) -> None:
        self._file("remove", path)
        self._local.remove(path)

    def listdir(self, path: Path) -> list[str]:
        self._file("listdir", path)
        return self._local.listdir(path)

    def chmod(self, path: Path, mode: int) -> None:
        self._file("chmod", path)
        self._local.chmod(path, mode)
