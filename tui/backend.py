"""The app's ONE door to the engine: every screen's command goes through a `Backend` method,
which calls `engine.service.Engine` (pane text, diffs, the merge and the split table included).

Widgets and screens never call git, tmux or the API, nor an engine module: they await these
methods, and hold only the read model (`engine.views`) and `engine.core`'s values (the `tui`
import contract in pyproject.toml). Blocking work runs in the Engine's threads, so the UI loop
never blocks, and `anthropic` (imported by the Claude planner) is loaded in a thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.core import events as ev
from engine.core.approval import Decision, approved
from engine.core.models import Conventions, Estimate, OverheadTable, Plan, RepoProfile, Subtask
from engine.service import CleanupOutcome, Engine

if TYPE_CHECKING:
    from engine.views import (
        AttachPlan,
        Checked,
        FileDiff,
        HistoryLine,
        MergeSummary,
        OpenedPr,
        PlannerChoice,
        Refusal,
        ResolveStarted,
        RunReport,
        RunStatus,
        Which,
    )

NOT_INSTALLED = " · not installed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Placed:
    """A launch placed on hosts (`Backend.place`): the engine's lines on where the sessions go
    and which hosts it skipped, and the start of exactly that placement (`asked`: the question
    the person answered; the run id, or None when the question changed)."""

    lines: tuple[str, ...]
    start: Callable[[str], Awaitable[str | None]]
    hosts: tuple[str, ...] = ()
    """The hosts it was placed on (the engine's question names them)."""


class Backend:
    """Engine commands for one repo, shaped for the screens; built once by the app (or a test)."""

    def __init__(self, engine: Engine, *, planner: str = "auto") -> None:
        self.engine = engine
        self.repo = engine.repo
        self.planner = planner
        self.agent = engine.config.default_agent

    # ---- the engine's words and settings ------------------------------------------------------

    @property
    def where(self) -> str:
        return self.engine.where

    @property
    def desktop_notify(self) -> str:
        return self.engine.config.desktop_notify

    @property
    def test_command(self) -> str:
        return self.engine.config.test_command

    def subscribe(self, emit: ev.Emit) -> Callable[[], None]:
        """Hear the engine's events (from its worker threads); returns the unsubscribe."""
        return self.engine.subscribe(emit)

    async def allow_passthrough(self) -> bool:
        return await self.engine.allow_passthrough()

    # ---- planning -----------------------------------------------------------------------------

    async def planner_choice(self, planner: str | None = None) -> PlannerChoice:
        """The engine's one answer to "which planner (`planner`, else the chosen one), and why"."""
        return await self.engine.planner_choice(planner or self.planner)

    def agent_options(self) -> list[tuple[str, str]]:
        """(label, agent) for the picker: an agent whose CLI is missing is marked (picking it
        is refused at launch, naming the install command)."""
        return [(name if ready else name + NOT_INSTALLED, name)
                for name, ready in self.engine.agent_choices(self.agent)]

    def host_choices(self) -> tuple[tuple[str, int], ...]:
        """(name, max_sessions) of every host the config offers, `local` first."""
        return self.engine.host_choices()

    @property
    def offers_hosts(self) -> bool:
        """Whether the config names SSH hosts: without them the app shows no host choice."""
        return len(self.host_choices()) > 1

    async def analyze(self) -> RepoProfile:
        return await self.engine.analyze()

    async def plan(self, task: str, *, scope: str, minutes: float | None, splits: int | None) -> Plan:
        """The engine's pipeline; progress arrives as events through `subscribe`."""
        from engine.views import PlanOptions  # noqa: PLC0415 - the planner's modules, when planning

        return await self.engine.plan(task, PlanOptions(scope=scope, minutes=minutes, splits=splits),
                                      planner=self.planner)

    def table(self, task: str, profile: RepoProfile, *, scope: str, minutes: float | None,
              files: int | None = None) -> tuple[Estimate, OverheadTable]:
        """Screen 2's table, with the constants `table --json` uses (`Engine.split_table`)."""
        return self.engine.split_table(task, profile, scope=scope, minutes=minutes, files=files)

    async def validate(self, task: str, subtasks: tuple[Subtask, ...],
                       conventions: Conventions | None = None) -> Plan:
        """The same checks `plan --validate` and `run` apply, on the approved subtasks only; the
        plan's conventions ride along to every session's prompt."""
        return await self.engine.validate(subtasks, task=task, agent=self.agent, conventions=conventions)

    def launch_decision(self, checked: Plan, subtasks: tuple[Subtask, ...],
                        hosts: tuple[str, ...] = ()) -> Decision:
        """What the engine asks before it starts these sessions on `hosts` (the modal shows it)."""
        return self.engine.launch_decision(subtasks, checked, self.agent, hosts=hosts)

    async def place(self, checked: Plan, subtasks: tuple[Subtask, ...], hosts: tuple[str, ...]) -> Placed:
        """The engine's preflight of these sessions on `hosts`: where they go and which hosts it
        skips, why (shown with the question), and the launch bound to it, so the sessions go
        where the person was told. The engine's error when they cannot be placed; nothing is
        created until `Placed.start`."""
        found = await self.engine.preflight(subtasks, self.agent, task=checked.task, hosts=hosts)

        async def start(asked: str) -> str | None:
            started = await self.engine.start_run(subtasks, checked.task, self.agent, checked=checked,
                                                  approve=approved(asked), hosts=hosts, preflight=found)
            return started.run_id if started else None
        lines = tuple(found.placement.lines()) if found.placement else ()
        return Placed(lines=lines, start=start, hosts=hosts)

    async def launch(self, checked: Plan, subtasks: tuple[Subtask, ...], *, asked: str) -> str | None:
        """Start one session per approved subtask while the engine's question is still `asked`
        (what the person saw; None, nothing started, when it changed); the engine refuses a
        plan with problems."""
        started = await self.engine.start_run(subtasks, checked.task, self.agent, checked=checked,
                                              approve=approved(asked))
        return started.run_id if started else None

    # ---- the run ------------------------------------------------------------------------------

    async def status(self, run_id: str) -> RunStatus:
        return await self.engine.status(run_id)

    async def live_run(self) -> str | None:
        """This repo's latest run while any session still runs, or when it was interrupted."""
        return await self.engine.live_run()

    async def pane_text(self, run_id: str, name: str) -> str:
        return await self.engine.pane_text(name, run_id=run_id, lines=200)

    async def send(self, run_id: str, name: str, text: str) -> None:
        await self.engine.send(name, text, run_id=run_id)

    @staticmethod
    def stop_decision(name: str) -> Decision:
        return Engine.stop_decision(name)

    async def stop(self, run_id: str, name: str, *, asked: str) -> bool:
        """Stop the session the person was asked about (`asked`, the stop Decision's detail)."""
        return await self.engine.stop(name, run_id=run_id, approve=approved(asked)) is not None

    async def diff(self, run_id: str, name: str) -> str:
        return await self.engine.diff(name, run_id=run_id)

    async def attach_plan(self, run_id: str, name: str) -> AttachPlan:
        """The engine's rule: a popup inside the person's tmux, else the terminal handed over."""
        return await self.engine.attach_plan(name, run_id=run_id)

    def hand_over(self, plan: AttachPlan) -> str:
        """The terminal to tmux until the person detaches (the app suspends itself around this;
        it blocks on purpose); why it failed, or empty."""
        return self.engine.hand_over(plan)

    async def file_diffs(self, run_id: str, name: str) -> tuple[FileDiff, ...]:
        return await self.engine.file_diffs(name, run_id=run_id)

    async def show_window(self, plan: AttachPlan) -> str:
        """A popup (blocks until the person closes it) or a switch, in a thread; why it failed."""
        return await self.engine.show_window(plan)

    # ---- merge, report, history ---------------------------------------------------------------

    async def check(self, which: Which) -> Checked:
        return await self.engine.check(which)

    @staticmethod
    def refusal(checked: Checked) -> Refusal | None:
        return Engine.refusal(checked)

    @staticmethod
    def merge_preview(checked: Checked, verify: str) -> str:
        return Engine.merge_preview(checked, verify)

    def pr_preview(self, checked: Checked) -> str:
        return self.engine.pr_preview(checked)

    async def merge(self, which: Which, *, verify: str, asked: str) -> MergeSummary | None:
        """Merge only while the engine's confirmation is still `asked` (what the person saw):
        None when the branches moved since."""
        return await self.engine.merge(which, verify=verify, approve=approved(asked))

    async def open_prs(self, which: Which, *, asked: str) -> tuple[Checked, tuple[OpenedPr, ...]] | None:
        return await self.engine.open_prs(which, approve=approved(asked))

    async def resolve(self, name: str, which: Which) -> ResolveStarted:
        return await self.engine.resolve(name, which)

    async def cleanup_plan(self, run_id: str) -> CleanupOutcome:
        """What cleanup would remove (nothing is removed)."""
        return await self.engine.cleanup(run_id or None, dry_run=True)

    async def cleanup(self, run_id: str, *, asked: str) -> CleanupOutcome:
        """Clean up only what the person was shown (`asked`, the plan's detail; else declined)."""
        return await self.engine.cleanup(run_id or None, approve=approved(asked))

    async def report(self, run_id: str) -> RunReport:
        return await self.engine.report(run_id or None)

    async def history(self) -> tuple[HistoryLine, ...]:
        return await self.engine.history()
