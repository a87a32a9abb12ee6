"""Sequential-time estimate from the task's scope and the repo's complexity.

The spec's scopes (large = 60+ minutes base) set the base; complexity scales it, so the
same task costs more in a larger, busier repo: minutes = base × (1 + complexity_score).
`--minutes` overrides the whole estimate.
"""

from __future__ import annotations

import math
import re

from engine.core.errors import UsageError
from engine.core.models import Estimate, Scope

MIN_MINUTES = 0.1
MAX_MINUTES = 100_000.0
"""Estimates outside 6 seconds .. ~10 working weeks are typos, and near 0 or 1e308 the overhead
model's arithmetic (savings in %) overflows; so every estimate, from a flag or a plan file, must
lie in this range."""
BASE_MINUTES: dict[Scope, float] = {"small": 15.0, "medium": 30.0, "large": 60.0}
SCOPES = ("small", "medium", "large", "auto")
_LARGE_WORDS = re.compile(r"\b(entire|whole|all|system|rewrite|migrat\w*|overhaul|across)\b", re.IGNORECASE)
_SMALL_WORDS = re.compile(r"\b(typo|rename|bump|tweak|small|minor|one-line|single)\b", re.IGNORECASE)
_PART_SEPARATORS = re.compile(r",|;|\band\b|\bwith\b|\bplus\b", re.IGNORECASE)


def infer_scope(task: str) -> Scope:
    """Guess the scope from the wording: parts named, sweeping words, length."""
    parts = len(_PART_SEPARATORS.split(task))
    words = len(task.split())
    if _LARGE_WORDS.search(task) or parts >= 4 or words > 40:
        return "large"
    if _SMALL_WORDS.search(task) and parts == 1:
        return "small"
    if parts >= 2 or words > 8:
        return "medium"
    return "small"


def estimate(task: str, complexity_score: float, *, scope: str = "auto",
             minutes: float | None = None) -> Estimate:
    """The sequential estimate the overhead model starts from."""
    if scope not in SCOPES:
        raise UsageError(f"unknown task scope {scope!r}",
                         hint="use --task-scope small, medium, large or auto")
    chosen: Scope = infer_scope(task) if scope == "auto" else scope  # type: ignore[assignment]
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
