"""The overhead model learns from this repo's measured runs.

The model charges every overhead N times (`N × constant`), while the engine overlaps much of
it (worktrees are checked out in parallel, sessions start while others already work). So a
calibrated constant is not a stage's per-branch duration (the report shows those) but its
per-branch *share of the run's wall time*: worktree creation is launch-of-run to the first
session start, ÷ N (setup commands excluded); session start-up is the first start to the
last session's first activity, ÷ N; merge per branch is the merge's time ÷ N. The parallel
work is the longest session from its first activity to its end, so the coordination
factor is `longest × N / sequential`, from runs that recorded a sequential estimate; a run
whose factor falls outside 0.5–5 (an estimate nobody meant) is left out rather than clamped.
Once at least `MIN_RUNS` runs of one agent measured a constant, the median replaces the
seed for that agent (a demo run never calibrates Claude).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core.config import ParallelConfig
from engine.core.models import ModelConstant
from engine.report.efficiency import with_constants
from engine.report.stages import CONSTANT_OF
from engine.run.journal import Journal, RunEstimate, RunRecord, SessionRecord, open_journal

MIN_RUNS = 3
CALIBRATED = ("worktree_creation_time", "session_startup_time", "merge_time_per_branch")
FACTOR_RANGE = (0.5, 5.0)


def calibrate(journal: Journal, repo: str, agent: str, config: ParallelConfig, *,
              seed: bool = False) -> tuple[ParallelConfig, tuple[ModelConstant, ...]]:
    """`config` with measured medians where enough runs measured them (none with `seed`)."""
    runs = [r for r in journal.runs(repo) if r.agent == agent]
    samples = _shares(journal, runs)
    sources = []
    for name, values in samples.items():
        seed_value = float(getattr(config, name))
        if not seed and len(values) >= MIN_RUNS:
            median = statistics.median(values)
            sources.append(ModelConstant(name=name, value=median, source="measured", runs=len(values),
                                          median=median))
        else:
            sources.append(ModelConstant(name=name, value=seed_value, source="seed", runs=len(values)))
    return with_constants(config, {s.name: s.value for s in sources}), tuple(sources)


@dataclass(frozen=True, slots=True, kw_only=True)
class Model:
    """The constants `table`, `plan` and `run` use, and where each came from."""

    config: ParallelConfig
    agent: str
    constants: tuple[ModelConstant, ...]


def model_for(repo: Path | None, config: ParallelConfig, *, agent: str = "", seed: bool = False) -> Model:
    """Calibrate `config` from this repo's journal for `agent` (default: the configured
    agent); the seed constants when there is no repo or `seed` is asked for."""
    agent = agent or config.default_agent
    if repo is None or seed:
        _, sources = _seed_only(config)
        return Model(config=config, agent=agent, constants=sources)
    with open_journal() as journal:
        calibrated, sources = calibrate(journal, str(repo), agent, config)
    return Model(config=calibrated, agent=agent, constants=sources)


def _seed_only(config: ParallelConfig) -> tuple[ParallelConfig, tuple[ModelConstant, ...]]:
    names = (*CALIBRATED, "coordination_factor")
    return config, tuple(ModelConstant(name=n, value=float(getattr(config, n)), source="seed", runs=0)
                         for n in names)


def model_constants(config: ParallelConfig) -> dict[str, float]:
    """The constants a run's estimate records at launch."""
    names = (*CONSTANT_OF.values(), "coordination_factor")
    return {name: float(getattr(config, name)) for name in names}


def _shares(journal: Journal, runs: Sequence[RunRecord]) -> dict[str, list[float]]:
    """Per run, each constant's measured share (see the module docstring), where measured."""
    out: dict[str, list[float]] = {name: [] for name in (*CALIBRATED, "coordination_factor")}
    for run in runs:
        for name, value in run_shares(journal, run).items():
            out[name].append(value)
    return out


def run_shares(journal: Journal, run: RunRecord) -> dict[str, float]:
    """One run's measured shares, keyed by the constants' names (what calibration averages)."""
    sessions = journal.sessions(run.id)
    timings = journal.timings(run.id)
    n = len(sessions)
    out: dict[str, float] = {}
    started = [s.started_at for s in sessions if s.started_at]
    if not n or len(started) != n:
        return out
    setup = sum(t.seconds for t in timings if t.stage == "setup")
    out["worktree_creation_time"] = max(0.0, min(started) - run.created_at - setup) / n
    active = [s.first_activity_at for s in sessions if s.first_activity_at]
    if len(active) == n:
        out["session_startup_time"] = max(0.0, max(active) - min(started)) / n
    merges = [t.seconds for t in timings if t.stage == "merge"]
    if merges:
        out["merge_time_per_branch"] = statistics.median(merges)
    factor = _factor(journal.estimate(run.id), sessions)
    if factor is not None:
        out["coordination_factor"] = factor
    return out


def _factor(estimate: RunEstimate | None, sessions: Sequence[SessionRecord]) -> float | None:
    spans = [s.ended_at - (s.first_activity_at or s.started_at) for s in sessions
             if s.started_at and s.ended_at > s.started_at]
    if estimate is None or not spans or len(spans) != len(sessions) or estimate.sequential_minutes <= 0:
        return None
    factor = max(spans) / 60 * len(sessions) / estimate.sequential_minutes
    return factor if FACTOR_RANGE[0] <= factor <= FACTOR_RANGE[1] else None
