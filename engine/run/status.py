"""What every session of a run is doing, rebuilt from journal + tmux + git each time.

Nothing here trusts an orchestrator to be alive: `status` after a `kill -9` reads the
same three sources and says what happened (window gone, worktree deleted, launch never
finished). A terminal state, once seen, is written back to the journal so it survives
the window being closed later. `follow` is the `--wait` loop (and the supervisor's): one
`list-panes` per tick, git only for a session whose pane printed or whose index or HEAD moved
(`engine.run.progress`), so idle polling stays cheap.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from engine.agents.prompt import skill_use
from engine.claude.statusline import Usage, read_usage, usage_file_for
from engine.core import events as rev
from engine.core.config import load_config
from engine.core.errors import EngineError, GitError, UsageError
from engine.core.events import OrchestratorState
from engine.core.models import SessionState
from engine.hosts.gitcli import git
from engine.run.boundary import BoundaryWarning, boundary_warnings
from engine.run.branch_guard import mass_deletion
from engine.run.enforce import enforce, stray_reason
from engine.run.fold import LiveConflict, RunState, fold, journaled
from engine.run.journal import CREATING, Journal, RunRecord, SessionRecord
from engine.run.lock import is_held
from engine.run.recorder import recorder_for
from engine.run.session_status import (
    STALL_AFTER_S,
    TERMINAL,
    Observed,
    SessionFiles,
    StatusReaders,
    observe,
)
from engine.run.tmux_sessions import PaneFacts, Tmux
from engine.run.worktrees import GitActivity, activity, checkout_complete

if TYPE_CHECKING:
    from engine.run.progress import ProgressWatch
    from engine.run.refusals import RefusalWatch


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStatus:
    name: str
    slug: str
    branch: str
    worktree: str
    agent: str
    window: str
    state: SessionState
    source: str
    detail: str
    problem: str
    elapsed_s: float
    commits: int
    files_changed: int
    changed_files: tuple[str, ...]
    cost_usd: float | None
    last_line: str
    interrupted: bool = False
    """The run stopped before this session's agent started (`run --resume` continues it)."""
    deletes_most_files: bool = False
    """Its branch deletes most of the base's tracked files (see `engine.run.branch_guard`)."""
    refused_edits: tuple[RefusedEdit, ...] = ()
    """Edits outside its files that the ownership hook refused (Claude Code), oldest first."""
    skill: str = ""
    """The skill matched to its subtask (`/sc:implement --focus security`), if any."""
    skill_use: str = ""
    """`invoked` (its prompt runs the skill's Claude Code command) or `described` (the prompt
    states the skill's intent in words: no such command for this agent)."""
    started_at: str = ""
    """When its agent started, ISO 8601 UTC ("" before it started)."""
    ended_at: str = ""
    """When its agent ended, ISO 8601 UTC ("" while it runs)."""
    has_window: bool = False
    """Its tmux window exists now: attach, send and stop need it."""
    cleaned: bool = False
    """Cleanup removed its window and worktree (after a merge, its branch too)."""
    blocked: str = ""
    """Why it could not be started as its wave came ("" unless blocked): its dependencies'
    merge conflicts, its worktree could not be made, … (the journal's event says)."""
    tokens: int | None = None
    """Tokens so far, where the agent tells (interactive Claude Code's statusline)."""
    rate_limit_pct: float | None = None
    """A subscription login's rate-limit use in % (then the board shows it, not a cost)."""
    output_at: float = 0.0
    """Unix time its pane last printed (0: unknown): the board's "quiet for" column."""
    host: str = "local"
    """Where its worktree, window and agent live (ARCHITECTURE §9; only `local` so far)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusedEdit:
    path: str
    at: float
    """Unix time the hook refused it."""
    decision: str = "deny"
    """deny | ask (the user was asked) | warn (let through, flagged)"""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStatus:
    run_id: str
    repo: str
    base_sha: str
    base_ref: str
    tmux_session: str
    attach: str
    orchestrator: OrchestratorState
    """The run's supervisor: `running` while it (or the `run` creating the sessions) is alive;
    `interrupted` when creation stopped before every session started; `killed` when the
    follower died (kill -9) before the sessions ended; `gone` once it exited normally."""
    sessions: tuple[SessionStatus, ...]
    overlaps: tuple[BoundaryWarning, ...]
    conflicts: tuple[LiveConflict, ...] = ()
    """Pairs whose live work conflicts now (the supervisor's overlap radar), with the files."""


def find_run(journal: Journal, repo: Path, run_id: str | None) -> RunRecord:
    """The named run, or this repo's latest; UsageError naming the fix otherwise."""
    if run_id:
        run = journal.run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id!r} in the journal",
                             hint="list them with `parallel-tui status --list`")
        return run
    runs = journal.runs(str(repo))
    if not runs:
        raise UsageError(f"no runs for {repo}", hint="start one with `parallel-tui run`")
    return runs[0]


def tmux_of(run: RunRecord) -> Tmux:
    """The run's own server, by the socket path journaled when it started (`$TMUX` included)."""
    return Tmux(run.tmux_socket, run.tmux_session, run.tmux_server)


def configured(readers: StatusReaders, run: RunRecord) -> StatusReaders:
    """The readers with the repo's `stall_after_s`, unless the caller chose one."""
    if readers.stall_after_s != STALL_AFTER_S:
        return readers
    try:
        stall = load_config(Path(run.repo)).stall_after_s
    except EngineError:
        return readers  # a broken config is reported by the verbs that use it, not by status
    return dataclasses.replace(readers, stall_after_s=stall)


def run_status(journal: Journal, run: RunRecord, readers: StatusReaders) -> RunStatus:
    readers = configured(readers, run)
    tmux = tmux_of(run)
    panes = tmux.panes()
    orchestrator = orchestrator_state(journal, run, panes, tmux)
    sessions = [_session_status(journal, run, s, panes, tmux, readers, orchestrator)
                for s in journal.sessions(run.id)]
    overlaps = boundary_warnings({s.name: s.changed_files for s in sessions},
                                 {s.name: s.owned for s in journal.sessions(run.id)})
    told = recorded(journal, run)
    phases = {r.name: r.phase for r in journal.sessions(run.id)}
    sessions = [_with_block(s, phases.get(s.name, ""), told) for s in sessions]
    return RunStatus(run_id=run.id, repo=run.repo, base_sha=run.base_sha, base_ref=run.base_ref,
                     tmux_session=run.tmux_session, attach=tmux.attach_hint(), orchestrator=orchestrator,
                     sessions=tuple(sessions), overlaps=overlaps, conflicts=told.conflicts)


def _with_block(status: SessionStatus, phase: str, told: RunState) -> SessionStatus:
    """A session that never started because its wave could not start it says why (the
    journal's SessionBlocked, or a launch failure that blocked it); one still retried by the
    supervisor shows as waiting, not starting."""
    view = told.session(status.name)
    if view is None or not view.error.startswith("blocked: ") or phase in ("started", "stopped", "cleaned"):
        return status
    why = view.error.removeprefix("blocked: ")
    state = SessionState.WAITING if status.state is SessionState.STARTING else status.state
    return dataclasses.replace(status, state=state, blocked=why, detail=view.error,
                               problem="; ".join(p for p in (view.error, status.problem) if p))


def recorded(journal: Journal, run: RunRecord) -> RunState:
    """The fold of the run's events, read thinned (`Journal.events_to_fold`): the same state
    as folding every event, without the thousands of SessionProgress a long run journals."""
    rows, left_out = journal.events_to_fold(run.id)
    state = fold(run.id, journaled(rows))
    return dataclasses.replace(state, events=state.events + left_out)


def orchestrator_state(journal: Journal, run: RunRecord, panes: dict[str, PaneFacts] | None = None,
                       tmux: Tmux | None = None) -> OrchestratorState:
    """`running` (a process holds the run's lock: its supervisor, or the `run` creating it; or
    the supervisor's window is alive and about to take it), `interrupted` (stopped while
    creating: some session never got its agent), `killed` (its follower died without a
    RunFinished: kill -9), or `gone` (the supervisor exited normally, or none was started)."""
    if is_held(f"run:{run.id}"):
        return "running"
    if panes is not None and never_launched(journal, run, panes):
        return "interrupted"
    if tmux is not None and tmux.supervises(run.id):
        return "running"
    return "killed" if recorded(journal, run).killed else "gone"


def complete(run: RunRecord, record: SessionRecord, state: str) -> bool:
    """Done for its dependents: its process exited 0, or (interactive agents never exit) it
    reported idle with a clean worktree and at least one commit since the run's base."""
    if record.final_state == SessionState.DONE.value:
        return True
    if state != SessionState.IDLE.value or record.phase != "started":
        return False
    try:
        dirty = git(Path(record.worktree), "--no-optional-locks", "status", "--porcelain").strip()
        commits = int(git(Path(record.worktree), "rev-list", "--count", f"{run.base_sha}..HEAD").strip() or 0)
    except (GitError, ValueError):
        return False
    return not dirty and commits >= 1


def waits_for(journal: Journal, run: RunRecord, record: SessionRecord) -> tuple[str, ...]:
    """The dependencies a session not yet created still waits for (() once it may start, or
    when it was created: a run without a supervisor starts every session at once)."""
    if record.phase != "planned":
        return ()
    return pending_dependencies(journal, run, record)


def pending_dependencies(journal: Journal, run: RunRecord, record: SessionRecord) -> tuple[str, ...]:
    """The dependencies of `record` that are not complete, whatever its own phase."""
    if not record.depends_on:
        return ()
    records = {r.name: r for r in journal.sessions(run.id)}
    state = recorded(journal, run)
    return tuple(name for name in record.depends_on if name in records
                 and not complete(run, records[name], (view.state if (view := state.session(name)) else "")))


def never_launched(journal: Journal, run: RunRecord, panes: dict[str, PaneFacts]) -> bool:
    """Some session that is not waiting for its dependencies never got its agent: its creator
    stopped (`run --resume` continues it)."""
    return any(s.phase in CREATING and pane_for(s, panes) is None and not waits_for(journal, run, s)
               for s in journal.sessions(run.id))


def pane_for(record: SessionRecord, panes: dict[str, PaneFacts]) -> PaneFacts | None:
    """By window id and name (a new tmux server reuses ids); by name alone when the id never
    made it into the journal (killed right after `new-window`). A session owns no window
    before it is launched, nor after it was cleaned up."""
    if record.phase in ("planned", "registered", "worktree", "cleaned"):
        return None  # no window of its own yet (an old one of the same name is another run's)
    if record.window_id:
        pane = panes.get(record.window_id)
        return pane if pane is not None and pane.window_name == record.window_name else None
    return next((p for p in panes.values() if p.window_name == record.window_name), None)


def is_final(seen: Observed, pane: PaneFacts) -> bool:
    """Ended for good: the pane is dead, or a result line says so. A hook's `failed` on a
    live pane is not final: interactive Claude stays open after an API error and may go on."""
    return seen.state in TERMINAL and (pane.dead or seen.source != "hook")


def exit_file(record: SessionRecord) -> Path:
    """`<state>/runs/<run>/<slug>.exit`, next to the prompt file (see run_engine._launch)."""
    return Path(record.prompt_file).with_suffix(".exit")


def observe_session(journal: Journal, record: SessionRecord, panes: dict[str, PaneFacts], tmux: Tmux,
                    readers: StatusReaders, orchestrator: OrchestratorState) -> tuple[Observed, str]:
    """The session's state and any problem worth telling; persists terminal states."""
    now = time.time()
    if record.phase == "launch_failed":
        return Observed(state=SessionState.FAILED, source="journal", detail="launch failed"), ""
    if record.phase in CREATING and pane_for(record, panes) is None:
        run = journal.run(record.run_id)
        if run is not None and (deps := waits_for(journal, run, record)):
            return Observed(state=SessionState.WAITING, source="journal",
                            detail="waiting for " + ", ".join(deps)), ""
        if orchestrator == "running":
            return Observed(state=SessionState.STARTING, source="journal"), ""
        return (Observed(state=SessionState.UNKNOWN, source="journal", detail="interrupted"),
                f"interrupted before its agent started: `parallel-tui run --resume {record.run_id}` "
                f"continues it, `parallel-tui cleanup --run {record.run_id}` removes it")
    pane = pane_for(record, panes)
    if pane is not None and pane.dead and pane.exit_status is None and not pane.signal \
            and not exit_file(record).exists():
        pane = tmux.settled(pane.window_id)  # tmux shows pane_dead a moment before its status
    files = SessionFiles(agent=record.agent, hook_file=Path(record.hook_file),
                         stream_file=Path(record.stream_file), exit_file=exit_file(record),
                         started_at=record.started_at, worktree=Path(record.worktree))
    seen = observe(pane, files, lambda: tmux.pane_text(pane.window_id) if pane else "", readers, now)
    if pane is None:
        return _window_gone(record, seen)
    if record.phase == "stopped" and pane.dead:
        why = stray_reason(Path(record.hook_file)) or "stopped by user"
        seen = Observed(state=SessionState.EXITED, source="journal", detail=why,
                        cost_usd=seen.cost_usd, agent_session_id=seen.agent_session_id)
    _persist(journal, record, seen, pane)
    return seen, ""


def _window_gone(record: SessionRecord, seen: Observed) -> tuple[Observed, str]:
    if record.phase == "cleaned":
        state = SessionState(record.final_state) if record.final_state else SessionState.UNKNOWN
        return Observed(state=state, source="journal", detail="cleaned up"), ""
    if record.final_state:
        return (Observed(state=SessionState(record.final_state), source="journal", detail=seen.detail),
                "tmux window is gone (closed after the session ended)")
    return seen, "tmux window is gone (killed by hand, or the tmux server stopped)"


def _persist(journal: Journal, record: SessionRecord, seen: Observed, pane: PaneFacts) -> None:
    if is_final(seen, pane) and not record.final_state:
        now = time.time()  # pane_dead_time has whole seconds: bound the end by the next one
        ended = min(now, pane.dead_at + 1.0) if pane.dead_at else now
        journal.update_session(record.run_id, record.slug, final_state=seen.state.value,
                               ended_at=max(ended, record.started_at))
    if seen.agent_session_id and not record.agent_session_id:
        journal.update_session(record.run_id, record.slug, agent_session_id=seen.agent_session_id)


def _session_status(journal: Journal, run: RunRecord, record: SessionRecord, panes: dict[str, PaneFacts],
                    tmux: Tmux, readers: StatusReaders, orchestrator: OrchestratorState) -> SessionStatus:
    seen, problem = observe_session(journal, record, panes, tmux, readers, orchestrator)
    pane = pane_for(record, panes)
    progress, trouble = _progress(run, record)
    deletion = mass_deletion(Path(run.repo), run.base_sha, f"refs/heads/{record.branch}") \
        if progress.commits else None
    refused = tuple(RefusedEdit(path=r.path, at=r.at, decision=r.decision)
                    for r in readers.read_refused(Path(record.hook_file)))
    refusals = f"refused {len(refused)} edit(s) outside its files (last: {refused[-1].path})" \
        if refused else ""
    stray = stray_reason(Path(record.hook_file))
    problem = "; ".join(p for p in (problem, trouble, deletion.warning() if deletion else "", refusals, stray)
                        if p)
    ended = _ended_at(journal, record, pane)
    start = record.started_at
    usage = _usage(record, seen.cost_usd)
    return SessionStatus(
        name=record.name, slug=record.slug, branch=record.branch, worktree=record.worktree,
        agent=record.agent, window=record.window_id, state=seen.state, source=seen.source,
        detail=seen.detail, problem=problem,
        elapsed_s=round(max((ended or time.time()) - start, 0.0), 1) if start else 0.0,
        commits=progress.commits, files_changed=len(progress.files_changed),
        changed_files=progress.files_changed, cost_usd=usage.cost_usd if usage else seen.cost_usd,
        tokens=usage.tokens if usage else None, rate_limit_pct=usage.rate_limit_pct if usage else None,
        last_line=tmux.last_line(pane.window_id) if pane else "", output_at=pane.activity_at if pane else 0.0,
        interrupted=seen.detail == "interrupted" and seen.source == "journal",
        deletes_most_files=deletion is not None, refused_edits=refused, **_skill_of(record),
        started_at=_iso(start), ended_at=_iso(ended), has_window=pane is not None,
        cleaned=record.phase == "cleaned")


def _usage(record: SessionRecord, cost_usd: float | None) -> Usage | None:
    """The statusline's usage (interactive Claude Code), its cost replaced by the headless
    result's when there is one; None when the agent reports none."""
    usage = read_usage(usage_file_for(Path(record.hook_file))) if record.hook_file else None
    if usage is None or cost_usd is None:
        return usage
    return dataclasses.replace(usage, cost_usd=cost_usd)


def _iso(at: float) -> str:
    """Unix time as ISO 8601 UTC to the second; "" for 0 (not yet)."""
    return datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="seconds") if at else ""


def _skill_of(record: SessionRecord) -> dict[str, str]:
    try:
        text = Path(record.prompt_file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    skill, how = skill_use(text)
    return {"skill": skill, "skill_use": how}


def _progress(run: RunRecord, record: SessionRecord) -> tuple[GitActivity, str]:
    """Commits and changed files, and what is wrong with the worktree. A half-made worktree
    (never checked out) has changed nothing: only its branch counts."""
    worktree = Path(record.worktree)
    progress = activity(worktree, run.base_sha) if record.phase != "cleaned" else None
    if progress is not None:
        return progress, ""
    trouble = ""
    if record.phase not in ("planned", "cleaned") and not worktree.exists():
        trouble = "worktree was deleted (by hand?)"
    elif record.phase != "cleaned" and worktree.exists() and not checkout_complete(worktree):
        trouble = "its worktree was never fully checked out"
    return _branch_activity(Path(run.repo), record.branch, run.base_sha), trouble


def _ended_at(journal: Journal, record: SessionRecord, pane: PaneFacts | None) -> float:
    """When the session ended as journaled (bounded by tmux's whole-second death time)."""
    fresh = next((s for s in journal.sessions(record.run_id) if s.slug == record.slug), record)
    if fresh.ended_at or pane is None or not pane.dead:
        return fresh.ended_at
    return min(time.time(), pane.dead_at + 1.0) if pane.dead_at else time.time()


def _branch_activity(repo: Path, branch: str, base_sha: str) -> GitActivity:
    """Progress from the branch alone (its worktree is gone); zero if the branch is too."""
    try:
        commits = int(git(repo, "rev-list", "--count", f"{base_sha}..refs/heads/{branch}").strip() or 0)
        files = git(repo, "diff", "--name-only", "-z", base_sha, f"refs/heads/{branch}").split("\0")
    except GitError:
        return GitActivity(commits=0, files_changed=())
    return GitActivity(commits=commits, files_changed=tuple(sorted(f for f in files if f)))


ENFORCE_EVERY_S = 2.0
"""How often following checks worktrees for stray changes (`engine.run.enforce`): git per
session, so not on every tick, and only after a pane printed or an index or HEAD moved
(or SAFETY_S passed)."""


def follow(journal: Journal, run: RunRecord, readers: StatusReaders, emit: rev.EmitRun = rev.ignore,
           poll_s: float = 0.5, timeout_s: float | None = None) -> RunStatus | None:
    """`follow_async` for a caller without an event loop (Ctrl-C stops following, nothing else)."""
    import asyncio  # noqa: PLC0415 - ~20 ms that `status` (polled often) never needs

    return asyncio.run(follow_async(journal, run, readers, emit, poll_s=poll_s, timeout_s=timeout_s))


async def follow_async(journal: Journal, run: RunRecord, readers: StatusReaders,
                       emit: rev.EmitRun = rev.ignore, *, poll_s: float = 0.5,
                       timeout_s: float | None = None,
                       advance: Callable[[], object] | None = None) -> RunStatus | None:
    """Follow until every session has ended (or its window is gone); emit each state change, and
    stop `ownership = deny` sessions that change another's files (every ENFORCE_EVERY_S).

    Each tick reads tmux (one `list-panes`) and the agents' hook/stream files in a worker
    thread; between ticks the loop sleeps with `asyncio.sleep`, so an app's loop stays free.
    Returns the full status (git included) at the end; None when `timeout_s` ran out first.
    `advance` runs before each tick (the supervisor starts sessions whose dependencies completed).
    Cancelled, it journals no RunFinished: the run reads as `killed` while following.
    """
    import asyncio  # noqa: PLC0415 - see `follow`

    from engine.run.progress import SAFETY_S, ProgressWatch  # noqa: PLC0415 — only followers need it
    from engine.run.refusals import RefusalWatch  # noqa: PLC0415

    tmux, readers = tmux_of(run), configured(readers, run)
    looking = _Looking(tmux=tmux, watch=ProgressWatch(run.base_sha, tmux),
                       refusals=RefusalWatch(journal, readers.read_refused))
    last = looking.last
    recorder = recorder_for(journal, emit)
    await asyncio.to_thread(recorder, rev.RunFollowed(run_id=run.id))
    started = time.monotonic()
    finished_all = False
    enforced = 0.0
    while timeout_s is None or time.monotonic() - started < timeout_s:
        since = time.monotonic() - enforced
        enforce_now = since >= ENFORCE_EVERY_S and (looking.watch.moved or since >= SAFETY_S)
        if enforce_now:  # sessions that sat still since the last look cannot have strayed
            enforced, looking.watch.moved = time.monotonic(), False
        if advance is not None:  # the supervisor starts the next wave here
            await asyncio.to_thread(advance)
        if await asyncio.to_thread(_tick, journal, run, readers, looking, recorder, enforce_now):
            finished_all = True
            break
        await asyncio.sleep(poll_s)
    seconds = time.monotonic() - started
    finished = rev.RunFinished(run_id=run.id, seconds=seconds, states={k: v.value for k, v in last.items()})
    await asyncio.to_thread(_finish, journal, run, finished, recorder)
    return await asyncio.to_thread(run_status, journal, run, readers) if finished_all else None


@dataclass(slots=True, kw_only=True)
class _Looking:
    """What following keeps between ticks: the run's tmux, each session's last state, the
    progress watch (`engine.run.progress`) that journals commits, files, cost and last line,
    and the refusal watch (`engine.run.refusals`) that journals the ownership hook's refusals."""

    tmux: Tmux
    watch: ProgressWatch
    refusals: RefusalWatch
    last: dict[str, SessionState] = dataclasses.field(default_factory=dict)


def _tick(journal: Journal, run: RunRecord, readers: StatusReaders, looking: _Looking,
          emit: rev.EmitRun, enforce_now: bool) -> bool:
    """One look at every session (blocking: run it off the loop); True when all have ended.
    With `enforce_now`, first stop sessions that strayed (`engine.run.enforce`: git per session)."""
    tmux, last = looking.tmux, looking.last
    panes = tmux.panes()
    if enforce_now and enforce(journal, run, panes, emit):
        panes = tmux.panes()
    ended = 0
    for record in journal.sessions(run.id):
        seen, problem = observe_session(journal, record, panes, tmux, readers, "running")
        _note_change(journal, record, seen, last, emit)
        pane = pane_for(record, panes)
        looking.watch(record, pane, seen.cost_usd, emit, time.time())
        looking.refusals(record, emit)
        final = is_final(seen, pane) if pane else seen.state in TERMINAL
        ended += final or bool(problem) or record.phase == "cleaned"
    return ended == len(last)


def _finish(journal: Journal, run: RunRecord, finished: rev.RunFinished, emit: rev.EmitRun) -> None:
    journal.timing(run.id, "", "run", finished.seconds)
    emit(finished)


def _note_change(journal: Journal, record: SessionRecord, seen: Observed,
                 last: dict[str, SessionState], emit: rev.EmitRun) -> None:
    old = last.get(record.slug)
    if old == seen.state:
        return
    last[record.slug] = seen.state
    waiting = old is None or old in (SessionState.STARTING, SessionState.UNKNOWN)
    if waiting and record.started_at and not record.first_activity_at \
            and seen.state != SessionState.STARTING:
        now = time.time()
        journal.update_session(record.run_id, record.slug, first_activity_at=now)
        journal.timing(record.run_id, record.slug, "first_activity", now - record.started_at)
    event = rev.SessionStateChanged(run_id=record.run_id, name=record.name, old=old.value if old else "",
                                    new=seen.state.value, source=seen.source, detail=seen.detail)
    emit(event)
