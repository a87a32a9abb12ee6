"""Finding a run's pieces: the run in the journal, its tmux server, a session's host and pane.

A leaf on purpose: status, control, enforce, cleanup and the orchestrator all need these
three answers, and none of them may need another of those modules to get them (that is how
`control ↔ status ↔ enforce` became a cycle).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.errors import TmuxError, UsageError
from engine.hosts.registry import LOCAL_NAME
from engine.run.journal import Journal, RunRecord, SessionRecord

if TYPE_CHECKING:  # `check` finds runs and needs no tmux or host registry
    from engine.hosts.host import Host
    from engine.hosts.registry import Hosts
    from engine.hosts.tmux_sessions import PaneFacts, Tmux

NO_WINDOW_YET = ("planned", "registered", "worktree", "cleaned")
"""Phases in which a session owns no window: before it is launched, and after cleanup."""


def find_run(journal: Journal, repo: Path, run_id: str | None) -> RunRecord:
    """The named run, or this repo's latest; UsageError naming the fix otherwise."""
    if run_id:
        run = journal.run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id!r} in the journal",
                             hint="list them with `parallel-tui status --list`")
        return run
    runs = journal.runs(str(repo))
    if not runs:
        raise UsageError(f"no runs for {repo}", hint="start one with `parallel-tui run`")
    return runs[0]


def tmux_of(run: RunRecord, host: Host) -> Tmux:
    """The run's own server on `host`: here, by the socket path journaled when it started
    (`$TMUX` included); on an SSH host, a server of its own there (`remote_socket`)."""
    from engine.hosts.tmux_sessions import Tmux  # noqa: PLC0415

    if host.name != LOCAL_NAME:
        return Tmux(remote_socket(run.tmux_socket, host.name), run.tmux_session, host=host)
    return Tmux(run.tmux_socket, run.tmux_session, run.tmux_server, host=host)


def remote_socket(socket_name: str, host_name: str) -> str:
    """The tmux socket name (`-L`) of a run's sessions on an SSH host: never the person's own
    default server there, and never this machine's (a host may be this machine under another
    name, as in the tests)."""
    return f"{socket_name or 'parallel-tui'}-{host_name}"


def hosts_of(records: list[SessionRecord]) -> list[str]:
    """The hosts a run's sessions live on, this machine first (none: this machine)."""
    names = sorted({r.host or LOCAL_NAME for r in records}, key=lambda n: (n != LOCAL_NAME, n))
    return names or [LOCAL_NAME]


class Sites:
    """A run's tmux server on each host its sessions live on: windows are looked up across
    all of them (their ids carry the host's tag), and each session's pane is asked of its own."""

    def __init__(self, run: RunRecord, records: list[SessionRecord], hosts: Hosts) -> None:
        self.servers: dict[str, Tmux] = {}
        self.down: dict[str, str] = {}
        """SSH hosts that did not answer, with what was said: their sessions are `unreachable`."""
        for name in dict.fromkeys([LOCAL_NAME, *hosts_of(records)]):  # here: the run's own server, always
            try:
                self.servers[name] = tmux_of(run, hosts.get(name))
            except (OSError, TmuxError) as exc:
                if name == LOCAL_NAME:
                    raise
                self.down[name] = _said(exc)
        self.here = self.servers[LOCAL_NAME]

    def of(self, record: SessionRecord) -> Tmux:
        """The server the session's window is on (its host is the Tmux's `host`)."""
        return self.servers[record.host or LOCAL_NAME]

    def panes(self) -> dict[str, PaneFacts]:
        """Every window of the run on every host that answers: one `list-panes` per host."""
        found: dict[str, PaneFacts] = {}
        for name, tmux in list(self.servers.items()):
            try:
                found.update(tmux.panes())
            except (OSError, TmuxError) as exc:
                if name == LOCAL_NAME:
                    raise
                self.down[name] = _said(exc)
                del self.servers[name]
        return found


def _said(exc: Exception) -> str:
    return str(getattr(exc, "problem", None) or getattr(exc, "strerror", None) or exc)


def host_of(record: SessionRecord, hosts: Hosts) -> Host:
    """The host the session journaled it lives on."""
    return hosts.get(record.host)


def pane_for(record: SessionRecord, panes: dict[str, PaneFacts]) -> PaneFacts | None:
    """By window id and name (a new tmux server reuses ids); by name alone when the id never
    made it into the journal (killed right after `new-window`). A session owns no window
    before it is launched, nor after it was cleaned up."""
    if record.phase in NO_WINDOW_YET:
        return None  # no window of its own yet (an old one of the same name is another run's)
    if record.window_id:
        pane = panes.get(record.window_id)
        return pane if pane is not None and pane.window_name == record.window_name else None
    return next((p for p in panes.values() if p.window_name == record.window_name), None)
