"""How likely a candidate file is part of a change: the plan's size comes from the evidence.

A real change's second and third file are found by following it outward from the files the
task's ranking puts first: the files the repo's history changes with them, their test modules,
the pages near them, the files the past commits most like the task changed. No one signal is
right often enough to plan on alone (the ranking's first place is part of the change about half
the time, its fifth a fifth of the time, a history partner of the top file a third of the time
at best), so each candidate's signals are weighed together into one likelihood, and a plan
names the files whose likelihood passes a threshold: a task whose ranking and history agree
gets a bigger plan, a vague one a smaller one.

The weights are a logistic regression fitted on the tuning histories' replayed changes
(`bench/fit_plan.py` refits them from this module's `features`); the untouched histories never
took part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

THRESHOLD = 0.12
"""A candidate joins the plan from this likelihood: on the tuning histories, held out one repo
at a time, about a third of the files so chosen were part of the change."""
FOLLOWED = 3
"""The ranking's first work files whose history partners and test modules are followed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What speaks for one candidate file."""

    rank: int | None
    """Its place in the task's ranking; None when the ranking does not reach it."""
    relative: float = 0.0
    """Its ranking score as a share of the first file's."""
    named: bool = False
    """The task names it (a dotted path, an identifier it defines, its file name)."""
    defines: bool = False
    """A name it defines matches one of the task's words."""
    focused: bool = False
    """Its path or names match the subject's head word."""
    words: int = 0
    """How many of the task's words its path or names match."""
    text: bool = False
    """The task's words are in its text (BM25 found it)."""
    area: str = ""
    """tests, docs, or what the layout says of it."""
    work: bool = False
    """A file of the change's own work: code, templates, stylesheets, config."""
    shares: tuple[float, ...] = ()
    """For each of the first FOLLOWED work files: the share of its recent commits that also
    changed this file (0 when they changed together fewer than twice)."""
    changes: int = 0
    """Its commits in the recent history."""
    tests_rank: int | None = None
    """The ranking place of the work file this is the test module of."""
    similar: float = 0.0
    """Its share of the votes of the past commits most like the task (`engine.analysis.similar`):
    1.0 for the file they changed most."""


def features(e: Evidence) -> tuple[float, ...]:
    """The evidence as numbers, in WEIGHTS' order."""
    rank = e.rank or 0
    shares = (*e.shares, 0.0, 0.0, 0.0)[:FOLLOWED]
    tests_rank = e.tests_rank or 0
    return (
        float(rank == 1), float(rank == 2), float(3 <= rank <= 5), float(6 <= rank <= 10),
        float(11 <= rank <= 20), float(rank > 20), float(not rank), e.relative, float(e.named),
        float(e.defines), float(e.focused), float(e.words), float(e.text), float(e.area == "tests"),
        float(e.area == "docs"), float(e.work), *shares, float(max(shares) >= 0.3), math.log1p(e.changes),
        float(tests_rank == 1), float(0 < tests_rank <= 3), float(0 < tests_rank <= 10),
        e.similar, float(e.similar >= 0.5), float(e.similar >= 1.0),
    )


WEIGHTS: tuple[float, ...] = (
    0.72, 0.89, 0.22, -0.46, -0.34, -1.18, -0.59, 1.39, 0.39, -1.25, -0.34, 0.34, 1.0, -1.36, -1.48, -1.31,
    0.64, 0.84, -0.19, 0.21, 0.18, 1.09, 0.08, -0.05, 2.42, -0.13, -0.53,
)
INTERCEPT = -2.88


def likelihood(e: Evidence) -> float:
    """The chance, as fitted, that the file is part of the change."""
    z = INTERCEPT + sum(w * x for w, x in zip(WEIGHTS, features(e), strict=True))
    return 1.0 / (1.0 + math.exp(-z))
