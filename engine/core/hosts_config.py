"""`[[hosts]]` in the user's config: the machines sessions may run on, checked when loaded.

A host's `ssh` is handed to an SSH client (asyncssh, and `ssh` for `hosts check`), so a bad
one is refused here in one line rather than reaching a command line: no option-looking host
(`-oProxyCommand=…`), no spaces, a port in range. Hosts come only from the user's own config,
never from a repo's `.parallel-tui.toml`: a cloned repo must not be able to send the user's
keys and agent to a machine of its choosing.
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass

from engine.core.errors import ConfigError

__all__ = ["DEFAULT_WORK_ROOT", "LOCAL_HOST", "HostSpec", "SshTarget", "parse_hosts", "ssh_target",
           "with_local"]

LOCAL_HOST = "local"
"""This machine's name among the hosts: always there, with or without a table of its own."""
DEFAULT_WORK_ROOT = "~/.parallel-tui"
"""Where clones, worktrees and the helper live on a host; `~` is the remote user's home."""
_SHAPE = ('each [[hosts]] table needs name and ssh ("user@host[:port]" or an alias from ~/.ssh/config); '
          "identity_file, known_hosts, work_root and max_sessions are optional")
_KEYS = ("name", "ssh", "identity_file", "known_hosts", "work_root", "max_sessions")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
_TARGET = re.compile(r"(?:(?P<user>[A-Za-z0-9_][A-Za-z0-9_.-]{0,63})@)?"
                     r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_][A-Za-z0-9_.-]{0,252})"
                     r"(?::(?P<port>[0-9]{1,5}))?")

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
"""A value as a message quotes it: cut, never printed whole."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HostSpec:
    """One host as configured; `local` has no `ssh`."""

    name: str
    ssh: str = ""
    identity_file: str = ""
    """A private key file (`~` expanded locally); empty: the user's ssh-agent and default keys."""
    known_hosts: str = ""
    """The known_hosts file the host's key is verified against; empty: the SSH config's, else
    ~/.ssh/known_hosts. Never skipped: an unknown key is refused."""
    work_root: str = DEFAULT_WORK_ROOT
    max_sessions: int = 2

    @property
    def is_local(self) -> bool:
        return self.name == LOCAL_HOST


@dataclass(frozen=True, slots=True)
class SshTarget:
    """`ssh` split into what a client is given; None leaves it to the SSH config (an alias)."""

    host: str
    user: str | None = None
    port: int | None = None


def ssh_target(ssh: str) -> SshTarget:
    """`user@host[:port]`, `[::1]:2222` or an alias, split; ValueError when it is none of them."""
    match = _TARGET.fullmatch(ssh)
    if match is None:
        raise ValueError(ssh)
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 1 <= port <= 65_535:
        raise ValueError(ssh)
    return SshTarget(match["host"].strip("[]"), match["user"], port)


def with_local(hosts: tuple[HostSpec, ...], local_sessions: int) -> tuple[HostSpec, ...]:
    """Every host sessions may go to: `local` first, with its own table's max_sessions if it
    has one (else `local_sessions`, the config's max_concurrent_sessions), then the others."""
    local = next((h for h in hosts if h.is_local), HostSpec(name=LOCAL_HOST, max_sessions=local_sessions))
    return (local, *(h for h in hosts if not h.is_local))


def parse_hosts(raw: object, source: str) -> tuple[HostSpec, ...]:
    """The `[[hosts]]` tables of one config file, typed and checked; names are unique."""
    if not isinstance(raw, list):
        raise ConfigError(f"hosts in {source} is not a list of tables", hint=_SHAPE)
    specs = [_host(item, f"hosts[{i}] in {source}") for i, item in enumerate(raw)]
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(f"two hosts in {source} are named {spec.name!r}",
                              hint="give each [[hosts]] table its own name")
        seen.add(spec.name)
    return tuple(specs)


def _host(item: object, where: str) -> HostSpec:
    if not isinstance(item, dict):
        raise ConfigError(f"{where} is not a table", hint=_SHAPE)
    unknown = sorted(set(item) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{where} has unknown key {_REPR.repr(unknown[0])}", hint=_SHAPE)
    for key in _KEYS[:5]:
        value = item.get(key, "")
        if not isinstance(value, str) or "\0" in value:
            raise ConfigError(f"{where}: {key}={_REPR.repr(value)} is not a string without NUL", hint=_SHAPE)
    name = item.get("name", "")
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{where}: name={_REPR.repr(name)} is not a host name",
                          hint="use letters, digits, '.', '_' or '-' (at most 40), e.g. name = \"build1\"")
    where = f"host {name!r} ({where})"
    _check_target(item, name, where)
    if not item.get("work_root", DEFAULT_WORK_ROOT).strip():
        raise ConfigError(f"{where}: work_root is empty",
                          hint=f'leave it out (default {DEFAULT_WORK_ROOT}) or set a folder on the host')
    return HostSpec(**{**item, "max_sessions": _slots(item.get("max_sessions", 2), where)})


def _check_target(item: dict[str, object], name: str, where: str) -> None:
    ssh = item.get("ssh", "")
    assert isinstance(ssh, str)
    if name == LOCAL_HOST:
        extra = sorted(set(item) - {"name", "max_sessions"})
        if extra:
            raise ConfigError(f"{where} sets {extra[0]!r}, but local is this machine",
                              hint="a [[hosts]] table named local takes only max_sessions")
        return
    if not ssh:
        raise ConfigError(f"{where} has no ssh",
                          hint='set ssh = "user@host[:port]" or an alias from ~/.ssh/config')
    try:
        ssh_target(ssh)
    except ValueError:
        raise ConfigError(f"{where}: ssh={_REPR.repr(ssh)} is not user@host[:port] or an alias",
                          hint='write e.g. ssh = "dev@build1.example.com:2222" (no spaces, options or '
                               "leading '-')") from None


def _slots(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ConfigError(f"{where}: max_sessions={_REPR.repr(value)} is not a whole number from 1 to 100",
                          hint="set max_sessions to the sessions the host may run at once, e.g. 2")
    return value
