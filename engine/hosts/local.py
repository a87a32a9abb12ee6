"""This machine as a `Host`: `subprocess`, `shutil.which`, `os.kill`, `os.execvp` and the
file calls of `os`.

Apart from the protocol (`host.Host`) so the calls that only run git, such as the cached
`analyze --json`, load neither `typing` nor `shutil` nor `pathlib` (a few ms of every start-up).
"""

from __future__ import annotations

import os
import subprocess

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path
    from typing import NoReturn, TypeAlias

    from engine.hosts.host import Host

Completed: TypeAlias = "subprocess.CompletedProcess[bytes]"
Stream: TypeAlias = "subprocess.Popen[bytes]"


class LocalHost:
    """This machine."""

    name = "local"

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None, stdin: bytes | None = None, group: bool = False) -> Completed:
        # stdin from /dev/null unless given: a verify or setup command that reads must not take
        # keys from the terminal the app (or the CLI's prompt) is reading
        if not group:
            return subprocess.run(list(argv), cwd=cwd, env=None if env is None else dict(env),
                                  input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                                  capture_output=True, check=False, timeout=timeout)
        proc = subprocess.Popen(list(argv), cwd=cwd, env=None if env is None else dict(env),
                                stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except BaseException:  # the timeout, or an interrupt: nothing it started outlives it
            import contextlib  # noqa: PLC0415 - only a killed group needs these
            import signal  # noqa: PLC0415

            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)

    def stream(self, argv: Sequence[str], *, cwd: Path | None = None,
               env: Mapping[str, str] | None = None) -> Stream:
        return subprocess.Popen(list(argv), cwd=cwd, env=None if env is None else dict(env),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def which(self, program: str) -> str | None:
        import shutil  # noqa: PLC0415 - ~2 ms (bz2, lzma) that only a `which` needs

        return shutil.which(program)

    def signal(self, pid: int, sig: int, *, group: bool = False) -> bool:
        try:
            (os.killpg if group else os.kill)(pid, sig)
        except ProcessLookupError:
            return False
        return True

    def alive(self, pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def terminal(self, argv: Sequence[str]) -> Completed:
        return subprocess.run(list(argv), check=False, stderr=subprocess.PIPE)

    def exec(self, argv: Sequence[str]) -> NoReturn:
        os.execvp(argv[0], list(argv))  # an argv list, no shell

    # The file calls use the methods of the `Path` they are given: pathlib is loaded by then.

    def read_bytes(self, path: Path) -> bytes:
        return path.read_bytes()

    def write_bytes(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.{_thread_id()}.partial")
        try:
            partial.write_bytes(data)
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def append_bytes(self, path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, data)  # one write: concurrent appenders (hooks) never interleave a line
        finally:
            os.close(fd)

    def read_tail(self, path: Path, offset: int) -> tuple[bytes, int]:
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return b"", offset
        with handle:
            size = handle.seek(0, 2)
            if size < offset:
                return b"", size
            handle.seek(offset)
            data = handle.read(size - offset)  # not past `size`: the offset says what was read
        return data, offset + len(data)

    def exists(self, path: Path) -> bool:
        return path.exists()

    def mkdir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def listdir(self, path: Path) -> list[str]:
        try:
            return sorted(entry.name for entry in path.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []

    def chmod(self, path: Path, mode: int) -> None:
        path.chmod(mode)


def _thread_id() -> int:
    """This thread's id: two threads writing one file use two temp files."""
    import threading  # noqa: PLC0415 - already loaded by any program with threads

    return threading.get_ident()


LOCAL: Host = LocalHost()
"""This machine: chosen at the composition roots (`build_engine`, the supervisor's `main`),
and the default of the pure-local tools (analysis's git, GitPython's repo, the statusline and
hook readers called on their own)."""
