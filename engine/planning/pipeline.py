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
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.analysis import cochange
from engine.analysis.conventions import conventions_in
from engine.analysis.profile import analyze_repo
from engine.analysis.tree import RepoTree, read_tree
from engine.core import events as ev
from engine.core.config import ParallelConfig
from engine.core.errors import PlanError, UsageError
from engine.core.models import Conventions, Estimate, OverheadTable, Plan, RepoProfile, Subtask
from engine.planning.checklist import checklist
from engine.planning.estimate import MAX_MINUTES, MIN_MINUTES, estimate, in_range, infer_scope
from engine.planning.matching import assignment_summary, match, task_rows
from engine.planning.overhead import MAX_ROWS, overhead_table, waves_estimate
from engine.planning.plan_file import PlanFile
from engine.planning.port import Draft, Planner, PlanRequest
from engine.planning.validation import Resources, implied_dependencies, validate

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
    request, tree = await plan_request(task, repo, config, options, emit)
    text, profile, est, table = request.task, request.repo, request.estimate, request.overhead
    emit(ev.StageStarted(stage="split", detail=f"{planner.name} planner, {request.splits} subtasks"))
    started = time.perf_counter()
    draft = await planner.draft(request)
    if draft.fallback_reason:
        emit(ev.PlannerFellBack(reason=draft.fallback_reason))
    emit(ev.StageFinished(stage="split", seconds=time.perf_counter() - started,
                          detail=f"{len(draft.subtasks)} subtasks by {draft.planner}"))
    if options.minutes is None and options.scope == "auto":  # the files the plan needs count too
        files = len({f for s in draft.subtasks for f in s.files()})
        est = estimate(text, profile.complexity_score, files=files)
        table = _table(est, profile, config)
    draft = dataclasses.replace(draft, subtasks=share_minutes(draft.subtasks, est.sequential_minutes))
    draft = dataclasses.replace(draft, conventions=merged_conventions(draft.conventions, request.conventions))
    if options.splits and options.splits == len(draft.subtasks):
        draft = dataclasses.replace(draft, chosen=f"re-split to {options.splits} on purpose")
    return finish_plan(text, profile, tree, est, table, draft, config)


def merged_conventions(said: Conventions | None, found: Conventions) -> Conventions:
    """The planner's (or the plan file's) word where it gave one, what the repo shows elsewhere:
    a hand-written plan or a model that left a field out still tells the agents the repo's rule."""
    if said is None:
        return found
    return Conventions(**{f.name: getattr(said, f.name) or getattr(found, f.name)
                          for f in dataclasses.fields(Conventions)})


def share_minutes(subtasks: Sequence[Subtask], sequential: float) -> tuple[Subtask, ...]:
    """The subtasks' minutes scaled to add up to the sequential estimate (equal shares when they
    name none), so every screen shows one sequential figure: a subtask's minutes are its share of
    the work, not its wall time."""
    if not subtasks:
        return tuple(subtasks)
    given = [max(0.0, s.estimated_minutes) for s in subtasks]
    total = sum(given)
    weights = given if total > 0 else [1.0] * len(subtasks)
    scale = sum(weights)
    shares = [round(sequential * w / scale, 1) for w in weights]
    shares[-1] = round(round(sequential, 1) - sum(shares[:-1]), 1)
    return tuple(dataclasses.replace(s, estimated_minutes=m) for s, m in zip(subtasks, shares, strict=True))


async def plan_request(task: str, repo: Path, config: ParallelConfig, options: PlanOptions,
                       emit: ev.Emit = ev.ignore) -> tuple[PlanRequest, RepoTree]:
    """What any planner is given: the checked task, the repo's profile and files, the estimate,
    the overhead table and the count wanted. `plan --context` hands the same to a session."""
    text = check_task(task)
    check_splits(options.splits)
    profile, tree = await _analyze(repo, config, emit)
    est = estimate(text, profile.complexity_score, scope=options.scope, minutes=options.minutes)
    table = _table(est, profile, config)
    found = await asyncio.to_thread(conventions_in, Path(profile.root), tree.files)
    request = PlanRequest(task=text, repo=profile, files=tree.files, estimate=est, config=config,
                          splits=options.splits or table.optimal_splits, overhead=table,
                          conventions=found.summary(), repo_conventions=found)
    return request, tree


async def _analyze(repo: Path, config: ParallelConfig,
                   emit: ev.Emit) -> tuple[RepoProfile, RepoTree]:
    emit(ev.StageStarted(stage="analyze", detail=str(repo)))
    started = time.perf_counter()
    profile = await asyncio.to_thread(analyze_repo, repo, config)
    tree = await asyncio.to_thread(read_tree, Path(profile.root))
    cochange.remember(Path(profile.root), profile.head)  # conflict risk reads its history
    emit(ev.StageFinished(stage="analyze", seconds=time.perf_counter() - started,
                          detail=f"{profile.files} files, {len(profile.modules)} modules"
                          + (" (cached)" if profile.cached else "")))
    return profile, tree


def _table(est: Estimate, profile: RepoProfile, config: ParallelConfig) -> OverheadTable:
    return overhead_table(est.sequential_minutes, config, repo_max_splits=profile.max_splits,
                          existing_worktrees=len(profile.worktrees))


def finish_plan(task: str, profile: RepoProfile, tree: RepoTree, est: Estimate,
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
    validation = validate(subtasks, table, config, resources, tree)
    return Plan(task=task, repo=profile, estimate=est, overhead=table, subtasks=subtasks,
                validation=validation,
                checklist=checklist(profile, table, subtasks, validation, config, chosen=draft.chosen),
                assignments=assignment_summary(subtasks), planner=draft.planner,
                fallback_reason=draft.fallback_reason, planner_usage=draft.usage,
                planner_notes=draft.notes, planner_reason=draft.reason,
                conventions=draft.conventions or Conventions(),
                waves=waves_estimate(subtasks, table.sequential_minutes, config))


async def revalidate(edited: PlanFile, repo: Path, config: ParallelConfig, emit: ev.Emit = ev.ignore,
                     *, not_counted: Collection[str] = ()) -> Plan:
    """Re-check a plan a person edited: same analysis, same rules, their subtasks. The one check
    `plan --validate` and `run` share; the file's warnings (unknown keys) join the plan's.
    Worktrees on the branches in `not_counted` (a run reusing them) do not count as existing."""
    profile, tree = await _analyze(repo, config, emit)
    kept = tuple(w for w in profile.worktrees if w.branch not in not_counted)
    profile = dataclasses.replace(profile, worktrees=kept)
    est = plan_estimate(edited.task, edited.subtasks, edited.estimate, profile)
    found = (await asyncio.to_thread(conventions_in, Path(profile.root), tree.files)).summary()
    draft = Draft(subtasks=edited.subtasks, planner="edited", chosen="the subtasks as approved and edited",
                  conventions=merged_conventions(edited.conventions, found))
    plan = finish_plan(edited.task, profile, tree, est, _table(est, profile, config), draft, config)
    if not edited.warnings:
        return plan
    validation = dataclasses.replace(plan.validation,
                                     warnings=(*edited.warnings, *plan.validation.warnings))
    return dataclasses.replace(plan, validation=validation)


def plan_estimate(task: str, subtasks: Sequence[Subtask], est: Estimate | None,
                  profile: RepoProfile) -> Estimate:
    """The plan's own estimate; else the subtasks' minutes summed (`source="subtasks"`); else
    the task's scope and the repo's complexity (`source="scope"`), as `plan` would estimate."""
    if est is not None:
        return est
    minutes = sum(s.estimated_minutes for s in subtasks)
    if minutes <= 0:
        return estimate(task, profile.complexity_score)
    if not in_range(minutes):
        raise PlanError(f"the subtasks' estimated_minutes add up to {minutes:g}, outside "
                        f"{MIN_MINUTES:g}..{MAX_MINUTES:,.0f}",
                        hint="fix the subtasks' minutes, or add an `estimate` object")
    return Estimate(scope=infer_scope(task), sequential_minutes=round(minutes, 1), source="subtasks",
                    base_minutes=minutes, complexity_factor=1.0)
