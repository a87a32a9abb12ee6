"""Per-stage timings, modelled and measured, under the config constants' own names.

`worktree_creation`, `session_startup`, `context_building` and `merge_per_branch` are the
overhead model's constants (seconds per branch), so the predicted and measured tables line
up key for key; `setup` and `verify` are measured only (the spec's model has no such stage).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.run.journal import SessionRecord, Timing

STAGES = ("worktree_creation", "setup", "session_startup", "context_building", "merge_per_branch",
          "verify")
CONSTANT_OF = {"worktree_creation": "worktree_creation_time", "session_startup": "session_startup_time",
               "context_building": "context_building_time", "merge_per_branch": "merge_time_per_branch"}
"""Stage → the config constant that models it."""
TIMING_OF = {"worktree_creation": "worktree", "setup": "setup", "merge_per_branch": "merge",
             "verify": "verify"}
"""Stage → the journal's timings row that measures it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    name: str
    modelled_seconds: float | None
    """Per branch, from the constant in force at launch; None when the model has no such stage."""
    measured_seconds: float | None
    """Median per branch (or per run for verify); None when not measured."""
    samples: int
    note: str = ""


def measured(timings: Iterable[Timing], sessions: Iterable[SessionRecord]) -> dict[str, list[float]]:
    """Samples per stage: timing rows, and launch → first activity for session start-up."""
    out: dict[str, list[float]] = {name: [] for name in STAGES}
    by_row = {row: stage for stage, row in TIMING_OF.items()}
    for t in timings:
        if t.stage in by_row:
            out[by_row[t.stage]].append(t.seconds)
    for s in sessions:
        if s.started_at and s.first_activity_at >= s.started_at:
            out["session_startup"].append(s.first_activity_at - s.started_at)
    return out


def stage_table(samples: Mapping[str, list[float]], constants: Mapping[str, float]) -> tuple[Stage, ...]:
    rows = []
    for name in STAGES:
        values = samples.get(name, [])
        constant = CONSTANT_OF.get(name)
        note = ""
        if name == "context_building":
            note = "not measured: the agents' signals do not mark the first edit"
        elif not values:
            note = "not measured in this run"
        rows.append(Stage(name=name, modelled_seconds=constants.get(constant) if constant else None,
                          measured_seconds=statistics.median(values) if values else None,
                          samples=len(values), note=note))
    return tuple(rows)
