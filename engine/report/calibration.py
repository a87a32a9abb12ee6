"""The overhead model learns from this repo's measured runs.

Once at least `MIN_RUNS` runs of one agent measured a stage, the median of their per-run
medians replaces the spec's seed constant for that agent (a demo run never calibrates
Claude). The coordination factor is estimated the same way from runs that recorded a
sequential estimate and whose sessions all ended: parallel work took the longest session,
so `factor = longest × N / sequential`; a run whose factor is implausible (outside
0.5–5, e.g. an estimate nobody meant) is left out rather than clamped.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core.config import ParallelConfig
from engine.core.models import ModelConstant
from engine.report.efficiency import with_constants
from engine.report.stages import CONSTANT_OF, measured
from engine.run.journal import Journal, RunRecord, open_journal

MIN_RUNS = 3
CALIBRATED = ("worktree_creation_time", "session_startup_time", "merge_time_per_branch")
FACTOR_RANGE = (0.5, 5.0)


def calibrate(journal: Journal, repo: str, agent: str, config: ParallelConfig, *,
              seed: bool = False) -> tuple[ParallelConfig, tuple[ModelConstant, ...]]:
    """`config` with measured medians where enough runs measured them (none with `seed`)."""
    runs = [r for r in journal.runs(repo) if r.agent == agent]
    samples = {name: _per_run_medians(journal, runs, name) for name in CALIBRATED}
    samples["coordination_factor"] = _factors(journal, runs)
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


def _per_run_medians(journal: Journal, runs: Sequence[RunRecord], constant: str) -> list[float]:
    stage = next(s for s, c in CONSTANT_OF.items() if c == constant)
    out = []
    for run in runs:
        values = measured(journal.timings(run.id), journal.sessions(run.id))[stage]
        if values:
            out.append(statistics.median(values))
    return out


def _factors(journal: Journal, runs: Sequence[RunRecord]) -> list[float]:
    out = []
    for run in runs:
        estimate = journal.estimate(run.id)
        sessions = journal.sessions(run.id)
        spans = [s.ended_at - s.started_at for s in sessions if s.started_at and s.ended_at > s.started_at]
        if estimate is None or not spans or len(spans) != len(sessions) or estimate.sequential_minutes <= 0:
            continue
        factor = max(spans) / 60 * len(sessions) / estimate.sequential_minutes
        if FACTOR_RANGE[0] <= factor <= FACTOR_RANGE[1]:
            out.append(factor)
    return out
