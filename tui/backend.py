"""The app's ONE door to the engine: `engine.service.Engine` (pane text and diffs included), plus
the overhead model for other inputs, which is pure and runs inline.

Widgets and screens never call git, tmux or the API; they await these methods. Blocking work
runs in the Engine's threads (or `asyncio.to_thread` here), so the UI loop never blocks, and
`anthropic` (imported by the Claude planner) is loaded in a thread.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from engine.core.models import Estimate, OverheadTable, Plan, RepoProfile, Subtask
from engine.planning.estimate import estimate
from engine.planning.overhead import overhead_table
from engine.planning.pipeline import PlanOptions
from engine.run.diffs import FileDiff
from engine.run.status import RunStatus
from engine.service import Engine

AGENTS = ("claude", "claude-headless", "codex", "aider", "demo")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannerChoice:
    """Which planner `auto` resolves to, and why Claude is not used when it is not."""

    name: str
    reason: str


class Backend:
    """Engine commands for one repo, shaped for the screens; built once by `tui.entry` (or a test)."""

    def __init__(self, engine: Engine, *, planner: str = "auto") -> None:
        self.engine = engine
        self.repo = engine.repo
        self.planner = planner
        self.agent = engine.config.default_agent

    def planner_choice(self) -> PlannerChoice:
        """Claude plans when asked and a key is set; otherwise the offline planner, with the reason."""
        if self.planner == "offline":
            return PlannerChoice(name="offline", reason="chosen")
        if not os.environ.get("ANTHROPIC_API_KEY"):
            if self.planner == "auto":
                return PlannerChoice(name="offline", reason="ANTHROPIC_API_KEY is not set")
            return PlannerChoice(name="claude", reason="ANTHROPIC_API_KEY is not set: planning will fail — "
                                                       "export it, or choose auto to fall back to offline")
        return PlannerChoice(name="claude", reason="")

    def agents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.agent, *AGENTS)))

    async def analyze(self) -> RepoProfile:
        return await self.engine.analyze()

    async def plan(self, task: str, *, scope: str, minutes: float | None, splits: int | None) -> Plan:
        """The engine's pipeline; progress arrives as events through `Engine.subscribe`."""
        from engine.planning.planners import choose_planner  # noqa: PLC0415

        planner = await asyncio.to_thread(choose_planner, self.planner, self.engine.config)
        return await self.engine.plan(task, PlanOptions(scope=scope, minutes=minutes, splits=splits),
                                      planner=planner)

    def table(self, task: str, profile: RepoProfile, *, scope: str,
              minutes: float | None) -> tuple[Estimate, OverheadTable]:
        """The overhead model for another scope or minutes: pure and fast, so it runs inline."""
        config = self.engine.config
        est = estimate(task or "task", profile.complexity_score, scope=scope, minutes=minutes)
        table = overhead_table(est.sequential_minutes, config, repo_max_splits=profile.max_splits,
                               existing_worktrees=len(profile.worktrees))
        return est, table

    async def validate(self, task: str, subtasks: tuple[Subtask, ...]) -> Plan:
        """The same checks `plan --validate` and `run` apply, on the approved subtasks only."""
        return await self.engine.validate(subtasks, task=task, agent=self.agent)

    async def launch(self, checked: Plan, subtasks: tuple[Subtask, ...]) -> str:
        """Start one session per approved subtask; the engine refuses a plan with problems."""
        started = await self.engine.start_run(subtasks, checked.task, self.agent, checked=checked)
        return started.run_id

    async def status(self, run_id: str) -> RunStatus:
        return await self.engine.status(run_id)

    async def live_run(self) -> str | None:
        """This repo's latest run while any session still runs, or when it was interrupted."""
        runs = await self.engine.runs()
        if not runs:
            return None
        status = await self.engine.status(runs[0][0].id)
        ended = ("done", "failed", "exited")
        live = any(s.state.value not in ended and not s.problem for s in status.sessions)
        return status.run_id if live or status.orchestrator == "interrupted" else None

    async def pane_text(self, run_id: str, name: str) -> str:
        return await self.engine.pane_text(name, run_id=run_id, lines=200)

    async def send(self, run_id: str, name: str, text: str) -> None:
        await self.engine.send(name, text, run_id=run_id)

    async def stop(self, run_id: str, name: str) -> None:
        await self.engine.stop(name, run_id=run_id)

    async def diff(self, run_id: str, name: str) -> str:
        return await self.engine.diff(name, run_id=run_id)

    async def file_diffs(self, run_id: str, name: str) -> tuple[FileDiff, ...]:
        return await self.engine.file_diffs(name, run_id=run_id)

    async def attach_argv(self, run_id: str, name: str) -> list[str]:
        """`tmux attach` to the session's window, or `switch-client` inside that same server."""
        run, window = await self.engine.window(name, run_id=run_id)
        argv = await self.engine.attach_command(name, run_id=run_id)
        inside = os.environ.get("TMUX", "").split(",")[0]
        if inside and run.tmux_server and inside == run.tmux_server:
            return [*argv[: argv.index("attach-session")], "switch-client", "-t", window]
        return argv

