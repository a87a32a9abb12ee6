"""Sequential-time estimate from the task and the repo's complexity.

With `--task-scope auto` the task sets the base: a small change (a typo, a message) is a few
minutes; otherwise each requirement the task names (its features, and the tests, docs and
changelog entry it asks for) adds a share, and so does each file beyond the first that the
plan needs to change. A fixed scope uses the spec's bases (large = 60 minutes). Complexity
scales either, so the same task costs more in a larger, busier repo: minutes = base × (1 +
complexity_score). `--minutes` overrides the whole estimate.
"""

from __future__ import annotations

import math

from engine.core.errors import UsageError
from engine.core.models import Estimate, Scope
from engine.planning.task_text import is_small_change, requirements

MIN_MINUTES = 0.1
MAX_MINUTES = 100_000.0
"""Estimates outside 6 seconds .. ~10 working weeks are typos, and near 0 or 1e308 the overhead
model's arithmetic (savings in %) overflows; so every estimate, from a flag or a plan file, must
lie in this range."""
BASE_MINUTES: dict[Scope, float] = {"small": 15.0, "medium": 30.0, "large": 60.0}
SCOPES = ("small", "medium", "large", "auto")
SMALL_CHANGE_MINUTES = 8.0
SMALL_FILE_MINUTES = 2.0
BASE_TASK_MINUTES = 10.0
FEATURE_MINUTES = 15.0
EXTRA_MINUTES = {"tests": 10.0, "docs": 8.0, "changelog": 3.0}
FILE_MINUTES = 4.0
"""Auto scope: a small change is 8 minutes plus 2 per extra file; other tasks 10, plus 15 per
feature, plus what each named extra costs, plus 4 per file beyond the first (before the
complexity factor)."""


def task_base(task: str, files: int | None = None) -> tuple[Scope, float]:
    """(scope, base minutes) read off the task, and the files its plan changes when known."""
    extra = max(0, (files or 1) - 1)
    features, extras = requirements(task)
    if is_small_change(task) and features == 1 and not extras:
        base = SMALL_CHANGE_MINUTES + SMALL_FILE_MINUTES * extra
    else:
        base = (BASE_TASK_MINUTES + FEATURE_MINUTES * features + sum(EXTRA_MINUTES[e] for e in extras)
                + FILE_MINUTES * extra)
    scope: Scope = "small" if base < 25 else "medium" if base < 60 else "large"
    return scope, base


def infer_scope(task: str) -> Scope:
    """The scope the task's wording gives (`task_base` without the plan's files)."""
    return task_base(task)[0]


def estimate(task: str, complexity_score: float, *, scope: str = "auto",
             minutes: float | None = None, files: int | None = None) -> Estimate:
    """The sequential estimate the overhead model starts from; `files`: how many the plan changes."""
    if scope not in SCOPES:
        raise UsageError(f"unknown task scope {scope!r}",
                         hint="use --task-scope small, medium, large or auto")
    if scope == "auto":
        chosen, base = task_base(task, files)
    else:
        chosen = scope  # type: ignore[assignment]
        base = BASE_MINUTES[chosen]
    factor = 1.0 + max(0.0, complexity_score)
    if minutes is not None:
        check_minutes(minutes)
        return Estimate(scope=chosen, sequential_minutes=minutes, source="flag",
                        base_minutes=base, complexity_factor=factor)
    return Estimate(scope=chosen, sequential_minutes=round(base * factor, 1), source="scope",
                    base_minutes=base, complexity_factor=factor)


def in_range(minutes: float) -> bool:
    """Whether `minutes` is a usable sequential estimate (finite, within MIN..MAX)."""
    return math.isfinite(minutes) and MIN_MINUTES <= minutes <= MAX_MINUTES


def check_minutes(minutes: float) -> float:
    """`--minutes` as given, or a UsageError naming the allowed range."""
    if not in_range(minutes):
        raise UsageError(f"--minutes {minutes:g} is outside {MIN_MINUTES:g}..{MAX_MINUTES:,.0f}",
                         hint="pass the sequential estimate in minutes, e.g. --minutes 45")
    return minutes
