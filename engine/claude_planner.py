"""Placeholder until the Claude planner lands: says so clearly instead of pretending."""

from __future__ import annotations

from engine.config import ParallelConfig
from engine.errors import ApiError
from engine.offline_planner import OfflinePlanner
from engine.planner_port import Draft, PlanRequest


class ClaudePlanner:
    name = "claude"

    def __init__(self, config: ParallelConfig, *, model: str | None = None,
                 fallback: bool = True) -> None:
        self.config = config
        self.model = model or config.planner_model
        self.fallback = fallback

    async def draft(self, request: PlanRequest) -> Draft:
        reason = "the Claude planner is not built yet"
        if not self.fallback:
            raise ApiError(reason, hint="use --planner offline")
        draft = await OfflinePlanner().draft(request)
        return Draft(subtasks=draft.subtasks, planner="offline", notes=draft.notes,
                     fallback_reason=reason)
