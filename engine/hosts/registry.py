"""Host names to `Host` objects: what a session's journaled host name means in this process.

A session journals the name of the host it lives on (`local` for this machine), not an object:
the supervisor, `status` and `cleanup` run in other processes, later, and must find the same
host again. The Engine owns one registry (its composition root registers `local`, and a remote
host registers under its config name); engine/run resolves every session's name through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.errors import ConfigError

if TYPE_CHECKING:
    from engine.core.hosts_config import HostSpec
    from engine.hosts.host import Host

LOCAL_NAME = "local"


class Hosts:
    """The hosts this process can reach, by name; `local` (the repo's own machine) always."""

    def __init__(self, local: Host, specs: tuple[HostSpec, ...] = ()) -> None:
        self.local = local
        """The machine the repo is on: its git (merge, check, report) runs here."""
        self._by_name: dict[str, Host] = {LOCAL_NAME: local}
        self.specs = {s.name: s for s in specs if not s.is_local}
        """The configured SSH hosts (`[[hosts]]`), connected on first use: a command that never
        touches a host never waits for it."""

    def register(self, host: Host) -> None:
        """Make `host` reachable under its `name` (a second one of that name replaces it)."""
        self._by_name[host.name] = host

    def get(self, name: str) -> Host:
        """The host a session journaled; a name this process does not know is a one-line error."""
        host = self._by_name.get(name or LOCAL_NAME)
        if host is None and name in self.specs:
            host = self._by_name[name] = self._connect(self.specs[name])
        if host is None:
            known = ", ".join(sorted(self._by_name))
            raise ConfigError(f"host {name!r} is not known here (known: {known})",
                              hint=f"add a [[hosts]] entry named {name!r} to the config")
        return host

    @staticmethod
    def _connect(spec: HostSpec) -> Host:
        """A RemoteHost (asyncssh loads only here); HostUnreachable, an OSError, when it cannot."""
        from engine.hosts.remote import RemoteHost  # noqa: PLC0415

        return RemoteHost(spec)

    def close(self) -> None:
        """Close every SSH connection this registry opened."""
        for name, host in list(self._by_name.items()):
            closer = getattr(host, "close", None)
            if name != LOCAL_NAME and closer is not None:
                closer()
                del self._by_name[name]
