"""The run's dependency policy, in one place: when a session is complete for its dependents,
what a session still waits for, and which sessions the next wave starts or blocks.

Why its own module: the rule used to live in three (a module-global dict in the supervisor,
`start_ready` in the orchestrator, `complete` in status), so the supervisor and the
orchestrator imported each other. Here it decides; the orchestrator acts (`start_wave`), and
the supervisor wires the two together.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.core import events as rev
from engine.core.errors import EngineError, GitError
from engine.core.states import SessionState
from engine.hosts.gitcli import git
from engine.hosts.tmux_sessions import PaneFacts
from engine.run.fold import RunState, SessionView, recorded
from engine.run.journal import CREATING, WAVE_PHASES, Journal, RunRecord, SessionRecord
from engine.run.lock import LockedError
from engine.run.lookup import pane_for

RETRY_WAVE_S = 30.0
"""How long a wave that could not start waits before the supervisor tries it again."""


def complete(run: RunRecord, record: SessionRecord, state: SessionState | None) -> bool:
    """Done for its dependents: its process exited 0, or (interactive agents never exit) it
    reported idle with a clean worktree and at least one commit since the run's base. The
    observer's rule (git in the worktree): the supervisor decides waves by it."""
    if record.final_state == SessionState.DONE.value:
        return True
    if state is not SessionState.IDLE or record.phase != "started":
        return False
    try:
        dirty = git(Path(record.worktree), "--no-optional-locks", "status", "--porcelain").strip()
        commits = int(git(Path(record.worktree), "rev-list", "--count", f"{run.base_sha}..HEAD").strip() or 0)
    except (GitError, ValueError):
        return False
    return not dirty and commits >= 1


def complete_in(record: SessionRecord, view: SessionView | None) -> bool:
    """`complete` as the supervisor's events tell it (no git): ended done, or idle with a commit
    (whether its worktree is clean is the supervisor's to judge when it starts the wave)."""
    if record.final_state == SessionState.DONE.value:
        return True
    if view is None:
        return False
    idle = view.state is SessionState.IDLE and view.commits >= 1 and record.phase == "started"
    return view.ended is SessionState.DONE or idle


def pending_dependencies(journal: Journal, run: RunRecord, record: SessionRecord,
                         state: RunState | None = None, *, observe: bool = True) -> tuple[str, ...]:
    """The dependencies of `record` that are not complete, whatever its own phase; by the
    observer's rule (`observe`) or by the fold's alone."""
    if not record.depends_on:
        return ()
    rows = journal.sessions(run.id)
    state = state or recorded(journal, run)
    if not observe:
        return _pending_in(rows, record, state)
    records = {r.name: r for r in rows}

    def done(name: str) -> bool:
        view = state.session(name)
        return complete(run, records[name], view.state if view else None)
    return tuple(name for name in record.depends_on if name in records and not done(name))


def _pending_in(rows: Sequence[SessionRecord], record: SessionRecord, state: RunState) -> tuple[str, ...]:
    records = {r.name: r for r in rows}
    return tuple(name for name in record.depends_on
                 if name in records and not complete_in(records[name], state.session(name)))


def waiting_in(rows: Sequence[SessionRecord], record: SessionRecord, state: RunState) -> tuple[str, ...]:
    """`waits_for` by the fold's rule alone, over the run's rows: no journal read, no git (what
    `status` and the app's bridge show while the supervisor decides the waves)."""
    if record.phase != "planned" or not record.depends_on:
        return ()
    return _pending_in(rows, record, state)


def waits_for(journal: Journal, run: RunRecord, record: SessionRecord, state: RunState | None = None,
              *, observe: bool = True) -> tuple[str, ...]:
    """The dependencies a session not yet created still waits for (() once it may start, or
    when it was created: a run without a supervisor starts every session at once)."""
    if record.phase != "planned":
        return ()
    return pending_dependencies(journal, run, record, state, observe=observe)


def never_launched(journal: Journal, run: RunRecord, panes: dict[str, PaneFacts],
                   state: RunState | None = None, *, observe: bool = True) -> bool:
    """Some session that is not waiting for its dependencies never got its agent: its creator
    stopped (`run --resume` continues it)."""
    return any(s.phase in CREATING and pane_for(s, panes) is None
               and not waits_for(journal, run, s, state, observe=observe)
               for s in journal.sessions(run.id))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Wave:
    """The next wave: sessions whose dependencies completed, and those blocked for good (a
    dependency ended without completing), each with why."""

    ready: tuple[str, ...] = ()
    blocked: tuple[tuple[str, str], ...] = ()


def next_wave(journal: Journal, run: RunRecord) -> Wave:
    """Which dependent sessions still to create may start now, and which never will."""
    ready: list[str] = []
    blocked: list[tuple[str, str]] = []
    records = journal.sessions(run.id)
    state = recorded(journal, run)
    for record in records:
        if record.phase not in WAVE_PHASES or not record.depends_on:
            continue
        if deps := pending_dependencies(journal, run, record, state):
            ended = [d for d in deps if any(r.name == d and r.final_state for r in records)]
            if ended:
                blocked.append((record.name, f"its dependency {', '.join(ended)} ended without completing"))
            continue
        ready.append(record.name)
    return Wave(ready=tuple(ready), blocked=tuple(blocked))


def retry_wave_s() -> float:
    """RETRY_WAVE_S, or PARALLEL_TUI_RETRY_WAVE_S (tests; the supervisor is another process)."""
    try:
        return float(os.environ.get("PARALLEL_TUI_RETRY_WAVE_S", RETRY_WAVE_S))
    except ValueError:
        return RETRY_WAVE_S


StartWave = Callable[[Wave], object]
"""Acts on a wave (the orchestrator's `start_wave`): may raise EngineError, LockedError."""


@dataclasses.dataclass(slots=True)
class Waves:
    """The supervisor's wave driver, called each tick. A merge conflict is recorded on the
    session by the orchestrator; any other failure (worktree, branch, agent) is journaled once
    per reason as SessionBlocked on each session it kept from starting, and tried again after
    RETRY_WAVE_S, never every tick. Nothing here may stop the following."""

    journal: Journal
    run: RunRecord
    emit: rev.EmitRun
    start: StartWave
    retry_at: float = 0.0
    told: dict[str, str] = dataclasses.field(default_factory=dict)
    """Session → the reason already journaled (each reason once)."""

    def __call__(self) -> None:
        journal, run = self.journal, self.run
        if time.monotonic() < self.retry_at or not any(
                s.phase in WAVE_PHASES and s.depends_on for s in journal.sessions(run.id)):
            return
        try:
            wave = next_wave(journal, run)
            if wave.ready or wave.blocked:
                self.start(wave)
        except LockedError:
            return  # another run of the repo is being created: next tick
        except EngineError as exc:
            self.retry_at = time.monotonic() + retry_wave_s()
            self._tell(" ".join(f"{exc.problem} — {exc.hint}".split()))
            return
        self.retry_at = 0.0

    def _tell(self, reason: str) -> None:
        journal, run = self.journal, self.run
        for record in journal.sessions(run.id):
            if record.depends_on and record.phase in WAVE_PHASES \
                    and not waits_for(journal, run, record) and self.told.get(record.name) != reason:
                self.told[record.name] = reason
                self.emit(rev.SessionBlocked(run_id=run.id, name=record.name, reason=reason))
