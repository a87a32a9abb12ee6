"""The rules both ways of building a status apply, so they cannot disagree: what a session
not yet launched is doing, what a gone window means, how problems read, when it ended.

Light on purpose: `status` imports this (and the fold) while a supervisor observes, and the
observer's readers (Claude's hook parsers, git) only when none does (`engine.run.observe`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from engine.agents.prompt import skill_use
from engine.core.events import OrchestratorState
from engine.core.states import SessionState
from engine.hosts.host import Host
from engine.run.fold import RunState
from engine.run.journal import SessionRecord
from engine.run.session_status import Observed
from engine.run.snapshot_read import elapsed_s
from engine.run.views import RefusedEdit, SessionStatus

WINDOW_CLOSED = "tmux window is gone (closed after the session ended)"
WINDOW_KILLED = "tmux window is gone (killed by hand, or the tmux server stopped)"


def with_block(status: SessionStatus, phase: str, told: RunState) -> SessionStatus:
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



def before_launch(record: SessionRecord, orchestrator: OrchestratorState,
                  waiting: tuple[str, ...]) -> tuple[Observed, str]:
    """A session created but without its window yet: waiting for its dependencies (`waiting`,
    by the caller's rule: observed, or the fold's), starting (its creator is alive) or
    interrupted (its creator stopped)."""
    if waiting:
        detail = "waiting for " + ", ".join(waiting)
        return Observed(state=SessionState.WAITING, source="journal", detail=detail), ""
    if orchestrator == "running":
        return Observed(state=SessionState.STARTING, source="journal"), ""
    return (Observed(state=SessionState.UNKNOWN, source="journal", detail="interrupted"),
            f"interrupted before its agent started: `parallel-tui run --resume {record.run_id}` "
            f"continues it, `parallel-tui cleanup --run {record.run_id}` removes it")



def window_gone(record: SessionRecord, seen: Observed, final_state: str) -> tuple[Observed, str]:
    """A session whose window is gone: cleaned up, closed after it ended, or killed."""
    if record.phase == "cleaned":
        state = SessionState(final_state) if final_state else SessionState.UNKNOWN
        return Observed(state=state, source="journal", detail="cleaned up"), ""
    if final_state:
        return Observed(state=SessionState(final_state), source="journal", detail=seen.detail), WINDOW_CLOSED
    return seen, WINDOW_KILLED



def problems(problem: str, trouble: str, deletion: str, refused: tuple[RefusedEdit, ...], stray: str) -> str:
    """What is wrong with a session, worst first, as one line."""
    refusals = (f"refused {len(refused)} edit(s) outside its files (last: {refused[-1].path})"
                if refused else "")
    return "; ".join(p for p in (problem, trouble, deletion, refusals, stray) if p)



def elapsed(record: SessionRecord, ended: float, now: float) -> float:
    return elapsed_s(record.started_at, ended, now)



def iso(at: float) -> str:
    """Unix time as ISO 8601 UTC to the second; "" for 0 (not yet)."""
    return datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="seconds") if at else ""



def skill_of(record: SessionRecord, host: Host) -> dict[str, str]:
    """The skill its prompt file names (a file the run wrote at launch on the session's `host`,
    not an observation)."""
    try:
        text = host.read_bytes(Path(record.prompt_file)).decode("utf-8", errors="replace")
    except OSError:
        return {}
    skill, how = skill_use(text)
    return {"skill": skill, "skill_use": how}
