"""An SSH host as a `Host`: the same calls as `LocalHost`, carried by the host's helper.

The Host protocol is synchronous and the engine calls it from any thread; asyncssh is
asyncio. So each RemoteHost owns one event loop in a daemon thread and every call is a
coroutine submitted to it, waited for at most its time limit (no remote call waits forever:
a command gets its own timeout, or `run_limit`, plus `call_timeout` for the round trip).
Commands, files, signals and tmux queries go through the helper on one channel
(`remote_link`); a host that cannot be reached is a `HostUnreachable`, an OSError.

Environment: callers pass `env` as a whole environment built from this machine's
(`{**os.environ, ...}`), which means nothing on another machine. A RemoteHost sends only
what differs from this machine's environment (and unsets what the caller removed): the
caller's additions apply on top of the host's own environment.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import concurrent.futures
import contextlib
import errno
import os
import shlex
import subprocess
import threading
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple, NoReturn, Self, TypeVar

from engine.core.hosts_config import HostSpec
from engine.hosts.remote_errors import HostUnreachable
from engine.hosts.remote_link import SshLink, load_asyncssh
from engine.hosts.ssh_cli import ssh_argv

__all__ = ["HostUnreachable", "RemoteHost", "ssh_argv"]

TYPE_CHECKING = False
T = TypeVar("T")
_OS_ERRORS: dict[str, type[OSError]] = {
    name: cls for name, cls in vars(builtins).items() if isinstance(cls, type) and issubclass(cls, OSError)
}
"""A helper's error kind back to its exception class (FileNotFoundError, PermissionError, ...)."""


LOOK_SMALL = 64 << 10
"""`looking` brings the bytes of files up to this size (the rest: kind and size only)."""


class Looked(NamedTuple):
    """One file as a look found it: "file", "dir", "none" or "?" (ask again), size, small bytes."""

    kind: str
    size: int
    data: bytes | None


class RemoteHost:
    """A machine reached over SSH (one `[[hosts]]` table)."""

    def __init__(self, spec: HostSpec, *, call_timeout: float = 30.0, connect_timeout: float = 15.0,
                 run_limit: float = 3600.0, channels: int = 3) -> None:
        self.spec = spec
        self.name = spec.name
        self.call_timeout = call_timeout
        self.run_limit = run_limit
        self._local = threading.local()  # `looking`'s answers, for the thread that asked
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"ssh-{spec.name}", daemon=True)
        self._thread.start()
        self._link = self._submit(self._make_link(connect_timeout, channels), connect_timeout)

    async def _make_link(self, connect_timeout: float, channels: int) -> SshLink:
        return SshLink(self.spec, connect_timeout=connect_timeout, channels=channels)

    # --- the loop -------------------------------------------------------------------------

    def _submit(self, coro: Coroutine[Any, Any, T], limit: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(limit + 5)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise HostUnreachable(f"host {self.name}: no answer within {limit:.0f} s",
                                  hint="check the host and its network", code=errno.ETIMEDOUT) from None

    def _call(self, op: str, *, limit: float | None = None, retry: bool = True,
              **args: object) -> dict[str, Any]:
        """One helper request; its failure raised as the exception the host saw."""
        wait = limit if limit is not None else self.call_timeout
        reply = self._submit(self._link.request(op, args, wait, retry=retry),
                             wait + self._link.connect_timeout * 2)
        if reply.get("ok"):
            return reply
        kind, message = str(reply.get("error")), str(reply.get("message"))
        code = reply.get("errno")
        cls = _OS_ERRORS.get(kind)
        if cls is not None:
            raise cls(code or errno.EIO, message, str(args.get("path", "")) or None)
        raise OSError(errno.EIO, f"host {self.name}: {op} failed on the host ({kind}: {message})")

    def close(self) -> None:
        """Close the connection and stop the loop's thread."""
        if not self._loop.is_closed():
            self._submit(self._link.close(), 10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- processes ------------------------------------------------------------------------

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None, stdin: bytes | None = None, group: bool = False,
            ) -> subprocess.CompletedProcess[bytes]:
        changed, unset = _env_delta(env)
        limit = timeout if timeout is not None else self.run_limit
        reply = self._call("run", limit=limit + self.call_timeout, retry=False, argv=list(argv),
                           cwd=str(cwd) if cwd is not None else None, env=changed, unset=unset,
                           timeout=limit, group=group,
                           stdin=None if stdin is None else base64.b64encode(stdin).decode("ascii"))
        out, err = base64.b64decode(reply["stdout"]), base64.b64decode(reply["stderr"])
        if reply.get("timed_out"):
            raise subprocess.TimeoutExpired(list(argv), limit, out, err)
        return subprocess.CompletedProcess(list(argv), int(reply["rc"]), out, err)

    def stream(self, argv: Sequence[str], *, cwd: Path | None = None,
               env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        raise OSError(errno.ENOTSUP, f"host {self.name}: a streamed command (`{argv[0]}`) runs only on "
                                     "this machine for now")

    def which(self, program: str) -> str | None:
        path = self._call("which", program=program).get("path")
        return str(path) if path else None

    def signal(self, pid: int, sig: int, *, group: bool = False) -> bool:
        return bool(self._call("signal", retry=False, pid=pid, sig=int(sig), group=group)["sent"])

    def alive(self, pid: int) -> bool:
        return bool(self._call("alive", pid=pid)["alive"])

    def terminal(self, argv: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
        """`ssh -t` running `argv` on the host with this process's terminal (the app's attach
        while it is suspended); its stderr captured, as `exec`'s twin that returns."""
        return subprocess.run([*ssh_argv(self.spec, tty=True), shlex.join(argv)], check=False,
                              stderr=subprocess.PIPE)

    def exec(self, argv: Sequence[str]) -> NoReturn:
        """Replace this process with `ssh -t` running `argv` on the host (attach)."""
        os.execvp("ssh", [*ssh_argv(self.spec, tty=True), shlex.join(argv)])

    # --- files ----------------------------------------------------------------------------

    def read_bytes(self, path: Path | str) -> bytes:
        known = self._looked(path)
        if known is not None and known.data is not None:
            return known.data
        if known is not None and known.kind == "none":
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        return base64.b64decode(self._call("read_bytes", path=str(path))["data"])

    def write_bytes(self, path: Path | str, data: bytes) -> None:
        self._forget(path)
        self._call("write_bytes", path=str(path), data=base64.b64encode(data).decode("ascii"))

    def append_bytes(self, path: Path | str, data: bytes) -> None:
        self._forget(path)
        self._call("append_bytes", retry=False, path=str(path), data=base64.b64encode(data).decode("ascii"))

    def read_tail(self, path: Path | str, offset: int) -> tuple[bytes, int]:
        known = self._looked(path)
        if known is not None and known.kind == "none":
            return b"", offset
        if known is not None and known.kind == "file" and (offset >= known.size or known.data is not None):
            return (known.data or b"")[offset:] if offset < known.size else b"", known.size  # as the helper
        reply = self._call("read_tail", path=str(path), offset=offset)
        return base64.b64decode(reply["data"]), int(reply["offset"])

    def exists(self, path: Path | str) -> bool:
        known = self._looked(path)
        if known is not None and known.kind != "?":
            return known.kind != "none"
        return bool(self._call("exists", path=str(path))["exists"])

    def mkdir(self, path: Path | str) -> None:
        self._forget(path)
        self._call("mkdir", path=str(path))

    def remove(self, path: Path | str) -> None:
        self._forget(path)
        self._call("remove", path=str(path))

    # --- one look's files in one round trip -----------------------------------------------

    @contextlib.contextmanager
    def looking(self, paths: Sequence[Path | str], worktrees: Sequence[Path | str] = ()) -> Iterator[None]:
        """Within the block, this thread's reads of `paths` (and of each worktree's git dir:
        its index, HEAD log and HEAD) are answered from what one round trip found at its start
        (a supervisor's look at a host's sessions: some ten reads per session otherwise).
        Asked in the order given: list a file another is written after (an exit file, before
        the output it ends) first. Other threads, and other paths, ask the host as always."""
        reply = self._call("look", paths=[str(p) for p in paths], worktrees=[str(w) for w in worktrees],
                           small=LOOK_SMALL)
        self._local.looked = {str(PurePosixPath(path)): Looked(kind, size, None if data is None else
                                                                base64.b64decode(data))
                              for path, kind, size, data in reply["files"]}
        try:
            yield
        finally:
            self._local.looked = None

    def _looked(self, path: Path | str) -> Looked | None:
        looked: dict[str, Looked] | None = getattr(self._local, "looked", None)
        return looked.get(str(PurePosixPath(path))) if looked else None

    def _forget(self, path: Path | str) -> None:
        looked: dict[str, Looked] | None = getattr(self._local, "looked", None)
        if looked:
            looked.pop(str(PurePosixPath(path)), None)

    def listdir(self, path: Path | str) -> list[str]:
        return [str(name) for name in self._call("listdir", path=str(path))["names"]]

    def chmod(self, path: Path | str, mode: int) -> None:
        self._call("chmod", path=str(path), mode=mode)

    # --- beyond the protocol --------------------------------------------------------------

    def put_file(self, local: Path, remote: str, *, limit: float = 3600.0) -> None:
        """Copy a local file (a git bundle) to `remote` on the host over SFTP, atomically."""
        self._submit(self._sftp(self._link.put(local, remote)), limit)

    def get_file(self, remote: str, local: Path, *, limit: float = 3600.0) -> None:
        """Copy a file from the host to `local` over SFTP."""
        self._submit(self._sftp(self._link.get(remote, local)), limit)

    async def _sftp(self, transfer: Coroutine[Any, Any, None]) -> None:
        asyncssh = load_asyncssh()
        try:
            await transfer
        except asyncssh.Error as exc:
            raise OSError(errno.EIO, f"host {self.name}: SFTP transfer failed ({exc.reason})") from None

    def read_tails(self, files: Sequence[tuple[Path | str, int]]) -> list[tuple[bytes, int]]:
        """`read_tail` of each (path, offset), in one round trip: a host's hook files per tick."""
        reply = self._call("read_tails", files=[[str(path), offset] for path, offset in files])
        return [(base64.b64decode(data), int(offset)) for data, offset in reply["tails"]]

    def disk_free(self, path: Path | str) -> tuple[int, str]:
        """Free bytes where `path` is or would be, and the existing folder that was measured."""
        reply = self._call("disk_free", path=str(path))
        return int(reply["free"]), str(reply["at"])

    def absolute(self, path: str) -> str:
        """`path` as an absolute path on the host: `~` and relative paths start at its home.
        Paths that reach argv (git's `-C`, a worktree) must be absolute: no shell expands them."""
        return self._submit(self._link.absolute(path), self.call_timeout)

    def hello(self) -> dict[str, Any]:
        """What the helper said when it started: its version, python, home and pid."""
        return self._submit(self._hello(), self.call_timeout)

    async def _hello(self) -> dict[str, Any]:
        return (await self._link.helper()).hello


def _env_delta(env: Mapping[str, str] | None) -> tuple[dict[str, str], list[str]]:
    """What `env` adds to or changes in this machine's environment, and what it removes."""
    if env is None:
        return {}, []
    here = os.environ
    return ({k: v for k, v in env.items() if here.get(k) != v}, sorted(k for k in here if k not in env))


if TYPE_CHECKING:
    from engine.hosts.host import Host

    def _is_a_host(host: RemoteHost) -> Host:
        """mypy checks here that RemoteHost keeps to the Host protocol."""
        return host
