"""What a host has and lacks for sessions: `parallel-tui hosts check`.

Two ways in are tried, because they can disagree (ProxyCommand, `Match exec`, hardware keys,
a stale agent socket): the system `ssh -o BatchMode=yes`, as the user's own tools and attach
use it, and the engine's own connection (asyncssh and the helper). Then, through the engine's
connection, the programs a session needs (git, tmux, python3, the agent CLI and its login),
the sandbox's (bubblewrap + socat: a `strict` sandbox refuses a host without them) and the
room under the work root. Nothing here changes the host but the helper it copies in.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from engine.core.hosts_config import HostSpec
from engine.hosts.local import LOCAL
from engine.hosts.logout import logout_policy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.hosts.remote import RemoteHost

Need = Literal["sessions", "sandbox", "info"]
"""What lacking it costs: sessions cannot run there, the sandbox cannot, or nothing (a note)."""
MIN_FREE_BYTES = 2 << 30
"""Less room than this under the work root is reported as too little (a clone and worktrees)."""
PROBE_TIMEOUT_S = 20.0
LOGIN_FILES = {"claude": ("~/.claude/.credentials.json",), "codex": ("~/.codex/auth.json",),
               "gemini": ("~/.gemini/oauth_creds.json",)}
"""Files an agent's login leaves, for when its CLI cannot be asked (found, not read)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """One thing checked on a host."""

    name: str
    ok: bool | None
    """None: not known (the host could not be reached to look)."""
    detail: str
    need: Need = "sessions"


@dataclass(frozen=True, slots=True, kw_only=True)
class HostReport:
    """One host's probes, in the order they are printed."""

    host: str
    ssh: str
    probes: tuple[Probe, ...] = field(default_factory=tuple)

    @property
    def usable(self) -> bool:
        """Every probe sessions need passed."""
        return all(p.ok for p in self.probes if p.need == "sessions")

    @property
    def lacks(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.probes if p.ok is False)


class Probed:
    """What the probes ask of a host; `LocalProbed` and a RemoteHost-backed one implement it."""

    path_is = "PATH"
    """Whose PATH `which` searched, as a missing program's line says it."""

    def which(self, program: str) -> str | None:
        raise NotImplementedError

    def run(self, argv: Sequence[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
        """`argv` there, ended after `timeout` (default PROBE_TIMEOUT_S) seconds."""
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        raise NotImplementedError

    def free(self, path: str) -> tuple[int, str]:
        raise NotImplementedError


class LocalProbed(Probed):
    """This machine."""

    def which(self, program: str) -> str | None:
        return LOCAL.which(program)

    def run(self, argv: Sequence[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
        return LOCAL.run(argv, timeout=timeout or PROBE_TIMEOUT_S)

    def exists(self, path: str) -> bool:
        return Path(path).expanduser().exists()

    def free(self, path: str) -> tuple[int, str]:
        where = Path(path).expanduser()
        while not where.exists():
            where = where.parent
        return shutil.disk_usage(where).free, str(where)


def ssh_batch_probe(argv: Sequence[str]) -> Probe:
    """`ssh -o BatchMode=yes … true`: the way the user's own ssh reaches the host."""
    try:
        done = subprocess.run([*argv, "true"], capture_output=True, timeout=PROBE_TIMEOUT_S, check=False,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return Probe(name="ssh", ok=None, detail="no `ssh` on this machine's PATH (only attach needs it)",
                     need="info")
    except subprocess.TimeoutExpired:
        return Probe(name="ssh", ok=False, detail=f"`ssh -o BatchMode=yes` did not finish in "
                                                  f"{PROBE_TIMEOUT_S:.0f} s", need="info")
    if done.returncode == 0:
        return Probe(name="ssh", ok=True, detail="`ssh -o BatchMode=yes` logs in", need="info")
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return Probe(name="ssh", ok=False, need="info",
                 detail=f"`ssh -o BatchMode=yes` fails: {said[-1] if said else f'exit {done.returncode}'}")


def probe_host(host: Probed, *, agent: str, work_root: str, min_free: int = MIN_FREE_BYTES) -> list[Probe]:
    """The programs, the agent's login and the room, as `host` answers."""
    probes = [_program(host, "python3", ["--version"], "the helper and the ownership hook"),
              _program(host, "git", ["--version"], "worktrees"),
              _program(host, "tmux", ["-V"], "the sessions' windows"),
              _program(host, agent, ["--version"], "the agent")]
    probes.append(_login(host, agent) if probes[-1].ok else
                  Probe(name=f"{agent} login", ok=None, detail=f"not known: no {agent}"))
    probes += [_program(host, "bwrap", ["--version"], "the sandbox", need="sandbox"),
               _program(host, "socat", ["-V"], "the sandbox", need="sandbox"),
               _room(host, work_root, min_free), _logout(host)]
    return probes


def _logout(host: Probed) -> Probe:
    policy = logout_policy(host)
    return Probe(name="outlives logout", ok=policy.survives, detail=policy.detail)


def _program(host: Probed, program: str, version: list[str], for_what: str, *,
             need: Need = "sessions") -> Probe:
    path = host.which(program)
    if path is None:
        return Probe(name=program, ok=False, need=need,
                     detail=f"missing: not on {host.path_is} (needed for {for_what})")
    version_line = _first_line(host, [path, *version])
    return Probe(name=program, ok=True, need=need, detail=f"{path} {version_line}".strip())


def _first_line(host: Probed, argv: list[str]) -> str:
    try:
        done = host.run(argv)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = (done.stdout or done.stderr).decode("utf-8", "replace").strip().splitlines()
    line = next((x for x in lines if "version" in x.lower()), lines[0] if lines else "")
    return f"({line.strip()[:60]})" if line else ""


def _login(host: Probed, agent: str) -> Probe:
    """Claude Code says itself (`claude auth status`, which prints no key); others by their files."""
    name = f"{agent} login"
    if agent == "claude":
        try:
            done = host.run([agent, "auth", "status"])
            status = json.loads(done.stdout)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            status = None
        if isinstance(status, dict) and "loggedIn" in status:
            how = status.get("authMethod") or "?"
            return Probe(name=name, ok=bool(status["loggedIn"]),
                         detail=f"logged in ({how})" if status["loggedIn"] else
                         "not logged in: run `claude` on the host once and /login")
    files = LOGIN_FILES.get(agent, ())
    found = next((f for f in files if host.exists(f)), None)
    if found:
        return Probe(name=name, ok=True, detail=f"{found} is there (not verified further)")
    if files:
        return Probe(name=name, ok=False, detail=f"no {files[0]}: log {agent} in on the host once")
    return Probe(name=name, ok=None, detail=f"not known: {agent}'s login cannot be checked", need="info")


def _room(host: Probed, work_root: str, min_free: int) -> Probe:
    try:
        free, at = host.free(work_root)
    except OSError as exc:
        return Probe(name="room", ok=False, detail=f"cannot measure under {work_root}: {exc.strerror or exc}")
    gib = free / (1 << 30)
    if free < min_free:
        return Probe(name="room", ok=False,
                     detail=f"{gib:.1f} GiB free at {at}, under {min_free / (1 << 30):.0f} GiB")
    return Probe(name="room", ok=True, detail=f"{gib:.1f} GiB free at {at}")


def check_local(*, agent: str, min_free: int = MIN_FREE_BYTES) -> HostReport:
    probes = probe_host(LocalProbed(), agent=agent, work_root="~", min_free=min_free)
    return HostReport(host="local", ssh="", probes=tuple(probes))


def check_remote(spec: HostSpec, *, agent: str, min_free: int = MIN_FREE_BYTES) -> HostReport:
    """Both ways in, then the probes over the engine's connection (unknown when it fails)."""
    from engine.hosts.remote import RemoteHost  # noqa: PLC0415 - asyncio and threads, on use
    from engine.hosts.remote_errors import HelperMissing, HostUnreachable  # noqa: PLC0415
    from engine.hosts.ssh_cli import ssh_argv  # noqa: PLC0415

    probes = [ssh_batch_probe(ssh_argv(spec, batch=True))]
    host = RemoteHost(spec, connect_timeout=PROBE_TIMEOUT_S)
    try:
        hello = host.hello()
    except HostUnreachable as exc:
        host.close()
        if isinstance(exc, HelperMissing):
            probes += [Probe(name="connection", ok=True, detail="asyncssh logs in"),
                       Probe(name="python3", ok=False, detail=f"{exc.problem} — {exc.hint}")]
        else:
            probes.append(Probe(name="connection", ok=False, detail=f"{exc.problem} — {exc.hint}"))
        return HostReport(host=spec.name, ssh=spec.ssh, probes=tuple(probes))
    try:
        said = f"python {hello.get('python')}, home {hello.get('home')}"
        probes.append(Probe(name="connection", ok=True, detail=f"asyncssh + helper ({said})"))
        probes += probe_host(_RemoteProbed(host), agent=agent, work_root=spec.work_root, min_free=min_free)
    finally:
        host.close()
    return HostReport(host=spec.name, ssh=spec.ssh, probes=tuple(probes))


class _RemoteProbed(Probed):
    path_is = "the PATH of a non-interactive SSH login"

    def __init__(self, host: RemoteHost) -> None:
        self.host = host

    def which(self, program: str) -> str | None:
        return self.host.which(program)

    def run(self, argv: Sequence[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
        return self.host.run(argv, timeout=timeout or PROBE_TIMEOUT_S)

    def exists(self, path: str) -> bool:
        return self.host.exists(path)

    def free(self, path: str) -> tuple[int, str]:
        return self.host.disk_free(path)
