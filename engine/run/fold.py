"""A run's state as its events tell it: `state = reduce(state, event)`, the one read model.

Why a fold: the journal's events table is the one stream every face reads (a live
subscriber, the app re-opened an hour later, `status` after a `kill -9`). Folding the same
events gives the same answer everywhere, and cheaply: no tmux or git call. While the run's
supervisor lives it is the only observer, and every fact `status` shows is one of its events
(docs/architecture.md, "Observed once"); `status` adds only a liveness overlay on top.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from engine.core import events as rev
from engine.core.states import SessionState
from engine.run.journal import Journal, RunRecord


class Stage(StrEnum):
    """How far a session got, by the events alone."""

    PLANNED = "planned"
    WORKTREE = "worktree"
    STARTED = "started"
    LAUNCH_FAILED = "launch_failed"
    STOPPED = "stopped"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusalView:
    path: str
    at: float
    decision: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionView:
    name: str
    stage: Stage = Stage.PLANNED
    state: SessionState | None = None
    """The last state the follower saw (None before any observation)."""
    source: str = ""
    """Which signal decided it (pane, hook, stream, pane_text, journal, none)."""
    detail: str = ""
    window: str = ""
    agent: str = ""
    worktree: str = ""
    branch: str = ""
    error: str = ""
    commits: int = 0
    """Progress as last journaled (SessionProgress): commits since the base, …"""
    changed_files: tuple[str, ...] = ()
    """… the files it changed (committed or not), …"""
    cost_usd: float | None = None
    last_line: str = ""
    """… its cost and its pane's last line, …"""
    ended: SessionState | None = None
    """The state it ended in for good (SessionEnded), …"""
    ended_at: float = 0.0
    """… and when (Unix time)."""
    window_closed: str = ""
    """Why its window is gone (WindowClosed), '' while it has one."""
    branch_warning: str = ""
    """Its branch deletes most tracked files (BranchFlagged)."""
    worktree_problem: str = ""
    """What is wrong with its worktree (WorktreeGone)."""
    refused: tuple[RefusalView, ...] = ()
    """Edits the ownership hook refused, oldest first (EditRefused)."""
    stop_reason: str = ""
    """Why the tool stopped it (SessionStopped), '' when the user did."""
    tokens: int | None = None
    rate_limit_pct: float | None = None
    output_at: float = 0.0
    """… its tokens, rate-limit use and when its pane last printed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveConflict:
    sessions: tuple[str, ...]
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunState:
    run_id: str
    sessions: tuple[SessionView, ...] = ()
    followed: bool = False
    """A follower began (RunFollowed) …"""
    finished: bool = False
    """… and ended normally (RunFinished); followed and not finished = killed while following."""
    removed: tuple[str, ...] = ()
    """Leftovers cleanup removed, as `kind target`."""
    merged: tuple[str, ...] = ()
    """Targets a merge moved."""
    events: int = 0
    conflicts: tuple[LiveConflict, ...] = ()
    """Pairs of sessions whose live work conflicts now (the overlap radar), with the files."""

    def session(self, name: str) -> SessionView | None:
        """The session named `name`, if any event named it."""
        return next((s for s in self.sessions if s.name == name), None)

    @property
    def counts(self) -> dict[str, int]:
        """Sessions per state (`''` = not observed yet): the app's header, `status`'s summary."""
        return dict(Counter(s.state.value if s.state else "" for s in self.sessions))

    @property
    def killed(self) -> bool:
        """Stopped while following: no RunFinished after the last RunFollowed."""
        return self.followed and not self.finished


def reduce(state: RunState, event: rev.RunEvent) -> RunState:
    """The state after `event`; events of another run leave it unchanged."""
    if event.run_id != state.run_id:
        return state
    state = dataclasses.replace(state, events=state.events + 1)
    if isinstance(event, rev.RunFollowed | rev.RunFinished | rev.LeftoverRemoved | rev.MergeMoved):
        return _run_level(state, event)
    if isinstance(event, rev.OverlapConflict | rev.SessionBlocked | rev.SessionProgress):
        return _live(state, event)
    if isinstance(event, rev.SessionEnded | rev.WindowClosed | rev.BranchFlagged | rev.WorktreeGone
                  | rev.EditRefused):
        return _observed(state, event)
    return _lifecycle(state, event)


def _lifecycle(state: RunState, event: rev.RunEvent) -> RunState:
    """A session's way from planned to started (or failed, or stopped), and what it is doing."""
    match event:
        case rev.RunStarted():
            known = {s.name for s in state.sessions}
            added = tuple(SessionView(name=n) for n in event.sessions if n not in known)
            return dataclasses.replace(state, sessions=state.sessions + added)
        case rev.WorktreeCreated():
            return _session(state, event.name, stage=Stage.WORKTREE, worktree=event.path, branch=event.branch)
        case rev.SessionStarted():
            return _session(state, event.name, stage=Stage.STARTED, window=event.window, agent=event.agent,
                            window_closed="", ended=None, ended_at=0.0)
        case rev.SessionLaunchFailed():
            return _session(state, event.name, stage=Stage.LAUNCH_FAILED, state=SessionState.FAILED,
                            error=event.error)
        case rev.SessionStateChanged():
            return _session(state, event.name, state=_state(event.new), source=event.source,
                            detail=event.detail)
        case rev.SessionStopped():
            return _session(state, event.name, stage=Stage.STOPPED, stop_reason=event.reason)
        case _:
            return state


def _run_level(state: RunState,
               event: rev.RunFollowed | rev.RunFinished | rev.LeftoverRemoved | rev.MergeMoved) -> RunState:
    match event:
        case rev.RunFollowed():
            return dataclasses.replace(state, followed=True, finished=False)
        case rev.RunFinished():
            return dataclasses.replace(state, finished=True)
        case rev.LeftoverRemoved():
            return dataclasses.replace(state, removed=(*state.removed, f"{event.what} {event.target}"))
        case rev.MergeMoved():
            return dataclasses.replace(state, merged=(*state.merged, event.target))


def _live(state: RunState,
          event: rev.OverlapConflict | rev.SessionBlocked | rev.SessionProgress) -> RunState:
    """What the follower sees while sessions run: progress, the radar's pairs (a pair with no
    files merges cleanly again: dropped) and blocked sessions (their `error` says why, as a
    wave that could not start)."""
    if isinstance(event, rev.SessionProgress):
        return _session(state, event.name, commits=event.commits, changed_files=event.changed_files,
                        cost_usd=event.cost_usd, last_line=event.last_line, tokens=event.tokens,
                        rate_limit_pct=event.rate_limit_pct, output_at=event.output_at)
    if isinstance(event, rev.SessionBlocked):
        return _session(state, event.name, error=f"blocked: {event.reason}")
    kept = tuple(c for c in state.conflicts if c.sessions != event.sessions)
    if event.files:
        kept += (LiveConflict(sessions=event.sessions, files=event.files),)
    return dataclasses.replace(state, conflicts=kept)


def _observed(state: RunState, event: rev.SessionEnded | rev.WindowClosed | rev.BranchFlagged
              | rev.WorktreeGone | rev.EditRefused) -> RunState:
    """Facts the supervisor observed about one session, each journaled once as it saw it."""
    match event:
        case rev.SessionEnded():
            return _session(state, event.name, ended=_state(event.state), ended_at=event.at)
        case rev.WindowClosed():
            return _session(state, event.name, window_closed=event.detail)
        case rev.BranchFlagged():
            return _session(state, event.name, branch_warning=event.warning)
        case rev.WorktreeGone():
            return _session(state, event.name, worktree_problem=event.problem)
        case rev.EditRefused():
            view = state.session(event.name)
            refused = (*(view.refused if view else ()),
                       RefusalView(path=event.path, at=event.at, decision=event.decision))
            return _session(state, event.name, refused=refused)


def _state(value: str) -> SessionState:
    """A journaled state value; one this version does not know reads as unknown, never fatal."""
    try:
        return SessionState(value)
    except ValueError:
        return SessionState.UNKNOWN


def _session(run: RunState, name: str, **changes: object) -> RunState:
    if run.session(name) is None:
        return dataclasses.replace(run, sessions=(*run.sessions, SessionView(name=name, **changes)))  # type: ignore[arg-type]
    sessions = tuple(dataclasses.replace(s, **changes) if s.name == name else s  # type: ignore[arg-type]
                     for s in run.sessions)
    return dataclasses.replace(run, sessions=sessions)


def fold(run_id: str, events: Iterable[rev.RunEvent], start: RunState | None = None) -> RunState:
    """Reduce `events` from `start` (an empty run by default)."""
    state = start or RunState(run_id=run_id)
    for event in events:
        state = reduce(state, event)
    return state


def journaled(rows: Iterable[tuple[float, str, dict[str, object]]]) -> list[rev.RunEvent]:
    """The journal's event rows (`Journal.events`) as events; unknown kinds are skipped."""
    return [e for _at, kind, payload in rows if (e := rev.run_event(kind, payload)) is not None]


def recorded(journal: Journal, run: RunRecord) -> RunState:
    """The fold of the run's events, read thinned (`Journal.events_to_fold`): the same state
    as folding every event, without the thousands of SessionProgress a long run journals."""
    rows, left_out = journal.events_to_fold(run.id)
    state = fold(run.id, journaled(rows))
    return dataclasses.replace(state, events=state.events + left_out)
