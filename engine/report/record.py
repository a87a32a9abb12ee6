"""What a run records at launch so its report can be computed later: the prediction.

The sequential estimate comes from the plan file when there is one; otherwise from the
task's wording and the repo's complexity (as `plan` would estimate it). The constants in
force (after calibration) are stored with it, so the prediction can be recomputed exactly
even after the config or the calibration changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.analysis import analyze_repo
from engine.config import ParallelConfig
from engine.estimate import estimate
from engine.journal import Journal, RunEstimate
from engine.models import Estimate, Subtask
from engine.report.calibration import model_constants


def record_estimate(journal: Journal, run_id: str, repo: Path, config: ParallelConfig, *, task: str,
                    subtasks: Sequence[Subtask], planned: Estimate | None) -> RunEstimate:
    """Journal the run's sequential estimate, its source and the model constants."""
    source = "the plan file"
    if planned is None:
        profile = analyze_repo(repo, config)
        planned = estimate(task or " ".join(s.description for s in subtasks), profile.complexity_score)
        source = "the task's scope and the repo's complexity"
    record = RunEstimate(run_id=run_id, sequential_minutes=planned.sequential_minutes, source=source,
                         constants=model_constants(config),
                         specialists=tuple(s.agent.name if s.agent else "" for s in subtasks))
    journal.add_estimate(record)
    return record
