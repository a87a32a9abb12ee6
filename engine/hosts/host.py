"""The machine the engine drives: where commands run and processes are signalled.

Git, tmux and the agents' processes live on one host; today that is this machine
(`LocalHost`). A remote host (ssh, a container) implements the same four calls and plugs in
where `LOCAL` is the default, without the callers changing. Commands are argv lists, never
shell strings, and the result is `subprocess.CompletedProcess` with raw bytes: decoding and
error wording stay with the caller, which knows what the command was for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

Completed = subprocess.CompletedProcess[bytes]


class Host(Protocol):
    """Run commands and signal processes on the machine the sessions live on."""

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        """Run `argv` to the end, output captured; OSError if it cannot start,
        `subprocess.TimeoutExpired` after `timeout` seconds (the process is killed)."""
        ...

    def which(self, program: str) -> str | None:
        """The program's path on the host's PATH, or None."""
        ...

    def signal(self, pid: int, sig: int, *, group: bool = False) -> bool:
        """Send `sig` to the process (its process group with `group`); False when it is gone."""
        ...

    def alive(self, pid: int) -> bool:
        """Whether the process exists (one we may not signal still exists)."""
        ...


class LocalHost:
    """This machine: `subprocess`, `shutil.which` and `os.kill`."""

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        return subprocess.run(list(argv), cwd=cwd, env=None if env is None else dict(env),
                              capture_output=True, check=False, timeout=timeout)

    def which(self, program: str) -> str | None:
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


LOCAL: Host = LocalHost()
"""The default host of every call that is not given one."""
