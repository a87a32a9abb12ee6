"""The spec's overhead and break-even model, exactly, over ParallelConfig's constants.

Pure arithmetic, no I/O: the `table` verb, the plan, the TUI's savings chart and the
calibration all call this one function, so they can never disagree.

    overhead(N) = N × (worktree + startup + context) + N × merge      (N ≥ 2; 0 for N = 1)
    parallel(N) = sequential / N × coordination_factor                (N ≥ 2; sequential for N = 1)
    total(N)    = parallel(N) + overhead(N)

A plan whose subtasks depend on each other runs in waves; its second, labelled estimate
("with waves") replaces sequential / N by the critical path through the dependency graph:

    waves       = critical_path_minutes × coordination_factor + overhead(N)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from engine.core.config import ParallelConfig
from engine.core.models import OverheadRow, OverheadTable, Subtask, WavesEstimate

MAX_ROWS = 10


def overhead_minutes(splits: int, config: ParallelConfig) -> float:
    """Fixed cost of running `splits` sessions: setup per session plus one merge per branch."""
    if splits < 2:
        return 0.0
    per_session = config.per_session_overhead_s() + config.merge_time_per_branch
    return splits * per_session / 60.0


def parallel_minutes(sequential: float, splits: int, config: ParallelConfig) -> float:
    if splits < 2:
        return sequential
    return sequential / splits * config.coordination_factor


def row(sequential: float, splits: int, config: ParallelConfig) -> OverheadRow:
    par = parallel_minutes(sequential, splits, config)
    over = overhead_minutes(splits, config)
    total = par + over
    savings = (sequential - total) / sequential * 100 if sequential > 0 else 0.0
    return OverheadRow(splits=splits, parallel_minutes=par, overhead_minutes=over,
                       total_minutes=total, savings_pct=savings)


def split_cap(config: ParallelConfig, *, repo_max_splits: int = MAX_ROWS,
              existing_worktrees: int = 0) -> tuple[int, str]:
    """The most splits the limits allow, and which limit binds."""
    limits = {
        "the model's 10 rows": MAX_ROWS,
        f"max_concurrent_sessions={config.max_concurrent_sessions}": config.max_concurrent_sessions,
        (f"max_worktrees={config.max_worktrees} less {existing_worktrees} existing"):
            config.max_worktrees - existing_worktrees,
        f"the repo's structure (max_splits={repo_max_splits})": repo_max_splits,
    }
    name = min(limits, key=lambda k: limits[k])
    return max(1, limits[name]), name


def overhead_table(sequential: float, config: ParallelConfig, *, repo_max_splits: int = MAX_ROWS,
                   existing_worktrees: int = 0) -> OverheadTable:
    """Rows for N = 1..10, the optimal N under the caps, break-even and the verdict."""
    rows = tuple(row(sequential, n, config) for n in range(1, MAX_ROWS + 1))
    cap, cap_reason = split_cap(config, repo_max_splits=repo_max_splits,
                                existing_worktrees=existing_worktrees)
    optimal = optimal_splits(rows, sequential, config, cap)
    break_even = next((r.splits for r in rows[1:] if r.total_minutes < sequential), None)
    worth, reason = verdict(rows, sequential, optimal, break_even, config)
    if optimal < 2 <= (break_even or 0) and cap < 2 and sequential >= config.min_task_time_for_2_splits:
        reason = f"splitting would pay from {break_even} splits, but {cap_reason} allows only 1"
    if worth:
        reason += (f"; capped by {cap_reason}" if optimal >= cap else
                   f"; split {optimal + 1} would cut under {config.min_marginal_gain_pct:g}% more")
    return OverheadTable(sequential_minutes=sequential, rows=rows, optimal_splits=optimal,
                         break_even_splits=break_even, is_worth_parallelizing=worth,
                         reason=reason, split_cap=cap, cap_reason=cap_reason)


def optimal_splits(rows: tuple[OverheadRow, ...], sequential: float, config: ParallelConfig,
                   cap: int) -> int:
    """Add a split while it cuts the total by ≥ min_marginal_gain_pct % of sequential."""
    threshold = config.min_marginal_gain_pct / 100 * sequential
    best = 1
    for n in range(2, min(cap, len(rows)) + 1):
        cut = rows[n - 2].total_minutes - rows[n - 1].total_minutes
        if cut < threshold or cut <= 0:
            break
        best = n
    return best


def verdict(rows: tuple[OverheadRow, ...], sequential: float, optimal: int,
            break_even: int | None, config: ParallelConfig) -> tuple[bool, str]:
    """Whether splitting pays, with the reason a person would want to read."""
    if sequential < config.min_task_time_for_2_splits:
        return False, (f"task of {sequential:.1f} min is under min_task_time_for_2_splits "
                       f"({config.min_task_time_for_2_splits:g} min): overhead exceeds benefit")
    if break_even is None or optimal < 2:
        return False, "no split count beats sequential work once overhead is paid"
    best = rows[optimal - 1]
    if best.savings_pct < config.min_efficiency_gain_pct:
        return False, (f"best gain {best.savings_pct:.0f}% with {optimal} splits is under "
                       f"min_efficiency_gain_pct ({config.min_efficiency_gain_pct:g}%)")
    return True, (f"{best.savings_pct:.0f}% faster with {optimal} parallel sessions "
                  f"({best.total_minutes:.1f} vs {sequential:.1f} min); break-even at {break_even}")


RowMark = Literal["optimal", "over_cap", ""]


def row_mark(table: OverheadTable, splits: int) -> RowMark:
    """How a face marks the row for `splits`: the optimum, a row over the cap (shown, never
    chosen: the repo or config cannot take that many sessions), or nothing. One rule, so the
    CLI's table and the app's never disagree."""
    if splits == table.optimal_splits:
        return "optimal"
    return "over_cap" if splits > table.split_cap else ""


def waves_estimate(subtasks: Sequence[Subtask], sequential: float,
                   config: ParallelConfig) -> WavesEstimate | None:
    """The "with waves" estimate for a plan where some subtask depends on another; None when
    none does (the spec's table says it all) or the dependencies loop (validation names that).
    Each subtask's minutes are its own `estimated_minutes` scaled to `sequential` (equal
    shares when the plan gives none), so the two estimates start from the same work."""
    if len(subtasks) < 2 or not any(s.depends_on for s in subtasks):
        return None
    path = critical_path(subtasks, _minutes(subtasks, sequential))
    if path is None:
        return None
    names, work = path
    splits = len(subtasks)
    par = work * config.coordination_factor
    over = overhead_minutes(splits, config)
    total = par + over
    savings = (sequential - total) / sequential * 100 if sequential > 0 else 0.0
    return WavesEstimate(critical_path=names, critical_minutes=work, parallel_minutes=par,
                         overhead_minutes=over, total_minutes=total, savings_pct=savings, splits=splits)


def _minutes(subtasks: Sequence[Subtask], sequential: float) -> dict[str, float]:
    given = sum(max(s.estimated_minutes, 0.0) for s in subtasks)
    if given <= 0:
        return {s.name: sequential / len(subtasks) for s in subtasks}
    return {s.name: sequential * max(s.estimated_minutes, 0.0) / given for s in subtasks}


Chain = tuple[tuple[str, ...], float]
"""Subtask names along a dependency chain, first to last, and their minutes."""


def critical_path(subtasks: Sequence[Subtask], minutes: dict[str, float]) -> Chain | None:
    """The chain of dependencies with the most minutes (first-listed wins a tie), and its
    minutes; None when the dependencies loop. Unknown dependency names are left out."""
    deps = {s.name: tuple(d for d in s.depends_on if d in minutes) for s in subtasks}
    best: dict[str, Chain] = {}
    visiting: set[str] = set()

    def longest(name: str) -> Chain | None:
        if name in best:
            return best[name]
        if name in visiting:
            return None
        visiting.add(name)
        before: Chain = ((), 0.0)
        for dep in deps.get(name, ()):
            found = longest(dep)
            if found is None:
                return None
            if found[1] > before[1]:
                before = found
        visiting.discard(name)
        best[name] = ((*before[0], name), before[1] + minutes[name])
        return best[name]

    chains = [longest(s.name) for s in subtasks]
    if any(c is None for c in chains):
        return None
    return max((c for c in chains if c is not None), key=lambda c: c[1])
