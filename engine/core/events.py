"""Typed progress events: what the engine did, in the past tense.

Front ends only render these: the CLI prints them to stderr as progress lines (or as
JSON lines), the TUI folds them into its state. Each is a frozen dataclass with a `kind`
literal, so a recorded run serialises to JSON and can be replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class StageStarted:
    stage: str
    detail: str = ""
    kind: Literal["stage_started"] = "stage_started"


@dataclass(frozen=True, slots=True, kw_only=True)
class StageFinished:
    stage: str
    seconds: float
    detail: str = ""
    kind: Literal["stage_finished"] = "stage_finished"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannerFellBack:
    """The Claude planner failed and `auto` used the offline planner instead."""

    reason: str
    kind: Literal["planner_fell_back"] = "planner_fell_back"


Event = StageStarted | StageFinished | PlannerFellBack
Emit = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """An `Emit` for callers that want no progress."""
