"""The machine the engine drives: where commands run and processes are signalled.

Git, tmux and the agents' processes live on one host; today that is this machine
(`LocalHost`, in `local`). A remote host (ssh, a container) implements the same calls and
plugs in through the registry the Engine owns (`registry.Hosts`), under the name each session
journals. Every file of a session (hooks, streams, exit, prompt, ownership) is read and written
here too, since it lives where the session does. Commands are argv lists, never shell
strings, and the result is `subprocess.CompletedProcess` with raw bytes: decoding and error
wording stay with the caller, which knows what the command was for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn, Protocol

from engine.hosts.local import LOCAL, Completed, LocalHost, Stream

__all__ = ["LOCAL", "Completed", "Host", "LocalHost", "Stream"]


class Host(Protocol):
    """Run commands, signal processes and read and write files on the machine the sessions
    live on. Paths are the host's own (a remote host's home is not this one's)."""

    name: str
    """How the journal names this host (`local` for this machine; a remote one's config name)."""

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

    def read_bytes(self, path: Path) -> bytes:
        """The whole file; FileNotFoundError when it is absent (other OSErrors as they come)."""
        ...

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Replace the file atomically (a temp file next to it, then a rename: a reader never
        sees half of it), creating its parent folders."""
        ...

    def append_bytes(self, path: Path, data: bytes) -> None:
        """Add `data` at the end (the file is created if absent; its folder must exist)."""
        ...

    def read_tail(self, path: Path, offset: int) -> tuple[bytes, int]:
        """What was written from `offset` to the current end, and the offset to ask from next
        (the file's size when read); (b"", offset) when the file is absent. A file shorter
        than `offset` gives (b"", its size): a new offset below the one given means the file
        was truncated or replaced (ask again from 0), and a huge offset asks for the size alone."""
        ...

    def exists(self, path: Path) -> bool:
        ...

    def mkdir(self, path: Path) -> None:
        """The folder and its parents; an existing one is fine."""
        ...

    def remove(self, path: Path) -> None:
        """Delete a file; a missing one is fine."""
        ...

    def listdir(self, path: Path) -> list[str]:
        """Entry names in the folder, sorted; [] when it is absent."""
        ...

    def chmod(self, path: Path, mode: int) -> None:
        ...
