"""A repo's past runs in one table: predicted vs actual, N, agents, cost, outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.report.efficiency import run_report
from engine.run.journal import Journal

if TYPE_CHECKING:
    from engine.hosts.registry import Hosts


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryLine:
    run: str
    created_at: float
    task: str
    splits: int
    agents: tuple[str, ...]
    predicted_minutes: float | None
    actual_minutes: float | None
    cost_usd: float | None
    outcome: str


def history(journal: Journal, repo: str, hosts: Hosts) -> tuple[HistoryLine, ...]:
    """Newest first."""
    lines = []
    for run in journal.runs(repo):
        report = run_report(journal, run, hosts)
        costs = [s.cost_usd for s in report.sessions if s.cost_usd is not None]
        wall = report.actual.wall_seconds
        lines.append(HistoryLine(
            run=run.id, created_at=run.created_at, task=run.task, splits=len(report.sessions),
            agents=tuple(sorted({s.agent for s in report.sessions})),
            predicted_minutes=report.predicted.total_minutes if report.predicted else None,
            actual_minutes=None if wall is None else wall / 60,
            cost_usd=sum(costs) if costs else None, outcome=report.outcome))
    return tuple(lines)
