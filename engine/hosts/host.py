"""The machine the engine drives: where commands run and processes are signalled.

Git, tmux and the agents' processes live on one host; today that is this machine
(`LocalHost`, in `local`). A remote host (ssh, a container) implements the same calls and
plugs in where `LOCAL` is the default, without the callers changing. Commands are argv lists,
never shell strings, and the result is `subprocess.CompletedProcess` with raw bytes: decoding
and error wording stay with the caller, which knows what the command was for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn, Protocol

from engine.hosts.local import LOCAL, Completed, LocalHost, Stream

__all__ = ["LOCAL", "Completed", "Host", "LocalHost", "Stream"]


class Host(Protocol):
    """Run commands and signal processes on the machine the sessions live on."""

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None, stdin: bytes | None = None, group: bool = False) -> Completed:
        """Run `argv` to the end, output captured, `stdin` fed to it (else /dev/null); OSError if
        it cannot start, `subprocess.TimeoutExpired` after `timeout` seconds (the process is
        killed; with `group` it runs in its own process group, and the whole group is killed
        then or on an interrupt, so nothing it started outlives it)."""
        ...

    def stream(self, argv: Sequence[str], *, cwd: Path | None = None,
               env: Mapping[str, str] | None = None) -> Stream:
        """Start `argv` with pipes to its stdin and stdout (stderr discarded), for a conversation
        such as `git cat-file --batch` that is read as it goes; the caller closes, kills and
        waits. OSError if it cannot start."""
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

    def terminal(self, argv: Sequence[str]) -> Completed:
        """Run `argv` to the end with this process's terminal as its stdin and stdout, stderr
        captured (`tmux attach` while the app is suspended); OSError if it cannot start."""
        ...

    def exec(self, argv: Sequence[str]) -> NoReturn:
        """Replace this process with `argv` on the host (`attach`: the terminal becomes the
        session's window); OSError if it cannot start."""
        ...
