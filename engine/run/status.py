"""`status`: what every session of a run is doing, observed once.

While the run's supervisor lives (a process holds the run's lock) it is the only observer:
`status` is the fold of its events plus a liveness overlay (the lock, and one `list-panes`
for which windows exist), with no git and no other tmux call. When no supervisor lives
(crashed, the machine rebooted, `supervisor = false`), `status` observes the sessions itself,
once (`engine.run.observe`), writes nothing, and says so (`observed_by = "status"`); whatever
drives the run next (the app, `run --wait`, `run --resume`) starts the supervisor again, and
its first look journals the corrections as events. docs/architecture.md, "Observed once".
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from engine.core.events import OrchestratorState
from engine.core.models import SessionState
from engine.hosts.host import Host
from engine.hosts.registry import Hosts
from engine.hosts.tmux_sessions import PaneFacts, Tmux
from engine.run.boundary import boundary_warnings
from engine.run.fold import RunState, SessionView, recorded
from engine.run.journal import CREATING, Journal, RunRecord, SessionRecord
from engine.run.lock import is_held
from engine.run.lookup import pane_for, run_host, tmux_of
from engine.run.session_status import Observed, StatusReaders
from engine.run.verdicts import before_launch, elapsed, iso, problems, skill_of, window_gone, with_block
from engine.run.views import ENDED_STATES, RefusedEdit, RunStatus, SessionStatus
from engine.run.waves import never_launched

__all__ = ["ENDED_STATES", "RefusedEdit", "RunStatus", "SessionStatus", "folded_status", "orchestrator_state",
           "recorded", "run_status", "supervised"]


def supervised(run: RunRecord) -> bool:
    """A live process observes the run and journals what it sees: its supervisor (or the `run`
    creating it, or a `run --wait` following it without one) holds the run's lock."""
    return is_held(f"run:{run.id}")


def run_status(journal: Journal, run: RunRecord,
               readers: StatusReaders | Callable[[], StatusReaders], hosts: Hosts) -> RunStatus:
    """The run now: folded while supervised, else observed once (see the module docstring);
    `readers` (or what makes them: they import Claude's parsers) only serve the second. The
    windows, files and git are read on the host the run's sessions journaled."""
    tmux = tmux_of(run, run_host(journal.sessions(run.id), hosts))
    if supervised(run):
        return with_shell(folded_status(journal, run, tmux.panes(), tmux), run)
    from engine.run.observe import observed_status  # noqa: PLC0415 - git and Claude's parsers: only then

    panes = tmux.panes()
    readers = readers if isinstance(readers, StatusReaders) else readers()
    return with_shell(observed_status(journal, run, readers, panes, tmux,
                                      orchestrator_state(journal, run, panes, tmux)), run)


def with_shell(status: RunStatus, run: RunRecord) -> RunStatus:
    """What contains the agents' shell, from today's config and PATH (they launch the sessions the
    run still starts); a broken config is reported by the verbs that use it, read here as `on`."""
    from engine.core.config import load_config  # noqa: PLC0415 - only the note needs the config
    from engine.core.errors import EngineError  # noqa: PLC0415
    from engine.core.sandbox import plan_sandbox  # noqa: PLC0415

    try:
        mode = load_config(Path(run.repo)).sandbox
    except EngineError:
        mode = "on"
    shell = plan_sandbox(mode, run.agent)
    return dataclasses.replace(status, sandbox=shell.note, sandboxed=shell.shell == "sandboxed")


def orchestrator_state(journal: Journal, run: RunRecord, panes: dict[str, PaneFacts] | None = None,
                       tmux: Tmux | None = None) -> OrchestratorState:
    """`running` (a process holds the run's lock: its supervisor, or the `run` creating it; or
    the supervisor's window is alive and about to take it), `interrupted` (stopped while
    creating: some session never got its agent), `killed` (its follower died without a
    RunFinished: kill -9), or `gone` (the supervisor exited normally, or none was started)."""
    if supervised(run):
        return "running"
    if panes is not None and never_launched(journal, run, panes):
        return "interrupted"
    if tmux is not None and tmux.supervises(run.id):
        return "running"
    return "killed" if recorded(journal, run).killed else "gone"


def folded_status(journal: Journal, run: RunRecord, panes: dict[str, PaneFacts], tmux: Tmux,
                  orchestrator: OrchestratorState = "running") -> RunStatus:
    """The fold of the run's events, with `panes` (one `list-panes`) saying which windows exist."""
    state = recorded(journal, run)
    records = journal.sessions(run.id)
    sessions = [_folded_session(journal, run, r, state, pane_for(r, panes), orchestrator, tmux.host)
                for r in records]
    overlaps = boundary_warnings({s.name: s.changed_files for s in sessions},
                                 {s.name: s.owned for s in records})
    phases = {r.name: r.phase for r in records}
    sessions = [with_block(s, phases.get(s.name, ""), state) for s in sessions]
    return RunStatus(run_id=run.id, repo=run.repo, base_sha=run.base_sha, base_ref=run.base_ref,
                     tmux_session=run.tmux_session, attach=tmux.attach_hint(), orchestrator=orchestrator,
                     sessions=tuple(sessions), overlaps=overlaps, conflicts=state.conflicts,
                     observed_by="supervisor")


def _folded_session(journal: Journal, run: RunRecord, record: SessionRecord, state: RunState,
                    pane: PaneFacts | None, orchestrator: OrchestratorState, host: Host) -> SessionStatus:
    view = state.session(record.name) or SessionView(name=record.name)
    seen, problem = _folded_state(journal, run, record, view, pane, state, orchestrator)
    cleaned = record.phase == "cleaned"
    refused = tuple(RefusedEdit(path=r.path, at=r.at, decision=r.decision) for r in view.refused)
    deletion = view.branch_warning if view.commits else ""
    problem = problems(problem, "" if cleaned else view.worktree_problem, deletion, refused, view.stop_reason)
    ended, now = record.ended_at or view.ended_at, time.time()
    return SessionStatus(
        name=record.name, slug=record.slug, branch=record.branch, worktree=record.worktree,
        agent=record.agent, window=record.window_id, state=seen.state, source=seen.source,
        detail=seen.detail, problem=problem, elapsed_s=elapsed(record, ended, now),
        commits=view.commits, files_changed=len(view.changed_files), changed_files=view.changed_files,
        cost_usd=seen.cost_usd, tokens=view.tokens,
        rate_limit_pct=view.rate_limit_pct, output_at=view.output_at if pane else 0.0,
        last_line=view.last_line if pane else "",
        interrupted=seen.detail == "interrupted" and seen.source == "journal",
        deletes_most_files=bool(deletion), refused_edits=refused, **skill_of(record, host),
        started_at=iso(record.started_at), ended_at=iso(ended), has_window=pane is not None, cleaned=cleaned)


def _folded_state(journal: Journal, run: RunRecord, record: SessionRecord, view: SessionView,
                  pane: PaneFacts | None, state: RunState,
                  orchestrator: OrchestratorState) -> tuple[Observed, str]:
    """The session's state by the same rules as an observation (`observe_session`), its
    signals taken from the supervisor's events and its window's existence from the overlay."""
    if record.phase == "launch_failed":
        return Observed(state=SessionState.FAILED, source="journal", detail="launch failed"), ""
    if record.phase in CREATING and pane is None:
        return before_launch(journal, run, record, orchestrator, state, observe_git=False)
    final_state = record.final_state or (view.ended.value if view.ended else "")
    if pane is None:
        gone = Observed(state=SessionState.UNKNOWN, source="none", detail="tmux window is gone",
                        cost_usd=view.cost_usd)
        return window_gone(record, gone, final_state)
    if view.state is None:
        return Observed(state=SessionState.STARTING, source="none", cost_usd=view.cost_usd), ""
    return Observed(state=view.state, source=view.source, detail=view.detail, cost_usd=view.cost_usd), ""
