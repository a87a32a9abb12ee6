"""The app's ONE door to the engine: `engine.service.Engine` (pane text and diffs included), plus
the overhead model for other inputs, which is pure and runs inline.

Widgets and screens never call git, tmux or the API; they await these methods. Blocking work
runs in the Engine's threads (or `asyncio.to_thread` here), so the UI loop never blocks, and
`anthropic` (imported by the Claude planner) is loaded in a thread.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from engine.agents.descriptors import OFFERED, offered
from engine.core.models import Conventions, Estimate, OverheadTable, Plan, RepoProfile, Subtask
from engine.planning.estimate import estimate
from engine.planning.overhead import overhead_table
from engine.planning.pipeline import PlanOptions
from engine.planning.planners import PlannerChoice, build_planner, resolve_planner
from engine.run.diffs import FileDiff
from engine.run.status import ENDED_STATES, RunStatus
from engine.service import Engine

if TYPE_CHECKING:
    from engine.run.attach import AttachPlan

NOT_INSTALLED = " · not installed"


class Backend:
    """Engine commands for one repo, shaped for the screens; built once by `tui.entry` (or a test)."""

    def __init__(self, engine: Engine, *, planner: str = "auto") -> None:
        self.engine = engine
        self.repo = engine.repo
        self.planner = planner
        self.agent = engine.config.default_agent

    async def planner_choice(self) -> PlannerChoice:
        """The engine's one answer to "which planner, and why" (it may ask `claude auth status`,
        so it runs in a thread, never on the app's loop)."""
        return await asyncio.to_thread(resolve_planner, self.planner)

    def agents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.agent, *OFFERED)))

    def agent_options(self) -> list[tuple[str, str]]:
        """(label, agent) for the picker: an agent whose CLI is missing is marked (picking it
        is refused at launch, naming the install command)."""
        ready = dict(offered())
        return [(name if ready.get(name, True) else name + NOT_INSTALLED, name) for name in self.agents()]

    async def analyze(self) -> RepoProfile:
        return await self.engine.analyze()

    async def plan(self, task: str, *, scope: str, minutes: float | None, splits: int | None) -> Plan:
        """The engine's pipeline; progress arrives as events through `Engine.subscribe`."""
        choice = await self.planner_choice()
        planner = await asyncio.to_thread(build_planner, choice, self.engine.config)
        return await self.engine.plan(task, PlanOptions(scope=scope, minutes=minutes, splits=splits),
                                      planner=planner)

    def table(self, task: str, profile: RepoProfile, *, scope: str, minutes: float | None,
              files: int | None = None) -> tuple[Estimate, OverheadTable]:
        """The overhead model for another scope or minutes: pure and fast, so it runs inline.
        `files`: how many the plan for this task changes, which the auto estimate counts."""
        config = self.engine.config
        est = estimate(task or "task", profile.complexity_score, scope=scope, minutes=minutes, files=files)
        table = overhead_table(est.sequential_minutes, config, repo_max_splits=profile.max_splits,
                               existing_worktrees=len(profile.worktrees))
        return est, table

    async def validate(self, task: str, subtasks: tuple[Subtask, ...],
                       conventions: Conventions | None = None) -> Plan:
        """The same checks `plan --validate` and `run` apply, on the approved subtasks only; the
        plan's conventions ride along to every session's prompt."""
        return await self.engine.validate(subtasks, task=task, agent=self.agent, conventions=conventions)

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
        live = any(s.state not in ENDED_STATES and not s.problem for s in status.sessions)
        return status.run_id if live or status.orchestrator == "interrupted" else None

    async def pane_text(self, run_id: str, name: str) -> str:
        return await self.engine.pane_text(name, run_id=run_id, lines=200)

    async def send(self, run_id: str, name: str, text: str) -> None:
        await self.engine.send(name, text, run_id=run_id)

    async def stop(self, run_id: str, name: str) -> None:
        await self.engine.stop(name, run_id=run_id)

    async def diff(self, run_id: str, name: str) -> str:
        return await self.engine.diff(name, run_id=run_id)

    async def attach_plan(self, run_id: str, name: str) -> AttachPlan:
        """The engine's rule: a popup inside the person's tmux, else the terminal handed over."""
        return await self.engine.attach_plan(name, run_id=run_id)

    async def file_diffs(self, run_id: str, name: str) -> tuple[FileDiff, ...]:
        return await self.engine.file_diffs(name, run_id=run_id)

    async def show_window(self, plan: AttachPlan) -> str:
        """A popup (blocks until the person closes it) or a switch, in a thread; why it failed."""
        return await self.engine.show_window(plan)
