"""What a planner is told, for a session that drafts the plan itself (`plan --context`).

`/parallel` runs inside Claude Code, whose session is Claude with the repo in front of it: it
needs no second planner, only the facts the Claude planners get (`engine.claude.prompt`): the
analysis, the overhead table and the optimal count, the ranked candidate files with why, the
conventions, the plan's JSON schema and a plan-file skeleton to fill. It writes the plan file,
and `plan --validate` checks it the way every plan is checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.analysis.cochange import PastCommit
from engine.claude import prompt
from engine.claude.prompt import Briefing
from engine.core.models import Conventions, Estimate, OverheadTable, RepoProfile
from engine.planning.port import PlanRequest


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A file the task most likely touches, and why the ranking thinks so."""

    path: str
    rank: int
    why: str
    symbols: tuple[str, ...] = ()
    tested_by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanContext:
    """`plan --context --json`: everything a planner needs, and the shape of its answer."""

    task: str
    repo: RepoProfile
    estimate: Estimate
    overhead: OverheadTable
    optimal_splits: int
    splits: int
    """The count to plan for: `--splits`, else the optimum."""
    candidates: tuple[Candidate, ...]
    past_changes: tuple[PastCommit, ...]
    """The past commits most like the task, with the files each changed."""
    conventions: Conventions
    rules: str
    """The splitting rules the Claude planners follow."""
    prompt: str
    """The whole briefing as the Claude planners get it (text)."""
    schema: dict[str, object]
    """The JSON schema of the plan's `subtasks` and `conventions`."""
    plan_file: dict[str, object]
    """A plan file to fill in: the task and estimate set, `subtasks` empty."""


ANSWER = "writing the plan file (the plan_file skeleton with its subtasks filled in)"
FINISH = "Write the plan file"


def build_context(request: PlanRequest, briefing: Briefing) -> PlanContext:
    candidates = tuple(Candidate(path=r.path, rank=r.rank, why=r.reason(), symbols=r.symbols,
                                 tested_by=briefing.tests.get(r.path, "")) for r in briefing.ranked)
    est = request.estimate
    plan_file: dict[str, object] = {
        "task": request.task,
        "estimate": {"scope": est.scope, "sequential_minutes": est.sequential_minutes, "source": est.source,
                     "base_minutes": est.base_minutes, "complexity_factor": est.complexity_factor},
        "conventions": {"tests": request.conventions.tests, "docs": request.conventions.docs,
                        "changelog": request.conventions.changelog,
                        "test_command": request.conventions.test_command},
        "subtasks": [],
    }
    return PlanContext(task=request.task, repo=request.repo, estimate=est, overhead=request.overhead,
                       optimal_splits=request.overhead.optimal_splits, splits=request.splits,
                       candidates=candidates, past_changes=tuple(briefing.past),
                       conventions=request.conventions,
                       rules=prompt.system_rules(ANSWER),
                       prompt=prompt.user_prompt(request, briefing, answer=FINISH, explore=True),
                       schema=prompt.plan_schema(), plan_file=plan_file)
