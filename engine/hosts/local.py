"""This machine as a `Host`: `subprocess`, `shutil.which`, `os.kill` and `os.execvp`.

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


LOCAL: Host = LocalHost()
"""The default host of every call that is not given one."""
