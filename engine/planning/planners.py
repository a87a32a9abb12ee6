"""Choosing a planner: `offline`, `claude`, or `auto` (Claude when a key is set).

The Claude planner imports `anthropic` (about a second), so it is imported only here, only
when chosen.
"""

from __future__ import annotations

import os

from engine.core.config import ParallelConfig
from engine.core.errors import UsageError
from engine.planning.offline import OfflinePlanner
from engine.planning.port import Planner

PLANNERS = ("auto", "claude", "offline")


def choose_planner(name: str, config: ParallelConfig, *, model: str | None = None) -> Planner:
    if name not in PLANNERS:
        raise UsageError(f"unknown planner {name!r}", hint="use --planner auto, claude or offline")
    if name == "offline" or (name == "auto" and not os.environ.get("ANTHROPIC_API_KEY")):
        return OfflinePlanner()
    from engine.claude.planner import ClaudePlanner  # noqa: PLC0415 - anthropic is slow to import

    return ClaudePlanner(config, model=model, fallback=name == "auto")
