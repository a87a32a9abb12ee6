"""Who else works on a branch or worktree right now: `--reuse` must never adopt a live one.

Why this is its own check: `--reuse` continues on branches and worktrees git already has, which
is right when the run that made them has ended, and wrong while its agent still edits there
(two agents in one worktree, committing on one branch). Git cannot tell the two apart; the
journal and tmux can. Run under the repo lock at start, so no other start slips in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.core.errors import GitError
from engine.hosts.registry import Hosts
from engine.hosts.tmux_sessions import PaneFacts
from engine.run.journal import CREATING, Journal, SessionRecord
from engine.run.lock import is_held
from engine.run.lookup import Sites, pane_for


def refuse_live_owners(journal: Journal, repo: Path, wanted: Sequence[tuple[str, str]], hosts: Hosts) -> None:
    """Raise naming each (branch, worktree) of `wanted` that a session of another run still
    uses: its agent's window is alive, or its run's supervisor is yet to create it."""
    branches = {b for b, _ in wanted}
    paths = {w for _, w in wanted}
    busy: list[tuple[str, SessionRecord]] = []
    for run in journal.runs(str(repo)):
        users = [s for s in journal.sessions(run.id)
                 if s.phase != "cleaned" and (s.branch in branches or s.worktree in paths)]
        if not users:
            continue
        panes = Sites(run, journal.sessions(run.id), hosts).panes()
        supervised = is_held(f"run:{run.id}")
        busy += [(run.id, s) for s in users if _live(s, panes, supervised)]
    if busy:
        run_id, first = busy[0]
        raise GitError("; ".join(f"{s.branch} is in use by session {s.name} of run {r}" for r, s in busy),
                       hint=f"wait until it ends, or stop it first (`parallel-tui stop {first.name} "
                            f"--run {run_id}`)")


def _live(record: SessionRecord, panes: dict[str, PaneFacts], supervised: bool) -> bool:
    pane = pane_for(record, panes)
    if pane is not None:
        return not pane.dead
    return supervised and record.phase in CREATING
