"""The plan pipeline: analyse → estimate → overhead table → draft → validate → match.

One function serves `plan`, `plan --validate`, the TUI and `run --tasks`: whoever drafted
the subtasks (a planner or a person editing plan.json), the same checks, agent matching
and checklist follow. Progress goes out as events; the result is one immutable Plan.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine import cochange
from engine import events as ev
from engine.analysis import analyze_repo
from engine.checklist import checklist
from engine.config import ParallelConfig
from engine.errors import UsageError
from engine.estimate import estimate
from engine.gitcli import tracked_files
from engine.matching import assignment_summary, match, task_rows
from engine.models import Estimate, OverheadTable, Plan, RepoProfile, Subtask
from engine.overhead import MAX_ROWS, overhead_table
from engine.planner_port import Draft, Planner, PlanRequest
from engine.validation import Resources, implied_dependencies, tracked_dirs, validate

MAX_TASK_CHARS = 16_000


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanOptions:
    scope: str = "auto"
    minutes: float | None = None
    splits: int | None = None


def check_task(task: str) -> str:
    """Reject empty or oversized task text with the fix named."""
    text = task.strip()
    if not text:
        raise UsageError("the task text is empty",
                         hint='describe the work, e.g. parallel-tui plan "Add login with tests"')
    if len(text) > MAX_TASK_CHARS:
        raise UsageError(f"the task text is {len(text):,} characters (limit {MAX_TASK_CHARS:,})",
                         hint="summarise the task; put long specs in a file the agents can read")
    return text


def check_splits(splits: int | None) -> None:
    if splits is not None and not 1 <= splits <= MAX_ROWS:
        raise UsageError(f"--splits {splits} is outside 1..{MAX_ROWS}",
                         hint=f"pass --splits between 1 and {MAX_ROWS}, or leave it out for the optimum")


async def make_plan(task: str, repo: Path, config: ParallelConfig, planner: Planner,
                    options: PlanOptions, emit: ev.Emit = ev.ignore) -> Plan:
    """Analyse the repo and draft, validate and match a plan for `task`."""
    text = check_task(task)
    check_splits(options.splits)
    profile, files = await _analyze(repo, config, emit)
    est = estimate(text, profile.complexity_score, scope=options.scope, minutes=options.minutes)
    table = _table(est, profile, config)
    request = PlanRequest(task=text, repo=profile, files=tuple(files), estimate=est, config=config,
                          splits=options.splits or table.optimal_splits, overhead=table)
    emit(ev.StageStarted(stage="split", detail=f"{planner.name} planner, {request.splits} subtasks"))
    started = time.perf_counter()
    draft = await planner.draft(request)
    if draft.fallback_reason:
        emit(ev.PlannerFellBack(reason=draft.fallback_reason))
    emit(ev.StageFinished(stage="split", seconds=time.perf_counter() - started,
                          detail=f"{len(draft.subtasks)} subtasks by {draft.planner}"))
    return finish_plan(text, profile, files, est, table, draft, config)


async def _analyze(repo: Path, config: ParallelConfig,
                   emit: ev.Emit) -> tuple[RepoProfile, list[str]]:
    emit(ev.StageStarted(stage="analyze", detail=str(repo)))
    started = time.perf_counter()
    profile = await asyncio.to_thread(analyze_repo, repo, config)
    files = await asyncio.to_thread(tracked_files, Path(profile.root))
    cochange.remember(Path(profile.root), profile.head)  # conflict risk reads its history
    emit(ev.StageFinished(stage="analyze", seconds=time.perf_counter() - started,
                          detail=f"{profile.files} files, {len(profile.modules)} modules"
                          + (" (cached)" if profile.cached else "")))
    return profile, files


def _table(est: Estimate, profile: RepoProfile, config: ParallelConfig) -> OverheadTable:
    return overhead_table(est.sequential_minutes, config, repo_max_splits=profile.max_splits,
                          existing_worktrees=len(profile.worktrees))


def finish_plan(task: str, profile: RepoProfile, files: Sequence[str], est: Estimate,
                table: OverheadTable, draft: Draft, config: ParallelConfig) -> Plan:
    """Validation, dependency closure, agent matching and the checklist for any draft."""
    deps = implied_dependencies(draft.subtasks)
    rows = task_rows(config.agent_rules)
    subtasks = tuple(
        dataclasses.replace(s, depends_on=tuple(sorted(deps[s.name])) or s.depends_on,
                            agent=match(s, rows))
        for s in draft.subtasks
    )
    resources = Resources(existing_worktrees=len(profile.worktrees),
                          tmux_available=shutil.which("tmux") is not None)
    validation = validate(subtasks, table, config, resources, known_dirs=tracked_dirs(files))
    return Plan(task=task, repo=profile, estimate=est, overhead=table, subtasks=subtasks,
                validation=validation,
                checklist=checklist(profile, table, subtasks, validation, config),
                assignments=assignment_summary(subtasks), planner=draft.planner,
                fallback_reason=draft.fallback_reason, planner_usage=draft.usage,
                planner_notes=draft.notes)


async def revalidate(task: str, subtasks: tuple[Subtask, ...], est: Estimate, repo: Path,
                     config: ParallelConfig, emit: ev.Emit = ev.ignore) -> Plan:
    """Re-check a plan a person edited: same analysis, same rules, their subtasks."""
    profile, files = await _analyze(repo, config, emit)
    draft = Draft(subtasks=subtasks, planner="edited")
    return finish_plan(task, profile, files, est, _table(est, profile, config), draft, config)
