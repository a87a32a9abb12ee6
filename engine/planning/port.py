"""The port every planner plugs into: a request in, a draft of subtasks out.

The offline planner and the Claude planner differ only in how they draft; validation,
agent matching and the checklist run on every draft the same way (`engine.planning.pipeline`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from engine.analysis.conventions import RepoConventions
from engine.core.config import ParallelConfig
from engine.core.models import Conventions, Estimate, OverheadTable, PlannerUsage, RepoProfile, Subtask


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRequest:
    task: str
    repo: RepoProfile
    files: tuple[str, ...]
    """Every tracked path, so a planner can name existing files exactly."""
    splits: int
    """The number of subtasks wanted: `--splits`, or the model's optimal count."""
    overhead: OverheadTable
    estimate: Estimate
    config: ParallelConfig
    conventions: Conventions = field(default_factory=Conventions)
    """What is known of the repo's conventions before drafting (empty fields: not found)."""
    repo_conventions: RepoConventions | None = None
    """The same, in full (test naming, fragment folders), when the caller read them already; the
    offline planner reads them otherwise."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    subtasks: tuple[Subtask, ...]
    planner: str
    notes: tuple[str, ...] = ()
    """What the planner changed or dropped on its own (clamped counts, merged overlaps)."""
    usage: PlannerUsage | None = None
    fallback_reason: str | None = None
    reason: str = ""
    """Why this planner was the one chosen (`auto` resolved, a key set, a login found)."""
    conventions: Conventions | None = None
    """The conventions the planner found or confirmed; None keeps the request's."""
    chosen: str = ""
    """Why its subtask count is a person's choice (a re-split to N, the subtasks they kept):
    the checklist does not then fail the plan for differing from the optimum."""


class Planner(Protocol):
    """Drafts subtasks; never validates (that is the same for every planner)."""

    name: str

    async def draft(self, request: PlanRequest) -> Draft: ...
