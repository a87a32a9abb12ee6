"""The Engine: the one object both faces (CLI and app) drive, with async commands.

Why a facade: every verb used to assemble journal, tmux, config and planner by itself, and
the dashboard needs the same commands without a terminal. Here each command is a coroutine;
blocking git/tmux/sqlite work runs in `asyncio.to_thread` so an app's event loop never
stalls, and every event goes through one Recorder (journal first, then subscribers). The CLI
builds an *inline* engine instead (`build_engine(..., inline=True)`): a CLI has no loop to
keep responsive, and running on the main thread keeps Ctrl-C landing where the work is
(the crash-safety rules rely on that); `run_inline` drives such a coroutine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeAlias, TypeVar

from engine.core.approval import Approver, Decision, approve_all
from engine.core.config import ParallelConfig, load_config
from engine.core.errors import EngineError
from engine.core.hosts_config import with_local
from engine.hosts.gitcli import resolve_repo
from engine.hosts.host import LOCAL, Host
from engine.hosts.registry import LOCAL_NAME, Hosts
from engine.run.journal import Journal, RunRecord, SessionRecord, open_journal
from engine.run.lock import LockedError, held

if TYPE_CHECKING:  # the commands import their modules when run: `--help`, `status` and `check` stay light
    from engine.claude.context import PlanContext
    from engine.claude.install import InstallReport
    from engine.claude.planners import PlannerChoice
    from engine.core import events as rev
    from engine.core.models import Conventions, Estimate, OverheadTable, Plan, RepoProfile, Subtask
    from engine.hosts.tmux_sessions import Tmux
    from engine.merge.checked import Checked, Which
    from engine.merge.flow import MergeSummary, Refusal
    from engine.merge.prs import OpenedPr
    from engine.merge.resolve import ResolveStarted
    from engine.planning.pipeline import PlanOptions
    from engine.planning.plan_file import PlanFile
    from engine.planning.port import Planner
    from engine.report.calibration import Model
    from engine.report.efficiency import RunReport
    from engine.report.history import HistoryLine
    from engine.run.attach import AttachPlan
    from engine.run.cleanup import CleanupResult, Leftover
    from engine.run.diffs import FileDiff
    from engine.run.fold import RunState
    from engine.run.orchestrator import Preflight, RunRequest, StartedRun
    from engine.run.orphans import Orphans
    from engine.run.recorder import Recorder
    from engine.run.session_status import StatusReaders
    from engine.run.status import RunStatus
    from engine.run.tail import Batch

__all__ = ["CleanupOutcome", "Engine", "PlannerFactory", "TableView", "build_engine", "run_inline"]

P = ParamSpec("P")
T = TypeVar("T")
PlannerFactory: TypeAlias = "Callable[[ParallelConfig], Planner]"
"""Builds the planner for a (calibrated) config: tests and the app inject one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanupOutcome:
    """What cleanup found, and what it did (None when only listed or declined)."""

    leftovers: tuple[Leftover, ...]
    result: CleanupResult | None
    declined: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OrphansOutcome:
    """What `cleanup --orphans` found, and the recovered run it was journaled as ('' if not)."""

    orphans: Orphans
    run_id: str
    declined: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TableView:
    """`table`'s answer: the rows, and the model that priced them (measured or the seed)."""

    table: OverheadTable
    model: Model


class Engine:
    """One repo's commands. Holds no open journal, tmux or git handle between commands, so an
    app that lives for hours leaks nothing and sees other processes' changes."""

    def __init__(self, repo: Path, config: ParallelConfig, host: Host,
                 planner_factory: PlannerFactory | None = None, clock: Callable[[], float] = time.time,
                 *, inline: bool = False, readers: StatusReaders | None = None) -> None:
        """`host` is the local repo's machine (`attach` replaces the process through it, new
        sessions go on it); `hosts` resolves the host each session journaled (`local` is `host`;
        a remote host registers itself there); `clock` dates what the engine measures; `inline`
        runs blocking work on the caller's thread."""
        self.repo = repo
        self.config = config
        self.host: Host = host
        self.hosts = Hosts(host, config.hosts)
        self.clock = clock
        self.inline = inline
        self._planner_factory = planner_factory or _auto_planner
        self._readers = readers
        self._subscribers: list[rev.Emit] = []
        self._locks: dict[str, int] = {}
        self._locks_guard = threading.Lock()
        self._models: dict[str, Model] = {}
        """The calibrated model per agent, as the last plan (or `split_table`) read it."""

    # -- plumbing -------------------------------------------------------------------------------

    def subscribe(self, emit: rev.Emit) -> Callable[[], None]:
        """Hear every event of every command (a printer, `--jsonl`, the app's bridge); returns
        the function that stops it. Run events reach subscribers only after the journal has them.
        In a threaded (non-inline) engine, subscribers are called from worker threads: a UI hops
        to its own (Textual: `call_from_thread`)."""
        self._subscribers.append(emit)
        return lambda: self._subscribers.remove(emit) if emit in self._subscribers else None

    def _emit(self, event: rev.Event) -> None:
        for emit in tuple(self._subscribers):
            emit(event)

    @contextlib.contextmanager
    def holding(self, run_id: str) -> Iterator[None]:
        """Own the run (its lock) across several commands (start, then follow): no other process
        ever sees it unowned in between. Re-entrant within this Engine; LockedError when another
        process drives the run."""
        key = f"run:{run_id}"
        with self._locks_guard:
            mine = key in self._locks
            self._locks[key] = self._locks.get(key, 0) + 1
        try:
            if mine:
                yield
            else:
                with held(key, f"run {run_id}"):
                    yield
        finally:
            with self._locks_guard:
                self._locks[key] -= 1
                if not self._locks[key]:
                    del self._locks[key]

    def _recorder(self, journal: Journal) -> Recorder:
        from engine.run.recorder import Recorder  # noqa: PLC0415

        return Recorder(journal, [self._emit])

    @property
    def readers(self) -> StatusReaders:
        """The agents' status readers, built on first use (they import Claude's hook parsers)."""
        from engine.run.session_status import default_readers  # noqa: PLC0415
        if self._readers is None:
            self._readers = default_readers()
        return self._readers

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self.inline:
            return fn(*args, **kwargs)
        import asyncio  # noqa: PLC0415

        return await asyncio.to_thread(fn, *args, **kwargs)

    async def _off_loop(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run a pipeline coroutine (analysis in threads, then validation and matching on its
        loop) on a worker thread's own loop, so none of its CPU work lands on the caller's; an
        inline engine runs it on a loop of its own on this thread, so the command never
        suspends (`run_inline` drives every command of the CLI)."""
        import asyncio  # noqa: PLC0415

        if self.inline:
            return asyncio.run(make())
        return await asyncio.to_thread(asyncio.run, make())

    def _config_for(self, agent: str | None = None, *, seed: bool = False) -> ParallelConfig:
        """The config with this repo's measured constants (what `plan` showed and `run` records)."""
        from engine.report.calibration import model_for  # noqa: PLC0415
        return model_for(self.repo, self.config, agent=agent or self.config.default_agent, seed=seed).config

    # -- planning -------------------------------------------------------------------------------

    async def analyze(self, *, use_cache: bool = True) -> RepoProfile:
        """The repo profile, cached per HEAD; the first thing the app shows."""
        from engine.analysis.profile import analyze_repo  # noqa: PLC0415
        return await self._call(analyze_repo, self.repo, self.config, use_cache=use_cache)

    async def plan(self, task: str, options: PlanOptions | None = None, *, seed: bool = False,
                   planner: Planner | str | None = None) -> Plan:
        """Estimate, split, validate and match `task`, with the constants measured on this repo
        (or the spec's with `seed`), so every face shows the same plan for the same task.
        `planner` by name (`auto`, `claude`…) is chosen as `planner_choice` says."""
        from engine.claude.planners import choose_planner  # noqa: PLC0415
        from engine.planning.pipeline import PlanOptions, make_plan  # noqa: PLC0415
        from engine.report.calibration import model_for  # noqa: PLC0415
        model = await self._call(model_for, self.repo, self.config, seed=seed)
        if not seed:
            self._models[model.agent] = model
        chosen = await self._call(choose_planner, planner, model.config) if isinstance(planner, str) else \
            planner if planner is not None else await self._call(self._planner_factory, model.config)
        plan = await self._off_loop(lambda: make_plan(task, self.repo, model.config, chosen,
                                                      options or PlanOptions(), self._emit))
        return dataclasses.replace(plan, model=model.constants)

    async def plan_context(self, task: str, options: PlanOptions | None = None, *,
                           seed: bool = False) -> PlanContext:
        """What a planner is told about `task` here (analysis, overhead, optimum, ranked files,
        conventions, the plan's schema), for a session that drafts the plan itself (`/parallel`)."""
        from engine.planning.pipeline import PlanOptions  # noqa: PLC0415
        from engine.report.calibration import model_for  # noqa: PLC0415
        model = await self._call(model_for, self.repo, self.config, seed=seed)
        return await self._off_loop(lambda: _context(task, self.repo, model.config, options or PlanOptions(),
                                                     self._emit))

    async def validate(self, plan_file_or_subtasks: Path | PlanFile | Sequence[Subtask], *, task: str = "",
                       seed: bool = False, reuse: bool = False, refuse: bool = False,
                       agent: str | None = None, conventions: Conventions | None = None) -> Plan:
        """Re-check an edited plan (a file, a loaded one, or bare subtasks) exactly as `plan` did.
        With `refuse`, any blocking problem (overlap, cycle, over the caps) raises its error: the
        one rule every run start goes through. With `reuse`, the run's own existing branches
        do not count against the caps. Bare subtasks take `task` and `conventions` (the plan's,
        which every session's prompt repeats)."""
        from engine.core.places import BRANCH_PREFIX  # noqa: PLC0415
        from engine.hosts.worktrees import slugify  # noqa: PLC0415
        from engine.planning.pipeline import revalidate  # noqa: PLC0415
        from engine.planning.validation import blocking_error  # noqa: PLC0415
        from engine.report.calibration import model_for  # noqa: PLC0415
        loaded = await self._call(_as_plan_file, plan_file_or_subtasks, task, conventions)
        model = await self._call(model_for, self.repo, self.config, agent=agent or self.config.default_agent,
                                 seed=seed)
        slugs = slugify([s.name for s in loaded.subtasks])
        reused = {BRANCH_PREFIX + slug for slug in slugs} if reuse else set()
        plan = await self._off_loop(lambda: revalidate(loaded, self.repo, model.config, self._emit,
                                                       not_counted=reused))
        plan = dataclasses.replace(plan, model=model.constants)
        if refuse and (error := blocking_error(plan.validation)):
            raise error
        return plan

    @staticmethod
    def quick_subtasks(names_csv: str, prompt: str) -> tuple[str, tuple[Subtask, ...]]:
        """The quick form (`--tasks "api,ui"`): one rule for every face (see planning.quick)."""
        from engine.planning.quick import quick_subtasks  # noqa: PLC0415

        return quick_subtasks(names_csv, prompt)

    @staticmethod
    async def planner_choice(requested: str) -> PlannerChoice:
        """Which planner `requested` means here and now, and why, in words a person reads (it may
        ask `claude auth status`: in a thread, never on a face's loop)."""
        import asyncio  # noqa: PLC0415

        from engine.claude.planners import resolve_planner  # noqa: PLC0415

        return await asyncio.to_thread(resolve_planner, requested)

    @staticmethod
    def agent_choices(first: str) -> tuple[tuple[str, bool], ...]:
        """The agents a face offers, `first` (the chosen one) first, each with whether its
        program is installed (picking a missing one is refused at launch, naming the install)."""
        from engine.agents.descriptors import OFFERED, offered  # noqa: PLC0415

        ready = dict(offered())
        return tuple((name, ready.get(name, True)) for name in dict.fromkeys((first, *OFFERED)))

    def host_choices(self) -> tuple[tuple[str, int], ...]:
        """The hosts a face offers for `hosts=` (name, max_sessions): `local` first, then each
        `[[hosts]]` table. Read from the config only: nothing is connected until a preflight."""
        return tuple((h.name, h.max_sessions)
                     for h in with_local(self.config.hosts, self.config.max_concurrent_sessions))

    def split_table(self, task: str, profile: RepoProfile, *, scope: str, minutes: float | None,
                    files: int | None = None) -> tuple[Estimate, OverheadTable]:
        """The split/savings table for another scope or minutes, priced by the same constants as
        `table` and `plan` (this repo's measured ones, for the default agent): arithmetic, so it
        runs inline; the journal is read once, then again by each `plan`. `files`: how many the
        plan for this task changes, which the auto estimate counts."""
        from engine.planning.estimate import estimate  # noqa: PLC0415
        from engine.planning.overhead import overhead_table  # noqa: PLC0415
        from engine.report.calibration import model_for  # noqa: PLC0415

        agent = self.config.default_agent
        if agent not in self._models:
            self._models[agent] = model_for(self.repo, self.config, agent=agent)
        est = estimate(task or "task", profile.complexity_score, scope=scope, minutes=minutes, files=files)
        table = overhead_table(est.sequential_minutes, self._models[agent].config,
                               repo_max_splits=profile.max_splits, existing_worktrees=len(profile.worktrees))
        return est, table

    async def table(self, minutes: float, *, repo: bool | None = None, seed_model: bool = False) -> TableView:
        """Overhead, total and savings of 1..10 splits of a `minutes`-long sequential task.
        `repo=True` caps the rows by this repo (its max splits and existing worktrees; it must
        resolve), `False` is the pure model, `None` uses the repo only when the engine's path is
        one (the CLI outside a repo). The constants are those measured on this repo's runs,
        unless `seed_model` or there is no repo."""
        return await self._call(self._table, minutes, repo, seed_model)

    def _table(self, minutes: float, use_repo: bool | None, seed_model: bool) -> TableView:
        from engine.analysis.profile import analyze_repo  # noqa: PLC0415
        from engine.hosts.gitcli import has_repo  # noqa: PLC0415
        from engine.planning.estimate import check_minutes  # noqa: PLC0415
        from engine.planning.overhead import MAX_ROWS, overhead_table  # noqa: PLC0415
        from engine.report.calibration import model_for  # noqa: PLC0415

        check_minutes(minutes)
        max_splits, existing, root = MAX_ROWS, 0, None
        if use_repo or (use_repo is None and has_repo(self.repo)):
            root = resolve_repo(self.repo)
            profile = analyze_repo(root, load_config(root))
            max_splits, existing = profile.max_splits, len(profile.worktrees)
        model = model_for(root, load_config(root), seed=seed_model)
        table = overhead_table(minutes, model.config, repo_max_splits=max_splits, existing_worktrees=existing)
        return TableView(table=table, model=model)

    async def install_claude(self, *, force: bool = False) -> InstallReport:
        """Write /parallel, /orchestrate and the specialist agents into the repo's `.claude/`;
        files that exist and differ are kept unless `force`. A repo without commits will do
        (nothing is read from history: `build_engine(..., need_commit=False)`)."""
        from engine.claude.install import install  # noqa: PLC0415

        return await self._call(lambda: install(resolve_repo(self.repo, need_commit=False), force=force))

    # -- running --------------------------------------------------------------------------------

    async def preflight(self, subtasks: Sequence[Subtask], agent: str | None = None, *,
                        reuse: bool = False, task: str = "", hosts: Sequence[str] = ()) -> Preflight:
        """Names, branches and paths a run would create, checked before anything exists (its
        `sessions`, to show before the person confirms). Hand it to `start_run` (`preflight=`)
        with the same subtasks, task, agent and reuse, and the checks run once."""
        from engine.run.orchestrator import preflight  # noqa: PLC0415
        request = self._request(subtasks, task, agent, reuse, hosts)
        return await self._call(preflight, request, self._config_for(agent), self.hosts)

    @staticmethod
    def new_run_id() -> str:
        """A fresh run id, for a face that must name the run before it exists (an interrupt)."""
        from engine.run.orchestrator import new_run_id  # noqa: PLC0415

        return new_run_id()

    async def start_run(  # noqa: PLR0913 - every face asks through `approve`, as merge does
            self, subtasks: Sequence[Subtask], task: str, agent: str | None = None, *,
            reuse: bool = False, checked: Plan | None = None,
            run_id: str | None = None, preflight: Preflight | None = None,
            approve: Approver = approve_all, hosts: Sequence[str] = ()) -> StartedRun | None:
        """Create worktrees, branches and windows and start one agent each. Refuses a plan with
        blocking problems (validated here unless `checked` carries that validation), asks
        `approve` (a `launch` Decision: how many sessions, which agent where, the estimate;
        None, nothing created, when it declines), journals the estimate, and holds the run's
        lock while creating. The preflight runs here unless `preflight` is the one
        `Engine.preflight` returned for this same request. `hosts` names the hosts to place the
        sessions on by free slots (`local` is this machine); none: all here."""
        from engine.planning.validation import blocking_error  # noqa: PLC0415
        plan = checked or await self.validate(tuple(subtasks), task=task, reuse=reuse, refuse=True,
                                              agent=agent)
        if checked is not None and (error := blocking_error(checked.validation)):
            raise error
        request = self._request(subtasks, task, agent, reuse, hosts)
        if not approve(self.launch_decision(request.subtasks, plan, request.agent, hosts=request.hosts)):
            return None
        return await self._call(self._start, request, plan, run_id or self.new_run_id(), preflight)

    def launch_decision(self, subtasks: Sequence[Subtask], checked: Plan | None,
                        agent: str | None = None, *, hosts: Sequence[str] = ()) -> Decision:
        """What `start_run` asks before it creates anything, for a face to show first (with the
        same `hosts` it is started with: the question names them)."""
        from engine.run.asks import launch_decision  # noqa: PLC0415

        where = f"on {', '.join(hosts)} by free slots" if hosts else self.where
        return launch_decision(subtasks, agent or self.config.default_agent, where, checked)

    def _request(self, subtasks: Sequence[Subtask], task: str, agent: str | None, reuse: bool,
                 hosts: Sequence[str] = ()) -> RunRequest:
        from engine.run.orchestrator import RunRequest  # noqa: PLC0415

        return RunRequest(repo=self.repo, task=task, subtasks=tuple(subtasks),
                          agent=agent or self.config.default_agent, reuse=reuse, hosts=tuple(hosts))

    def _start(self, request: RunRequest, plan: Plan, run_id: str, preflight: Preflight | None) -> StartedRun:
        from engine.report.record import record_estimate  # noqa: PLC0415
        from engine.run.orchestrator import start_run  # noqa: PLC0415

        config = self._config_for(request.agent)
        if plan.conventions != request.conventions:  # the prompts repeat the plan's conventions
            same = preflight is not None and preflight.request == request
            request = dataclasses.replace(request, conventions=plan.conventions)
            preflight = dataclasses.replace(preflight, request=request) if same and preflight else None
        with open_journal() as journal, self.holding(run_id):
            record_estimate(journal, run_id, config, plan.estimate, request.subtasks)
            try:
                return start_run(request, config, journal, run_id, self.readers, self._recorder(journal),
                                 checked=preflight, hosts=self.hosts)
            except EngineError as exc:
                raise _half_made(journal, run_id, exc) from None

    async def resume_run(self, run_id: str | None = None) -> StartedRun:
        """Continue an interrupted run from its journal: finish half-made worktrees, launch the
        sessions that never started, leave the rest alone."""
        return await self._call(self._resume, run_id)

    def _resume(self, run_id: str | None) -> StartedRun:
        from engine.run.orchestrator import resume_run  # noqa: PLC0415

        with open_journal() as journal:
            record = _find_run(journal, self.repo, run_id)
            config = load_config(Path(record.repo))
            with self.holding(record.id):
                try:
                    return resume_run(record, config, journal, self.readers, self._recorder(journal),
                                      hosts=self.hosts)
                except EngineError as exc:
                    raise _half_made(journal, record.id, exc) from None

    async def to_resume(self, run_id: str | None = None) -> tuple[RunRecord, list[str]]:
        """The run `resume_run` would continue and the sessions it would start (to confirm first)."""
        def look(journal: Journal) -> tuple[RunRecord, list[str]]:
            run = _find_run(journal, self.repo, run_id)
            return run, [s.name for s in journal.sessions(run.id) if s.phase not in _LEFT_ALONE]
        return await self._call(self._with_journal, look)

    async def run_record(self, run_id: str | None = None) -> RunRecord:
        """The journaled run (the repo's latest when None); UsageError naming the fix otherwise."""
        return await self._call(self._with_journal, lambda j: _find_run(j, self.repo, run_id))

    async def live_run(self) -> str | None:
        """This repo's latest run while any of its sessions still works, or when it was
        interrupted (`RunStatus.live`): the run a face opens on."""
        runs = await self.runs()
        if not runs:
            return None
        status = await self.status(runs[0][0].id)
        return status.run_id if status.live else None

    async def runs(self) -> list[tuple[RunRecord, list[SessionRecord]]]:
        """This repo's runs, newest first, each with its sessions."""
        return await self._call(self._with_journal,
                                lambda j: [(r, j.sessions(r.id)) for r in j.runs(str(self.repo))])

    async def follow(self, run_id: str | None = None, *, poll_s: float | None = None,
                     timeout_s: float | None = None) -> AsyncGenerator[Batch, None]:
        """The run from now until all its sessions have ended, in batches of events (RunFinished
        ends the last): the first batch carries the fold so far, each the run's rows, so a
        client folds them and shows the status with no tmux or git (`engine.run.tail`). With a
        supervisor (config `supervisor`, the default) this reads what it journals, starting it
        again if it is gone while sessions still run; without one, this follows tmux itself
        (the one observer then) and holds the run's lock meanwhile, or, when another process
        holds it, reads what that one journals. Cancelling stops following, nothing else."""
        import asyncio  # noqa: PLC0415

        from engine.run.tail import POLL_S, tail  # noqa: PLC0415

        journal = await asyncio.to_thread(_open_journal)
        try:
            record = await asyncio.to_thread(_find_run, journal, self.repo, run_id)
            if not self.config.supervisor:
                try:
                    with self.holding(record.id):
                        async for batch in self._follow_here(journal, record, poll_s=poll_s or 0.5,
                                                             timeout_s=timeout_s):
                            yield batch
                    return
                except LockedError:
                    pass  # another process follows it and journals what it sees: read that
            async for batch in tail(journal, record, self.hosts, poll_s=poll_s or POLL_S,
                                    timeout_s=timeout_s):
                for event in batch.events:
                    self._emit(event)
                yield batch
        finally:
            await asyncio.to_thread(journal.close)

    async def _follow_here(self, journal: Journal, record: RunRecord, *, poll_s: float,
                           timeout_s: float | None) -> AsyncIterator[Batch]:
        """Follow tmux in this process (no supervisor): the events as it journals them, batched."""
        import asyncio  # noqa: PLC0415

        from engine.run.follow import follow_async  # noqa: PLC0415
        from engine.run.recorder import Recorder  # noqa: PLC0415
        from engine.run.tail import first_batch, next_batch  # noqa: PLC0415

        loop = asyncio.get_running_loop()
        woken = asyncio.Event()

        def push(_event: rev.Event) -> None:  # called from the worker thread
            loop.call_soon_threadsafe(woken.set)

        reader = await asyncio.to_thread(_open_journal)  # its own connection: the follower writes on its
        try:
            batch, after = await asyncio.to_thread(first_batch, reader, record, self.host)
            yield batch
            frame = batch.frame
            recorder = Recorder(journal, [self._emit, push])
            task = asyncio.create_task(follow_async(journal, record, self.readers, recorder,
                                                    poll_s=poll_s, timeout_s=timeout_s, hosts=self.hosts))
            task.add_done_callback(lambda _t: woken.set())
            try:
                while True:
                    await woken.wait()
                    woken.clear()
                    news, after = await asyncio.to_thread(next_batch, reader, record, after, frame)
                    if news is not None:
                        frame = news.frame
                        yield news
                    if task.done():
                        break
                await task
            finally:
                task.cancel()
        finally:
            await asyncio.to_thread(reader.close)

    async def wait(self, run_id: str | None = None) -> RunStatus:
        """Follow the run to its end (subscribers hear each event), then its full status. An
        inline engine follows on an event loop of its own, so the command never suspends."""
        async def follow_then_status() -> RunStatus:
            async for _batch in self.follow(run_id):
                pass
            return await self.status(run_id)
        if self.inline:
            import asyncio  # noqa: PLC0415

            return asyncio.run(follow_then_status())
        return await follow_then_status()

    async def status(self, run_id: str | None = None) -> RunStatus:
        """What every session is doing now: the fold of the supervisor's events and which windows
        exist while it lives, else observed once (journal + tmux + git, nothing written). The
        agents' readers are built only in the second case."""
        def look(journal: Journal) -> RunStatus:
            run = _find_run(journal, self.repo, run_id)
            return _run_status(journal, run, lambda: self.readers, self.hosts)
        return await self._call(self._with_journal, look)

    async def state(self, run_id: str | None = None) -> RunState:
        """The run as its journaled events tell it (the fold): cheap, no tmux or git."""
        return await self._call(self._with_journal,
                                lambda j: _folded(j, _find_run(j, self.repo, run_id)))

    async def send(self, name: str, text: str, raw: bool = False, *, run_id: str | None = None) -> str:
        """Type `text` into a live session (control characters refused unless `raw`); returns
        the session's name."""
        def act(journal: Journal) -> str:
            from engine.run import control  # noqa: PLC0415

            run, record = self._session(journal, name, run_id)
            control.send_text(run, record, text, raw=raw, host=self.hosts.get(record.host))
            return record.name
        return await self._call(self._with_journal, act)

    async def stop(self, name: str, *, run_id: str | None = None,
                   approve: Approver = approve_all) -> str | None:
        """Stop a session's agent once `approve` agrees (a `stop` Decision naming the session):
        Ctrl-C, SIGTERM after a grace time, and wait until its pane is dead, so a following
        cleanup finds nothing running. Returns the session's name; None when it declined."""
        def act(journal: Journal) -> str | None:
            from engine.run import control  # noqa: PLC0415
            run, record = self._session(journal, name, run_id)
            if not approve(self.stop_decision(record.name)):
                return None
            host = self.hosts.get(record.host)
            control.stop_session(journal, run, record, self._recorder(journal), host=host)
            return record.name
        return await self._call(self._with_journal, act)

    @staticmethod
    def stop_decision(name: str) -> Decision:
        """What `stop` asks before it stops the session `name` (its journaled name)."""
        from engine.run.asks import stop_decision  # noqa: PLC0415

        return stop_decision(name)

    async def attach_command(self, name: str, *, run_id: str | None = None) -> list[str]:
        """The argv that attaches a terminal to the session's window (an app suspends and runs it)."""
        def act(journal: Journal) -> list[str]:
            from engine.run import control  # noqa: PLC0415

            run, record = self._session(journal, name, run_id)
            host = self.hosts.get(record.host)
            return _tmux_of(run, host).attach_argv(control.window_of(run, record, host))
        return await self._call(self._with_journal, act)

    @property
    def where(self) -> str:
        """Where the sessions run, in words a question can name ("on this machine")."""
        return "on this machine" if self.host.name == LOCAL_NAME else f"on {self.host.name}"

    async def attach_plan(self, name: str, *, run_id: str | None = None,
                          environ: Mapping[str, str] | None = None) -> AttachPlan:
        """How a face shows the session's window and how the person comes back
        (`engine.run.attach`): a popup inside their tmux, else their terminal handed over."""
        def act(journal: Journal) -> AttachPlan:
            from engine.hosts.on_host import terminal_argv  # noqa: PLC0415
            from engine.run import control  # noqa: PLC0415
            from engine.run.attach import plan_attach  # noqa: PLC0415

            run, record = self._session(journal, name, run_id)
            host = self.hosts.get(record.host)
            tmux = _tmux_of(run, host)
            window = control.window_of(run, record, host)
            argv = terminal_argv(host, tmux.attach_argv(window))  # `ssh -t host tmux attach` there
            server = run.tmux_server if host is self.host else f"{record.host}:{tmux.socket_name}"
            return plan_attach(argv, window, server, record.name,
                               environ=os.environ if environ is None else environ, host=self.host)
        return await self._call(self._with_journal, act)

    async def show_window(self, plan: AttachPlan) -> str:
        """Run a popup or switch plan off the caller's loop (a popup blocks until it closes);
        why it failed, or empty."""
        from engine.run.attach import run_plan  # noqa: PLC0415

        return await self._call(run_plan, plan, self.host)

    def hand_over(self, plan: AttachPlan) -> str:
        """Run a plan that takes the terminal (`takes_terminal`) until the person detaches: this
        process's terminal is tmux's meanwhile (a face suspends itself first, and this blocks
        its caller on purpose). Why it failed (tmux's own words), or empty."""
        from engine.run.attach import hand_over  # noqa: PLC0415

        return hand_over(plan, self.host)

    async def window(self, name: str, *, run_id: str | None = None) -> tuple[RunRecord, str]:
        """The run and window id of a session (the CLI's `attach` needs both to pick its argv)."""
        def act(journal: Journal) -> tuple[RunRecord, str]:
            from engine.run import control  # noqa: PLC0415

            run, record = self._session(journal, name, run_id)
            return run, control.window_of(run, record, self.hosts.get(record.host))
        return await self._call(self._with_journal, act)

    async def pane_text(self, name: str, *, run_id: str | None = None, lines: int = 200) -> str:
        """The last `lines` rows of a session's pane, for a face that previews it (an app never
        talks to tmux itself)."""
        def act(journal: Journal) -> str:
            from engine.run import control  # noqa: PLC0415

            run, record = self._session(journal, name, run_id)
            host = self.hosts.get(record.host)
            return _tmux_of(run, host).pane_text(control.window_of(run, record, host), lines)
        return await self._call(self._with_journal, act)

    async def diff(self, name: str, *, run_id: str | None = None) -> str:
        """A session's branch against the run's base (stat, then the patch), as `git diff
        base...branch` shows it: only the session's own changes, whatever moved on the base."""
        def act(journal: Journal) -> str:
            from engine.hosts.gitcli import git  # noqa: PLC0415

            run, record = self._session(journal, name, run_id)
            span = f"{run.base_sha}...{record.branch}"
            text = git(Path(run.repo), "diff", "--stat", span) + "\n" + git(Path(run.repo), "diff", span)
            return text.strip("\n") or "no changes against the base yet"
        return await self._call(self._with_journal, act)

    async def file_diffs(self, name: str, *, run_id: str | None = None) -> tuple[FileDiff, ...]:
        """The same span as `diff`, one (path, before, after) per file: a face draws them
        side by side without running git."""
        def act(journal: Journal) -> tuple[FileDiff, ...]:
            from engine.run.diffs import file_diffs  # noqa: PLC0415

            run, record = self._session(journal, name, run_id)
            return file_diffs(Path(run.repo), run.base_sha, record.branch)
        return await self._call(self._with_journal, act)

    async def allow_passthrough(self) -> bool:
        """Let this process's own tmux pane pass terminal escapes through (desktop
        notifications): `set -p` on `$TMUX_PANE` only, never a global option. False outside
        tmux, or when tmux refused (older than 3.3)."""
        from engine.hosts.tmux_sessions import allow_passthrough  # noqa: PLC0415

        return await self._call(allow_passthrough, self.host)

    def _session(self, journal: Journal, name: str, run_id: str | None) -> tuple[RunRecord, SessionRecord]:
        from engine.run import control  # noqa: PLC0415

        run = _find_run(journal, self.repo, run_id)
        return run, control.find_session(journal, run, name)

    @staticmethod
    def _with_journal(act: Callable[[Journal], T]) -> T:
        """Open the journal for one command only (a long-lived app never holds it)."""
        with open_journal() as journal:
            return act(journal)

    # -- after the run --------------------------------------------------------------------------

    async def cleanup(self, run_id: str | None = None, *, force: bool = False, dry_run: bool = False,
                      approve: Approver = approve_all) -> CleanupOutcome:
        """Remove what runs left (the named run, else every run of the repo with something left),
        keeping unmerged work. `approve` sees the plan first (a `cleanup` Decision, its subject
        the leftovers); a dry run only lists it. With nothing left, the journal alone learns the
        sessions are gone (unless a live process owns the run)."""
        return await self._call(self._cleanup, run_id, force, dry_run, approve)

    def _cleanup(self, run_id: str | None, force: bool, dry_run: bool, approve: Approver) -> CleanupOutcome:
        from engine.run.cleanup import (  # noqa: PLC0415
            apply_cleanup,
            find_leftovers,
            leftover_lines,
            runs_to_clean,
        )
        from engine.run.scratch import prune_scratch  # noqa: PLC0415

        if not run_id:
            prune_scratch(self.repo)  # what killed verifies left: nobody's work
        with open_journal() as journal:
            runs = runs_to_clean(journal, self.repo, run_id, self.hosts)
            leftovers = find_leftovers(journal, runs, force, self.hosts)
            if dry_run or not leftovers:
                if not dry_run:
                    with contextlib.suppress(LockedError):  # a live orchestrator still owns it
                        apply_cleanup(journal, runs, [], hosts=self.hosts)
                return CleanupOutcome(leftovers=tuple(leftovers), result=None)
            decision = Decision(action="cleanup", question=f"Clean up {len(leftovers)} item(s)",
                                detail=leftover_lines(leftovers), subject=tuple(leftovers))
            if not approve(decision):
                return CleanupOutcome(leftovers=tuple(leftovers), result=None, declined=True)
            _stop_supervisors(runs, leftovers, self.host)
            result = apply_cleanup(journal, runs, leftovers, self._recorder(journal), force=force,
                                   hosts=self.hosts)
            return CleanupOutcome(leftovers=tuple(leftovers), result=result)

    async def orphans(self, approve: Approver | None = None) -> OrphansOutcome:
        """Worktrees, branches and windows of this tool no journaled run knows (a lost journal's);
        once `approve` agrees (an `adopt` Decision, its subject the Orphans), journaled as one
        stopped "recovered" run that `cleanup` and `merge` treat like any other. Without
        `approve`, only listed."""
        return await self._call(self._orphans, approve)

    def _orphans(self, approve: Approver | None) -> OrphansOutcome:
        from engine.run.orchestrator import new_run_id  # noqa: PLC0415
        from engine.run.orphans import adopt, find_orphans  # noqa: PLC0415

        with open_journal() as journal, held(f"repo:{self.repo}", f"repo {self.repo}"):
            found = find_orphans(journal, self.repo, self.config, self.host)
            question = f"Adopt {len(found.found)} orphan(s) into a recovered run"
            if not found.found or approve is None or \
                    not approve(Decision(action="adopt", question=question, detail=question, subject=found)):
                return OrphansOutcome(orphans=found, run_id="", declined=bool(found.found and approve))
            run = adopt(journal, found, self.config, new_run_id())
            return OrphansOutcome(orphans=found, run_id=run.id)

    async def check(self, which: Which | None = None) -> Checked:
        """The conflict matrix of a run's (or the named) branches against the target."""
        from engine.merge.checked import Which, run_check  # noqa: PLC0415 - not merge.flow: `check` stays light
        def check(journal: Journal) -> Checked:
            self._fetch_home(journal, which)
            return run_check(self.repo, journal, which or Which(), self.host)
        return await self._call(self._with_journal, check)

    async def merge(self, which: Which | None = None, *, verify: str | None = None, dry_run: bool = False,
                    approve: Approver = approve_all) -> MergeSummary | None:
        """Check, refuse what must not merge, ask `approve` (a `merge` Decision, its detail the
        preview), merge atomically (verify command defaults to the configured test command);
        None when it declined. Subscribers hear each stage (`events.MergeProgress`, then
        MergeBuilt and MergeMoved) as it happens."""
        def confirm(text: str) -> bool:
            return approve(Decision(action="merge", question=text, detail=text))

        from engine.merge.flow import MergeOptions, Which, run_merge  # noqa: PLC0415
        options = MergeOptions(verify=self.config.test_command if verify is None else verify, dry_run=dry_run)
        def merge(journal: Journal) -> MergeSummary | None:
            self._fetch_home(journal, which)
            return run_merge(self.repo, self.config, journal, which or Which(), options, confirm=confirm,
                             emit=self._emit, hosts=self.hosts)
        return await self._call(self._with_journal, merge)

    @staticmethod
    def refusal(checked: Checked) -> Refusal | None:
        """Why `merge` and `open_prs` would refuse these checked branches (None: they may ask):
        the rule they apply, for a face that says so before anyone asks."""
        from engine.merge.flow import refusal  # noqa: PLC0415

        return refusal(checked)

    @staticmethod
    def merge_preview(checked: Checked, verify: str) -> str:
        """What `merge` on these checked branches would move: the text its confirmation asks."""
        from engine.merge.flow import preview  # noqa: PLC0415

        return preview(checked, verify)

    def pr_preview(self, checked: Checked) -> str:
        """What `open_prs` on these checked branches would push and each PR's base: the text its
        confirmation asks, so a face shows the engine's words (and its approver can compare them)."""
        from engine.merge.prs import preview_prs  # noqa: PLC0415

        return preview_prs(checked.report, checked.selection.depends)

    async def open_prs(self, which: Which | None = None, *, approve: Approver = approve_all
                       ) -> tuple[Checked, tuple[OpenedPr, ...]] | None:
        """Check, refuse what must not go out, ask `approve` (a `prs` Decision, its detail what
        would be pushed), push and open one pull request per branch; None when it declined."""
        from engine.merge.flow import Which, run_prs  # noqa: PLC0415

        def confirm(text: str) -> bool:
            return approve(Decision(action="prs", question=text, detail=text))

        def prs(journal: Journal) -> tuple[Checked, tuple[OpenedPr, ...]] | None:
            self._fetch_home(journal, which)
            return run_prs(self.repo, journal, which or Which(), confirm=confirm, host=self.host)
        return await self._call(self._with_journal, prs)

    async def fetch_home(self, run_id: str | None = None) -> list[rev.BranchFetched]:
        """Bring the branches of the run's sessions on SSH hosts into this repo (`parallel/<slug>`)."""
        from engine.merge.checked import Which  # noqa: PLC0415

        return await self._call(self._with_journal, lambda j: self._fetch_home(j, Which(run_id=run_id)))

    def _fetch_home(self, journal: Journal, which: Which | None) -> list[rev.BranchFetched]:
        """Check, merge and PRs read a run's branches here: those of its sessions on SSH hosts
        are fetched first (nothing happens for a run with none, or when no run is named or found)."""
        run_id = which.run_id if which is not None else None
        names = which.names if which is not None else ()
        runs = journal.runs(str(self.repo))
        run = next((r for r in runs if r.id == run_id), None) if run_id else (None if names else
                                                                                 next(iter(runs), None))
        if run is None or all(s.host in ("", LOCAL_NAME) for s in journal.sessions(run.id)):
            return []
        from engine.run.fetch_back import fetch_run  # noqa: PLC0415 - SSH hosts only

        return fetch_run(journal, run, self.hosts, self._recorder(journal))

    async def resolve(self, name: str, which: Which | None = None) -> ResolveStarted:
        """Hand a conflicting branch's hunks to its own agent: the target-so-far merged into its
        worktree with markers, and the agent told both sides' intent."""
        from engine.merge.flow import Which  # noqa: PLC0415
        from engine.merge.resolve import start_resolve  # noqa: PLC0415

        return await self._call(self._with_journal, lambda j: start_resolve(
            self.repo, self.config, j, which or Which(), name, self.hosts))

    async def left_behind(self, run_id: str) -> dict[str, int] | None:
        """How many windows, worktrees and branches an interrupted run left (None: the run was
        never journaled, so nothing exists): what a face tells the person before "resume or clean"."""
        from engine.run.cleanup import left_behind  # noqa: PLC0415

        def count(journal: Journal) -> dict[str, int] | None:
            record = journal.run(run_id)
            return None if record is None else left_behind(journal, record, self.hosts)
        return await self._call(self._with_journal, count)

    async def report(self, run_id: str | None = None) -> RunReport:
        """Predicted against measured for a run (the repo's latest by default)."""
        from engine.report.efficiency import run_report  # noqa: PLC0415
        return await self._call(self._with_journal,
                                lambda j: run_report(j, _find_run(j, self.repo, run_id), self.hosts,
                                                     now=self.clock()))

    async def history(self) -> tuple[HistoryLine, ...]:
        """One line per past run of this repo, newest first."""
        from engine.report.history import history  # noqa: PLC0415
        return await self._call(self._with_journal, lambda j: history(j, str(self.repo), self.hosts))


def build_engine(repo: Path, *, planner: str = "auto", agent: str | None = None, model: str | None = None,
                 inline: bool = False, resolve: bool = True, need_commit: bool = True) -> Engine:
    """The one way the CLI, the app and tests get an Engine: the repo resolved to its root, its
    config loaded, the planner chosen by name (`engine.claude.planners.resolve_planner`).
    `agent` overrides the config's default agent; `resolve=False` keeps a path that need not be
    a repo (commands that name a run id); `need_commit=False` takes a repo without commits
    (`install_claude`). The composition root: where the local repo's host is chosen (`LOCAL`,
    this machine); the Engine hands it, and the hosts registry it builds, to every command."""
    root = resolve_repo(repo, need_commit=need_commit) if resolve else repo
    config = load_config(root)
    if agent:
        config = dataclasses.replace(config, default_agent=agent)

    def factory(cfg: ParallelConfig) -> Planner:
        from engine.claude.planners import choose_planner  # noqa: PLC0415

        return choose_planner(planner, cfg, model=model)

    return Engine(root, config, LOCAL, planner_factory=factory, inline=inline)


def run_inline(command: Coroutine[Any, Any, T]) -> T:
    """The one way a CLI verb calls its (inline) Engine: the command runs to its end on this
    thread. An inline engine's command never suspends (those that need a loop, planning and
    `wait`, run one of their own), so no verb needs to know which do, and Ctrl-C interrupts
    the work itself."""
    try:
        command.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    command.close()
    raise RuntimeError("an inline engine command suspended; run it with asyncio.run instead")


_LEFT_ALONE = ("started", "stopped", "cleaned")
"""Phases `resume_run` leaves as they are."""


async def _context(task: str, repo: Path, config: ParallelConfig, options: PlanOptions,
                   emit: rev.Emit) -> PlanContext:
    import asyncio  # noqa: PLC0415

    from engine.claude.context import build_context  # noqa: PLC0415
    from engine.claude.prompt import rank_candidates  # noqa: PLC0415
    from engine.planning.pipeline import plan_request  # noqa: PLC0415
    request, _ = await plan_request(task, repo, config, options, emit)
    return build_context(request, await asyncio.to_thread(rank_candidates, request))


def _as_plan_file(source: Path | PlanFile | Sequence[Subtask], task: str,
                  conventions: Conventions | None = None) -> PlanFile:
    from engine.core.models import Conventions  # noqa: PLC0415
    from engine.planning.plan_file import PlanFile, load_plan_file  # noqa: PLC0415

    if isinstance(source, Path):
        return load_plan_file(source)
    if isinstance(source, PlanFile):
        return source
    return PlanFile(task=task, subtasks=tuple(source), estimate=None, repo_root=None, warnings=(),
                    conventions=conventions or Conventions())


def _stop_supervisors(runs: Sequence[RunRecord], leftovers: Sequence[Leftover], host: Host) -> None:
    """Cleanup needs the run's lock its supervisor holds. A run whose every window goes needs no
    supervisor: stop it (it journals RunFinished: `gone`, not `killed`). One that keeps a live
    agent's window stays supervised, so cleanup is refused as for any run being driven."""
    from engine.run import supervision  # noqa: PLC0415

    for run in runs:
        if not supervision.alive(_tmux_of(run, host), run.id):
            continue
        if any(i.run_id == run.id and i.kind == "window" and i.action == "keep" for i in leftovers):
            raise LockedError(f"run {run.id} is being driven by another parallel-tui (its supervisor)",
                              hint="stop its sessions first (`parallel-tui stop NAME`), or pass --force")
        supervision.stop(run, host)


def _open_journal() -> Journal:
    journal = Journal()
    journal.migrate()
    return journal


def _half_made(journal: Journal, run_id: str, exc: EngineError) -> EngineError:
    """The same error, its hint naming the run to continue or clean up once anything exists."""
    if journal.run(run_id) is None:
        return exc
    return type(exc)(exc.problem, hint=f"{exc.hint}; then `parallel-tui run --resume {run_id}` continues "
                                       f"the run, or `parallel-tui cleanup --run {run_id}` removes it")


def _folded(journal: Journal, run: RunRecord) -> RunState:
    from engine.run.fold import recorded  # noqa: PLC0415 - the journal's imports stay off cheap paths

    return recorded(journal, run)


def _auto_planner(config: ParallelConfig) -> Planner:
    """`auto`, as `engine.claude.planners.resolve_planner` decides (imported only when planning)."""
    from engine.claude.planners import choose_planner  # noqa: PLC0415

    return choose_planner("auto", config)


def _find_run(journal: Journal, repo: Path, run_id: str | None) -> RunRecord:
    from engine.run.lookup import find_run  # noqa: PLC0415

    return find_run(journal, repo, run_id)


def _run_status(journal: Journal, run: RunRecord, readers: Callable[[], StatusReaders],
                hosts: Hosts) -> RunStatus:
    from engine.run.status import run_status  # noqa: PLC0415

    return run_status(journal, run, readers, hosts)


def _tmux_of(run: RunRecord, host: Host) -> Tmux:
    from engine.run.lookup import tmux_of  # noqa: PLC0415

    return tmux_of(run, host)
