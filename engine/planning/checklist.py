"""The spec's quality checklist, each item answered from the plan's own numbers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.core.config import ParallelConfig
from engine.core.models import (
    ChecklistItem,
    OverheadRow,
    OverheadTable,
    RepoProfile,
    Subtask,
    Validation,
)
from engine.core.numfmt import fixed
from engine.core.risk import ConflictRisk
from engine.hosts.pr_ready import strategy_detail


def checklist(repo: RepoProfile, table: OverheadTable, subtasks: Sequence[Subtask],
              validation: Validation, config: ParallelConfig, *,
              chosen: str = "") -> tuple[ChecklistItem, ...]:
    """`chosen` says why the count may differ from the optimum on purpose (a re-split to N, the
    subtasks a person kept): then the plan does not fail its own choice."""
    n = len(subtasks)
    differs = "" if n == table.optimal_splits else f"; the plan has {n}" + (f": {chosen}" if chosen else "")
    row = table.row(max(1, min(n, len(table.rows))))
    gain = f"{fixed(row.savings_pct, 0)}% expected with {n} sessions"

    def item(text: str, ok: bool, detail: str) -> ChecklistItem:
        return ChecklistItem(item=text, ok=ok, detail=detail)

    return (
        item("Complexity analyzed (file count, modules, LOC)", repo.files > 0,
             f"{repo.files} files, {len(repo.modules)} modules, {repo.loc} LOC, "
             f"score {repo.complexity_score}"),
        item("Overhead calculated with break-even point", table.break_even_splits is not None,
             f"break-even at {table.break_even_splits}" if table.break_even_splits
             else "no split count beats sequential"),
        item("is_worth_parallelizing == true", *_worth(table, row, n, config)),
        item("Optimal splits determined (not arbitrary)", n == table.optimal_splits or bool(chosen),
             f"optimal {table.optimal_splits} by marginal gain ≥ {config.min_marginal_gain_pct:g}%"
             + differs),
        item("No file overlaps between subtasks (validation passed)", not validation.overlaps,
             f"{len(validation.overlaps)} overlap(s)"),
        item("Resource constraints checked (worktrees, sessions)", validation.resources_ok,
             f"{n} of max {config.max_concurrent_sessions} sessions, "
             f"{len(repo.worktrees)} existing worktrees of max {config.max_worktrees}"),
        item("conflict_risk is LOW or MEDIUM (not HIGH)",
             validation.conflict_risk is not ConflictRisk.HIGH, validation.conflict_risk.value),
        item(f"Efficiency gain > {config.min_efficiency_gain_pct:g}% (otherwise sequential is better)",
             row.savings_pct > config.min_efficiency_gain_pct, gain),
        item("Worktrees created successfully", False, "not yet: `parallel-tui run` creates them"),
        item("User informed of expected efficiency gain", True, gain),
        item("Merge strategy defined (direct merge vs PRs)",
             *strategy_detail(Path(repo.root), config.merge_strategy, config.test_command)),
    )


def _worth(table: OverheadTable, row: OverheadRow, n: int, config: ParallelConfig) -> tuple[bool, str]:
    """The table's answer for the plan's own count: a plan of fewer parts than the optimum gains
    what its own row says, not what the optimum would."""
    if n == table.optimal_splits or not table.is_worth_parallelizing:
        return table.is_worth_parallelizing, table.reason
    ok = n > 1 and row.savings_pct > config.min_efficiency_gain_pct
    gain = (f"{fixed(row.savings_pct, 0)}% faster with the plan's {n} parallel sessions "
            f"({fixed(row.total_minutes, 1)} vs {fixed(table.sequential_minutes, 1)} min)" if n > 1
            else "the plan has one session: nothing runs in parallel")
    return ok, f"{gain}; the table's optimum is {table.optimal_splits}"
