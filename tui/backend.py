"""The app's ONE door to the engine: planning, validation, runs and sessions.

Widgets and screens never call git, tmux or the API; they await these methods. Every blocking
engine call runs in `asyncio.to_thread`, so the UI loop never blocks and `anthropic` (imported
by the Claude planner) is loaded in a thread. This adapter wraps today's engine functions; when
`engine.service.Engine` lands, its methods replace the bodies here and nothing else changes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from engine.core import events as ev
from engine.core import run_events as rev
from engine.core.config import ParallelConfig, load_config
from engine.core.errors import UsageError
from engine.core.models import Estimate, OverheadTable, Plan, RepoProfile, Subtask
from engine.planning.estimate import estimate
from engine.planning.overhead import overhead_table
from engine.planning.pipeline import PlanOptions, make_plan, revalidate
from engine.planning.plan_file import PlanFile
from engine.planning.planners import choose_planner
from engine.run.journal import Journal, SessionRecord, open_journal
from engine.run.status import RunStatus, find_run, pane_for, run_status, tmux_of
from engine.run.tmux_sessions import Tmux

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannerChoice:
    """Which planner `auto` resolves to, and why Claude is not used when it is not."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Launched:
    run_id: str
    attach: str
    failed: tuple[str, ...]


class Backend:
    """Engine commands for one repo; constructed once by `tui.entry` (or a test)."""

    def __init__(self, repo: Path, *, planner: str = "auto", agent: str | None = None) -> None:
        self.repo = repo
        self.planner = planner
        self.config: ParallelConfig = load_config(repo)
        self.agent = agent or self.config.default_agent

    def planner_choice(self) -> PlannerChoice:
        """Claude plans when asked and a key is set; otherwise the offline planner, with the reason."""
        if self.planner == "offline":
            return PlannerChoice(name="offline", reason="chosen with --planner offline")
        if not os.environ.get("ANTHROPIC_API_KEY"):
            why = "ANTHROPIC_API_KEY is not set"
            return PlannerChoice(name="offline" if self.planner == "auto" else "claude", reason=why)
        return PlannerChoice(name="claude", reason="")

    def agents(self) -> tuple[str, ...]:
        names = ("claude", "claude-headless", "codex", "aider", "demo")
        return tuple(dict.fromkeys((self.agent, *names)))

    async def analyze(self) -> RepoProfile:
        from engine.analysis.profile import analyze_repo  # noqa: PLC0415 - keeps app start light

        return await asyncio.to_thread(analyze_repo, self.repo, self.config)

    async def plan(self, task: str, *, scope: str, minutes: float | None, splits: int | None,
                   emit: ev.Emit) -> Plan:
        """The engine's pipeline; the planner is built in a thread (the SDK import is slow)."""
        planner = await asyncio.to_thread(choose_planner, self.planner, self.config)
        options = PlanOptions(scope=scope, minutes=minutes, splits=splits)
        return await make_plan(task, self.repo, self.config, planner, options, emit)

    def table(self, task: str, profile: RepoProfile, *, scope: str,
              minutes: float | None) -> tuple[Estimate, OverheadTable]:
        """The overhead model for another scope or minutes: pure and fast, so it runs inline."""
        est = estimate(task or "task", profile.complexity_score, scope=scope, minutes=minutes)
        table = overhead_table(est.sequential_minutes, self.config, repo_max_splits=profile.max_splits,
                               existing_worktrees=len(profile.worktrees))
        return est, table

    async def validate(self, task: str, subtasks: tuple[Subtask, ...]) -> Plan:
        """The same checks `plan --validate` and `run` apply, on the approved subtasks only."""
        edited = PlanFile(task=task, subtasks=subtasks, estimate=None, repo_root=None, warnings=())
        return await revalidate(edited, self.repo, self.config)

    async def launch(self, plan: Plan, emit: rev.EmitRun) -> Launched:
        """Start one session per subtask of `plan` (already validated)."""
        return await asyncio.to_thread(self._launch, plan, emit)

    def _launch(self, plan: Plan, emit: rev.EmitRun) -> Launched:
        from engine.report.record import record_estimate  # noqa: PLC0415
        from engine.run.lock import held  # noqa: PLC0415
        from engine.run.orchestrator import RunRequest, new_run_id, start_run  # noqa: PLC0415
        from engine.run.session_status import default_readers  # noqa: PLC0415

        request = RunRequest(repo=Path(plan.repo.root), task=plan.task, subtasks=plan.subtasks,
                             agent=self.agent)
        run_id = new_run_id()
        with open_journal() as journal, held(f"run:{run_id}", f"run {run_id}"):
            record_estimate(journal, run_id, self.config, plan.estimate, plan.subtasks)
            started = start_run(request, self.config, journal, run_id, default_readers(), emit)
        failed = tuple(s.name for s in started.sessions if s.phase == "launch_failed")
        return Launched(run_id=started.run_id, attach=started.attach, failed=failed)

    async def status(self, run_id: str | None) -> RunStatus:
        return await asyncio.to_thread(self._status, run_id)

    def status_now(self, run_id: str | None) -> RunStatus:
        """Blocking: for the bridge's thread worker only."""
        from engine.run.session_status import default_readers  # noqa: PLC0415

        with open_journal() as journal:
            return run_status(journal, find_run(journal, self.repo, run_id), default_readers())

    async def live_run(self) -> str | None:
        """This repo's latest run while any session still runs or it was interrupted."""
        return await asyncio.to_thread(self._live_run)

    def _live_run(self) -> str | None:
        with open_journal() as journal:
            runs = journal.runs(str(self.repo))
        if not runs:
            return None
        status = self.status_now(runs[0].id)
        done = ("done", "failed", "exited")
        live = any(s.state.value not in done and not s.problem for s in status.sessions)
        return status.run_id if live or status.orchestrator == "interrupted" else None

    async def pane_text(self, run_id: str, name: str) -> str:
        return await asyncio.to_thread(self._with_window, run_id, name,
                                       lambda tmux, window: tmux.pane_text(window, 200))

    async def send(self, run_id: str, name: str, text: str) -> None:
        from engine.cli.session_cmds import check_send_text  # noqa: PLC0415 - the one send rule

        check_send_text(text, raw=False)
        await asyncio.to_thread(self._with_window, run_id, name,
                                lambda tmux, window: tmux.send_text(window, text))

    async def stop(self, run_id: str, name: str) -> None:
        await asyncio.to_thread(self._stop, run_id, name)

    def _stop(self, run_id: str, name: str) -> None:
        with open_journal() as journal:
            run = find_run(journal, self.repo, run_id)
            record = self._record(journal, run_id, name)
            self._with_window(run_id, name, lambda tmux, window: tmux.interrupt(window))
            journal.update_session(run.id, record.slug, phase="stopped")
            journal.record(rev.SessionStopped(run_id=run.id, name=record.name))

    async def diff(self, run_id: str, name: str) -> str:
        return await asyncio.to_thread(self._diff, run_id, name)

    def _diff(self, run_id: str, name: str) -> str:
        from engine.hosts.gitcli import git  # noqa: PLC0415

        with open_journal() as journal:
            run = find_run(journal, self.repo, run_id)
            record = self._record(journal, run_id, name)
        stat = git(Path(run.repo), "diff", "--stat", f"{run.base_sha}...{record.branch}")
        body = git(Path(run.repo), "diff", f"{run.base_sha}...{record.branch}")
        return (stat + "\n" + body).strip("\n") or "no changes against the base yet"

    def attach_argv(self, run_id: str, name: str) -> list[str]:
        """`tmux attach` to the session's window, or `switch-client` inside that same server."""
        def argv(tmux: Tmux, window: str) -> list[str]:
            full = tmux.attach_argv(window)
            if os.environ.get("TMUX") and tmux.socket_path and \
                    os.environ["TMUX"].split(",")[0] == tmux.socket_path:
                return [*full[: full.index("attach-session")], "switch-client", "-t", window]
            return full
        return self._with_window(run_id, name, argv)

    def _record(self, journal: Journal, run_id: str, name: str) -> SessionRecord:
        for record in journal.sessions(run_id):
            if name in (record.name, record.slug):
                return record
        raise UsageError(f"no session {name!r} in run {run_id}", hint="pick a row on the sessions board")

    def _with_window(self, run_id: str, name: str, act: Callable[[Tmux, str], T]) -> T:
        with open_journal() as journal:
            run = find_run(journal, self.repo, run_id)
            record = self._record(journal, run_id, name)
        tmux = tmux_of(run)
        pane = pane_for(record, tmux.panes())
        if pane is None:
            raise UsageError(f"session {name!r} has no tmux window", hint="it ended or was cleaned up")
        return act(tmux, pane.window_id)


def approved_plan(plan: Plan, approved: frozenset[str]) -> tuple[Subtask, ...]:
    """The approved subtasks, in plan order, with dependencies on rejected ones dropped."""
    kept = tuple(s for s in plan.subtasks if s.name in approved)
    return tuple(dataclasses.replace(s, depends_on=tuple(d for d in s.depends_on if d in approved))
                 for s in kept)


def tmux_available() -> bool:
    return shutil.which("tmux") is not None
