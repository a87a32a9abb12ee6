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
from dataclasses import dataclass
from pathlib import Path

from engine.core.events import OrchestratorState
from engine.core.states import SessionState
from engine.hosts.host import Host
from engine.hosts.registry import LOCAL_NAME, Hosts
from engine.hosts.tmux_sessions import PaneFacts, Tmux
from engine.run.boundary import boundary_warnings
from engine.run.fold import RunState, SessionView, Stage, recorded
from engine.run.journal import CREATING, Journal, RunRecord, SessionRecord
from engine.run.lock import is_held
from engine.run.lookup import NO_WINDOW_YET, Sites, pane_for, tmux_of
from engine.run.session_status import Observed, StatusReaders
from engine.run.verdicts import before_launch, elapsed, iso, problems, skill_of, window_gone, with_block
from engine.run.views import ENDED_STATES, RefusedEdit, RunStatus, SessionStatus
from engine.run.waves import never_launched, waiting_in

__all__ = ["ENDED_STATES", "Frame", "RefusedEdit", "RunStatus", "SessionStatus", "ended_at",
           "folded_status", "frame_of", "orchestrator_state", "recorded", "run_status", "status_of",
           "supervised", "windows_told"]


def supervised(run: RunRecord) -> bool:
    """A live process observes the run and journals what it sees: its supervisor (or the `run`
    creating it, or a `run --wait` following it without one) holds the run's lock."""
    return is_held(f"run:{run.id}")


def run_status(journal: Journal, run: RunRecord,
               readers: StatusReaders | Callable[[], StatusReaders], hosts: Hosts) -> RunStatus:
    """The run now: folded while supervised, else observed once (see the module docstring);
    `readers` (or what makes them: they import Claude's parsers) only serve the second. The
    windows, files and git are read on the host the run's sessions journaled."""
    tmux = tmux_of(run, hosts.local)
    if supervised(run):  # an SSH host's windows are as its supervisor last journaled them
        return with_shell(folded_status(journal, run, tmux.panes(), tmux), run)
    from engine.run.observe import observed_status  # noqa: PLC0415 - git and Claude's parsers: only then

    sites = Sites(run, journal.sessions(run.id), hosts)
    panes = sites.panes()
    readers = readers if isinstance(readers, StatusReaders) else readers()
    return with_shell(observed_status(journal, run, readers, panes, sites,
                                      orchestrator_state(journal, run, panes, tmux)), run)


def with_shell(status: RunStatus, run: RunRecord) -> RunStatus:
    """`status` with what contains the agents' shell (`shell_of`)."""
    note, sandboxed = shell_of(run)
    return dataclasses.replace(status, sandbox=note, sandboxed=sandboxed)


def shell_of(run: RunRecord) -> tuple[str, bool]:
    """What contains the agents' shell, from today's config and PATH (they launch the sessions the
    run still starts), and whether a sandbox does; a broken config is reported by the verbs that
    use it, read here as `on`."""
    from engine.core.config import load_config  # noqa: PLC0415 - only the note needs the config
    from engine.core.errors import EngineError  # noqa: PLC0415
    from engine.core.sandbox import plan_sandbox  # noqa: PLC0415

    try:
        mode = load_config(Path(run.repo)).sandbox
    except EngineError:
        mode = "on"
    shell = plan_sandbox(mode, run.agent)
    return shell.note, shell.shell == "sandboxed"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """The run's rows as the journal holds them (what was planned and created: branches,
    worktrees, owned files, dependencies, when each session started and ended) and how to
    attach: with the fold of its events, all a status is made of while its supervisor lives."""

    run: RunRecord
    records: tuple[SessionRecord, ...]
    attach: str
    host: Host
    """Where the sessions' files are (their prompts name their skills)."""
    sandbox: str = ""
    sandboxed: bool = False


def frame_of(journal: Journal, run: RunRecord, tmux: Tmux, *, shell: bool = False) -> Frame:
    """The run's rows now (a journal read: no tmux, no git); with `shell`, what contains the
    agents' shell too (a config read)."""
    note, sandboxed = shell_of(run) if shell else ("", False)
    return Frame(run=run, records=tuple(journal.sessions(run.id)), attach=tmux.attach_hint(), host=tmux.host,
                 sandbox=note, sandboxed=sandboxed)


def folded_status(journal: Journal, run: RunRecord, panes: dict[str, PaneFacts], tmux: Tmux,
                  orchestrator: OrchestratorState = "running") -> RunStatus:
    """The fold of the run's events, with `panes` (one `list-panes` here) saying which windows
    exist; on an SSH host, the supervisor's events say it (`windows_told`: no round trip there)."""
    frame, state = frame_of(journal, run, tmux), recorded(journal, run)
    told = windows_told(state)
    windows = frozenset(r.name for r in frame.records if pane_for(r, panes) is not None
                        or (not is_here(r) and r.name in told))
    return status_of(frame, state, windows, orchestrator)


def is_here(record: SessionRecord) -> bool:
    """The session lives on this machine (not on an SSH host)."""
    return record.host in ("", LOCAL_NAME)


def windows_told(state: RunState) -> frozenset[str]:
    """The sessions whose window exists by the supervisor's events: started (or stopped: its
    dead pane stays) and no WindowClosed since. What a client following the events shows
    without asking tmux; a cleaned session's row says it has none."""
    return frozenset(s.name for s in state.sessions
                     if s.stage in (Stage.STARTED, Stage.STOPPED) and not s.window_closed)


def status_of(frame: Frame, state: RunState, windows: frozenset[str],
              orchestrator: OrchestratorState = "running", now: float | None = None) -> RunStatus:
    """The status the fold `state` tells, over the run's rows, with `windows` the sessions whose
    window exists: the one composition `status` (windows from `list-panes`) and the app's bridge
    (windows from the events, `windows_told`) both show. Pure: no tmux, no git."""
    run, records, now = frame.run, frame.records, time.time() if now is None else now
    sessions = [_folded_session(frame, r, state, r.name in windows and r.phase not in NO_WINDOW_YET,
                                orchestrator, now) for r in records]
    overlaps = boundary_warnings({s.name: s.changed_files for s in sessions},
                                 {s.name: s.owned for s in records})
    phases = {r.name: r.phase for r in records}
    sessions = [with_block(s, phases.get(s.name, ""), state) for s in sessions]
    return RunStatus(run_id=run.id, repo=run.repo, base_sha=run.base_sha, base_ref=run.base_ref,
                     tmux_session=run.tmux_session, attach=frame.attach, orchestrator=orchestrator,
                     sessions=tuple(sessions), overlaps=overlaps, conflicts=state.conflicts,
                     observed_by="supervisor", sandbox=frame.sandbox, sandboxed=frame.sandboxed)


def _folded_session(frame: Frame, record: SessionRecord, state: RunState, window: bool,
                    orchestrator: OrchestratorState, now: float) -> SessionStatus:
    view = state.session(record.name) or SessionView(name=record.name)
    seen, problem = _folded_state(frame, record, view, window, state, orchestrator)
    cleaned = record.phase == "cleaned"
    refused = tuple(RefusedEdit(path=r.path, at=r.at, decision=r.decision) for r in view.refused)
    deletion = view.branch_warning if view.commits else ""
    problem = problems(problem, "" if cleaned else view.worktree_problem, deletion, refused, view.stop_reason)
    ended, now = ended_at(record, state), time.time()
    return SessionStatus(
        name=record.name, slug=record.slug, branch=record.branch, worktree=record.worktree,
        agent=record.agent, window=record.window_id, host=record.host or LOCAL_NAME, state=seen.state,
        source=seen.source,
        detail=seen.detail, problem=problem, elapsed_s=elapsed(record, ended, now),
        commits=view.commits, files_changed=len(view.changed_files), changed_files=view.changed_files,
        cost_usd=seen.cost_usd, tokens=view.tokens,
        rate_limit_pct=view.rate_limit_pct, output_at=view.output_at if window else 0.0,
        last_line=view.last_line if window else "",
        interrupted=seen.detail == "interrupted" and seen.source == "journal",
        deletes_most_files=bool(deletion), refused_edits=refused,
        **(skill_of(record, frame.host) if is_here(record) else {}),
        started_at=iso(record.started_at), ended_at=iso(ended), has_window=window, cleaned=cleaned)


def ended_at(record: SessionRecord, state: RunState) -> float:
    """When the session ended: its row's end, else the supervisor's SessionEnded (0 while it runs)."""
    view = state.session(record.name)
    return record.ended_at or (view.ended_at if view else 0.0)


def _folded_state(frame: Frame, record: SessionRecord, view: SessionView, window: bool, state: RunState,
                  orchestrator: OrchestratorState) -> tuple[Observed, str]:
    """The session's state by the same rules as an observation (`observe_session`), its
    signals taken from the supervisor's events and its window's existence from the overlay."""
    if record.phase == "launch_failed":
        return Observed(state=SessionState.FAILED, source="journal", detail="launch failed"), ""
    if record.phase in CREATING and not window:
        return before_launch(record, orchestrator, waiting_in(frame.records, record, state))
    final_state = record.final_state or (view.ended.value if view.ended else "")
    if not window:
        gone = Observed(state=SessionState.UNKNOWN, source="none", detail="tmux window is gone",
                        cost_usd=view.cost_usd)
        return window_gone(record, gone, final_state)
    if record.phase == "stopped" and view.stage == Stage.STOPPED and view.ended is None:
        # `stop` journals SessionStopped once the pane is dead: what an observation says of it
        # (`observe_session`) before the supervisor's next look journals its end
        return Observed(state=SessionState.EXITED, source="journal",
                        detail=view.stop_reason or "stopped by user", cost_usd=view.cost_usd), ""
    if view.state is None:
        return Observed(state=SessionState.STARTING, source="none", cost_usd=view.cost_usd), ""
    return Observed(state=view.state, source=view.source, detail=view.detail, cost_usd=view.cost_usd), ""
