"""Finding a run's pieces: the run in the journal, its tmux server, a session's pane.

A leaf on purpose: status, control, enforce, cleanup and the orchestrator all need these
three answers, and none of them may need another of those modules to get them (that is how
`control ↔ status ↔ enforce` became a cycle).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.errors import UsageError
from engine.run.journal import Journal, RunRecord, SessionRecord

if TYPE_CHECKING:  # `check` finds runs and needs no tmux
    from engine.run.tmux_sessions import PaneFacts, Tmux

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


def tmux_of(run: RunRecord) -> Tmux:
    """The run's own server, by the socket path journaled when it started (`$TMUX` included)."""
    from engine.run.tmux_sessions import Tmux  # noqa: PLC0415

    return Tmux(run.tmux_socket, run.tmux_session, run.tmux_server)


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
