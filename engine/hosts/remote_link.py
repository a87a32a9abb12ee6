"""One SSH connection to one host (asyncssh), its helper channel, and a cap on the rest.

Everything here runs on the RemoteHost's private event loop. The connection is made on first
use and again after it dies, with backoff (0.5 s doubling to 30 s) so a host that is down is
not hammered; host keys are always verified and only keys (a file or the agent) log in. The
helper (`remote_helper.py`, copied over SFTP into `<work_root>/.helper/`) answers requests on
one channel; other channels (SFTP) wait for one of `channels - 1` slots, so together they stay
under sshd's `MaxSessions`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import itertools
import json
import shlex
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from engine.core.hosts_config import HostSpec, ssh_target
from engine.hosts.remote_errors import HelperMissing, HostUnreachable, explain, where

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
HELPER_SOURCE = Path(__file__).with_name("remote_helper.py")
_NO_FILE = "can't open file"
"""What python3 says when the helper's file is not on the host yet (Python's own words)."""


def load_asyncssh() -> Any:
    """asyncssh, imported on first use (~60 ms); its DSA deprecation warnings are not ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import asyncssh  # noqa: PLC0415

    return asyncssh


def sftp_path(path: str) -> str:
    """A host path as SFTP takes it: `~/x` is `x` (SFTP starts in the home), `~` is `.`."""
    if path in ("~", "~/"):
        return "."
    return path.removeprefix("~/")


class HelperChannel:
    """The helper's process on the host: requests out, answers matched back by id."""

    def __init__(self, process: Any, label: str) -> None:
        self._process = process
        self._label = label
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.alive = True
        self.hello: dict[str, Any] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self, wait_s: float) -> None:
        """Wait for the helper's hello; a helper that cannot start says why (no python3)."""
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), wait_s)
        except TimeoutError:
            line = b""
        if not line:
            err = b""
            with contextlib.suppress(TimeoutError, OSError):
                err = await asyncio.wait_for(self._process.stderr.read(2000), 2)
            self.alive = False
            self._process.close()
            said = err.decode("utf-8", "replace").strip().splitlines()
            why = said[-1] if said else "no answer"
            raise HelperMissing(f"{self._label}: the helper did not start ({why})",
                                hint="the host needs python3 on the PATH of a non-interactive login "
                                     "(`parallel-tui hosts check` lists what it lacks)")
        self.hello = json.loads(line)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        """Answers, split into lines here: asyncssh's readline gives up on a line longer than
        its receive window (a 20 MB file read), and rescans the line for every chunk."""
        partial: list[bytes] = []
        try:
            while chunk := await self._process.stdout.read(1 << 16):
                *whole, rest = chunk.split(b"\n")
                for piece in whole:
                    partial.append(piece)
                    self._deliver(b"".join(partial))
                    partial.clear()
                if rest:
                    partial.append(rest)
        except Exception:  # noqa: BLE001, S110 - a broken connection ends the channel like EOF does
            pass
        self._lost()

    def _deliver(self, line: bytes) -> None:
        reply = json.loads(line)
        future = self._pending.pop(int(reply.get("id") or 0), None)
        if future is not None and not future.done():
            future.set_result(reply)

    def _lost(self) -> None:
        self.alive = False
        for future in self._pending.values():
            if not future.done():
                future.set_exception(HostUnreachable(f"{self._label}: the connection was lost",
                                                     hint="it is retried with backoff on the next call"))
        self._pending.clear()

    async def call(self, op: str, args: dict[str, object], wait_s: float) -> dict[str, Any]:
        """Send one request and wait at most `wait_s` seconds for its answer."""
        if not self.alive:
            raise HostUnreachable(f"{self._label}: the connection was lost",
                                  hint="it is retried with backoff on the next call")
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        try:
            self._process.stdin.write((json.dumps({**args, "id": ident, "op": op}) + "\n").encode("utf-8"))
        except Exception:  # noqa: BLE001 - a closed channel: the connection is gone
            self._lost()
            raise HostUnreachable(f"{self._label}: the connection was lost",
                                  hint="it is retried with backoff on the next call") from None
        try:
            return await asyncio.wait_for(future, wait_s)
        except TimeoutError:
            raise HostUnreachable(f"{self._label}: {op} got no answer within {wait_s:.0f} s",
                                  hint="the host or its network is overloaded; the next call tries again",
                                  code=errno.ETIMEDOUT) from None
        finally:
            self._pending.pop(ident, None)

    def close(self) -> None:
        self.alive = False
        with contextlib.suppress(Exception):
            self._process.close()
        if self._reader is not None:
            self._reader.cancel()


class SshLink:
    """The host's connection and helper, made and remade on demand."""

    def __init__(self, spec: HostSpec, *, connect_timeout: float, channels: int) -> None:
        self.spec = spec
        self.target = ssh_target(spec.ssh)
        self.label = where(spec, self.target)
        self.connect_timeout = connect_timeout
        self._conn: Any = None
        self._helper: HelperChannel | None = None
        self._lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(max(1, channels - 1))
        self._failures = 0
        self._retry_at = 0.0
        self._last_error: HostUnreachable | None = None

    async def helper(self) -> HelperChannel:
        """The live helper, connecting (after the backoff) when there is none."""
        async with self._lock:
            if self._helper is not None and self._helper.alive:
                return self._helper
            await self._backoff()
            try:
                self._helper = await self._start()
            except HostUnreachable as exc:
                self._failed(exc)
                raise
            self._failures, self._last_error = 0, None
            return self._helper

    async def request(self, op: str, args: dict[str, object], wait_s: float, *,
                      retry: bool) -> dict[str, Any]:
        """One helper request; one that is safe to repeat is retried once on a new connection."""
        try:
            return await (await self.helper()).call(op, args, wait_s)
        except HostUnreachable:
            if not retry or self._helper is None or self._helper.alive:
                raise
        return await (await self.helper()).call(op, args, wait_s)

    @contextlib.asynccontextmanager
    async def sftp(self, *, connect: bool = True) -> AsyncIterator[Any]:
        """An SFTP client on one of the capped extra channels, closed on leaving. With
        `connect`, a live connection is made first, before a slot is taken (the helper's own
        install, which runs while connecting, takes one: `connect=False` there).

        sshd counts a channel until its close is acknowledged, so the one just released may
        still count: a refused open is retried a few times (0.05 s, doubling) before it fails.
        """
        asyncssh = load_asyncssh()
        if connect:
            await self.helper()
        async with self._slots:
            for attempt in range(6):
                try:
                    client = await self._conn.start_sftp_client()
                    break
                except asyncssh.ChannelOpenError:
                    if attempt == 5:
                        raise
                    await asyncio.sleep(0.05 * 2 ** attempt)
            async with client:
                yield client

    async def absolute(self, path: str) -> str:
        """`path` on the host, absolute: `~` and relative paths start at the home the helper
        sees ($HOME), which is where its own `~` goes (SFTP would start at the passwd home)."""
        home = str((await self.helper()).hello["home"]).rstrip("/")
        if path == "~" or path.startswith("~/"):
            return home + path[1:]
        return path if path.startswith("/") else f"{home}/{path}"

    async def put(self, local: Path, remote: str) -> None:
        """Copy a local file to the host over SFTP (temp name, then rename), parents created."""
        remote = await self.absolute(remote)
        async with self.sftp() as sftp:
            folder = remote.rsplit("/", 1)[0] if "/" in remote else "."
            await sftp.makedirs(folder, exist_ok=True)
            await sftp.put(str(local), f"{remote}.part")
            await sftp.posix_rename(f"{remote}.part", remote)

    async def get(self, remote: str, local: Path) -> None:
        """Copy a file from the host over SFTP."""
        remote = await self.absolute(remote)
        async with self.sftp() as sftp:
            await sftp.get(remote, str(local))

    async def close(self) -> None:
        if self._helper is not None:
            self._helper.close()
        if self._conn is not None:
            self._conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._conn.wait_closed(), 5)
        self._conn = self._helper = None

    async def _backoff(self) -> None:
        wait = self._retry_at - asyncio.get_running_loop().time()
        if wait <= 0:
            return
        if wait > self.connect_timeout and self._last_error is not None:
            raise HostUnreachable(f"{self._last_error.problem} (next try in {wait:.0f} s)",
                                  hint=self._last_error.hint)
        await asyncio.sleep(wait)

    def _failed(self, exc: HostUnreachable) -> None:
        self._failures += 1
        self._last_error = exc
        delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self._failures - 1))
        self._retry_at = asyncio.get_running_loop().time() + delay

    async def _start(self) -> HelperChannel:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._conn = await self._connect()
        source = HELPER_SOURCE.read_bytes()
        folder = f"{sftp_path(self.spec.work_root).rstrip('/') or '/'}/.helper"
        path = f"{folder}/helper-{hashlib.sha256(source).hexdigest()[:16]}.py"
        try:  # this version is there already, most times: one round trip fewer than asking first
            return await self._run_helper(path)
        except HelperMissing as exc:
            if _NO_FILE not in exc.problem:
                raise
        await self._install(source, folder, path)
        return await self._run_helper(path)

    async def _run_helper(self, path: str) -> HelperChannel:
        """The helper started on the live connection; a connection that drops meanwhile (the
        host going down) is a HostUnreachable like any other, never asyncssh's own error."""
        asyncssh = load_asyncssh()
        try:
            process = await self._conn.create_process(f"exec python3 {shlex.quote(path)}", encoding=None)
            helper = HelperChannel(process, self.label)
            await helper.start(self.connect_timeout)
        except asyncssh.Error as exc:
            raise HostUnreachable(f"{self.label}: the connection was lost while the helper started "
                                  f"({exc.reason or type(exc).__name__})",
                                  hint="check the host and its network") from None
        return helper

    async def _connect(self) -> Any:
        asyncssh = load_asyncssh()
        try:
            return await asyncio.wait_for(asyncssh.connect(self.target.host, **self._options()),
                                          self.connect_timeout + 1)
        except (OSError, TimeoutError, asyncssh.Error, asyncssh.KeyImportError) as exc:
            raise explain(exc, self.spec, self.target, self.connect_timeout) from None

    def _options(self) -> dict[str, object]:
        """asyncssh's options: what the spec leaves out comes from the user's SSH config."""
        options: dict[str, object] = {
            "known_hosts": _local_file(self.spec.known_hosts) if self.spec.known_hosts else (),
            "password_auth": False, "kbdint_auth": False,  # keys and the agent only: nothing prompts
            "connect_timeout": self.connect_timeout, "login_timeout": self.connect_timeout,
            "keepalive_interval": 15, "keepalive_count_max": 3,
        }
        if self.spec.identity_file:
            options["client_keys"] = [_local_file(self.spec.identity_file)]
        if self.target.port is not None:
            options["port"] = self.target.port
        if self.target.user is not None:
            options["username"] = self.target.user
        return options

    async def _install(self, source: bytes, folder: str, path: str) -> None:
        """Copy the helper into the work root (its name is its version's hash)."""
        try:
            async with self.sftp(connect=False) as sftp:
                if not await sftp.exists(path):
                    await sftp.makedirs(folder, exist_ok=True)
                    async with sftp.open(f"{path}.tmp", "wb") as out:
                        await out.write(source)
                    await sftp.posix_rename(f"{path}.tmp", path)
        except (OSError, load_asyncssh().Error) as exc:
            raise HostUnreachable(f"{self.label}: cannot copy the helper into {folder} ({exc})",
                                  hint="make work_root a folder the login user can write") from None


def _local_file(path: str) -> str:
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise FileNotFoundError(errno.ENOENT, "no such file", str(resolved))
    return str(resolved)
