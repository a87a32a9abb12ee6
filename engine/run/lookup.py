"""Finding a run's pieces: the run in the journal, its tmux server, a session's host and pane.

A leaf on purpose: status, control, enforce, cleanup and the orchestrator all need these
three answers, and none of them may need another of those modules to get them (that is how
`control ↔ status ↔ enforce` became a cycle).
"""

from __future__ import annotations

from pathlib import Path

from engine.core.errors import UsageError
from engine.hosts.host import Host
from engine.hosts.registry import Hosts
from engine.hosts.tmux_sessions import PaneFacts, Tmux
from engine.run.journal import Journal, RunRecord, SessionRecord

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
    """The run's own server on `host`, by the socket path journaled when it started (`$TMUX`
    included)."""
    return Tmux(run.tmux_socket, run.tmux_session, run.tmux_server, host=host)


def host_of(record: SessionRecord, hosts: Hosts) -> Host:
    """The host the session journaled it lives on."""
    return hosts.get(record.host)


def run_host(records: list[SessionRecord], hosts: Hosts) -> Host:
    """The one host a run's sessions live on, whose tmux holds their windows (the repo's own
    host for a run with none). A run spread over several hosts is not followed yet: one line."""
    names = sorted({r.host for r in records})
    if len(names) > 1:
        raise UsageError(f"this run's sessions live on several hosts ({', '.join(names)})",
                         hint="follow each host's sessions in a run of its own")
    return hosts.get(names[0]) if names else hosts.local


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
