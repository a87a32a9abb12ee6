"""Which branches a session's work builds on: the plan's `depends_on`, as branches.

Its own module (not `engine.hosts.worktrees`, where the counting is): the host layer knows
git, not the journal's records. The merge order follows these, and their commits are not the
branch's own work (`engine.hosts.own_work`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.run.journal import SessionRecord


def depends_of(sessions: Sequence[SessionRecord]) -> dict[str, tuple[str, ...]]:
    """Branch → the branches its subtask builds on (the plan's `depends_on`)."""
    branch_of = {s.name: s.branch for s in sessions}
    return {s.branch: tuple(branch_of[d] for d in s.depends_on if d in branch_of) for s in sessions
            if s.depends_on}


def builds_on_refs(sessions: Sequence[SessionRecord], record: SessionRecord) -> tuple[str, ...]:
    """`depends_of` for one session, as refs."""
    return tuple(f"refs/heads/{b}" for b in depends_of(sessions).get(record.branch, ()))
