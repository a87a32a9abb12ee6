"""What a run records at launch so its report can be computed later: the prediction.

The sequential estimate is the checked plan's (the plan file's own, the subtasks' minutes,
or the task's scope and the repo's complexity, as `plan` estimates). The constants in force
are stored with it, so the prediction can be recomputed exactly even after the config or
the calibration changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.core.config import ParallelConfig
from engine.core.models import Estimate, Subtask
from engine.report.calibration import model_constants
from engine.run.journal import Journal, RunEstimate

SOURCES = {"flag": "the plan's estimate", "subtasks": "the subtasks' minutes",
           "scope": "the task's scope and the repo's complexity"}


def record_estimate(journal: Journal, run_id: str, config: ParallelConfig, estimate: Estimate,
                    subtasks: Sequence[Subtask]) -> RunEstimate:
    """Journal the run's sequential estimate, its source and the model constants."""
    record = RunEstimate(run_id=run_id, sequential_minutes=estimate.sequential_minutes,
                         source=SOURCES.get(estimate.source, estimate.source),
                         constants=model_constants(config),
                         specialists=tuple(s.agent.name if s.agent else "" for s in subtasks))
    journal.add_estimate(record)
    return record
