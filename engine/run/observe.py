"""Looking at sessions: journal + tmux + hook/stream files + git, read-only.

Two callers, one rule each: the run's supervisor (`engine.run.follow`) observes every tick and
journals what it sees; `status` observes here only when no supervisor lives, once, and writes
nothing (docs/architecture.md, "Observed once"). Nothing here trusts an orchestrator to be
alive: after a `kill -9` the same sources say what happened (window gone, worktree deleted,
launch never finished). A session's files, git and pane are read on its host: the `tmux` each
caller hands in is the run's server on the host its sessions live on (`tmux.host`).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from engine.claude.statusline import Usage, read_usage, usage_file_for
from engine.core.config import load_config
from engine.core.errors import EngineError, GitError
from engine.core.events import OrchestratorState
from engine.core.models import SessionState
from engine.hosts.host import Host
from engine.hosts.on_host import repo_on
from engine.hosts.own_work import own_work
from engine.hosts.tmux_sessions import PaneFacts, Tmux
from engine.hosts.worktrees import GitActivity, activity, checkout_complete
from engine.run.boundary import boundary_warnings
from engine.run.branch_guard import mass_deletion
from engine.run.depends import builds_on_refs
from engine.run.enforce import stray_reason
from engine.run.fold import RunState, recorded
from engine.run.journal import CREATING, Journal, RunRecord, SessionRecord
from engine.run.lookup import Sites, pane_for
from engine.run.session_status import (
    STALL_AFTER_S,
    TERMINAL,
    Observed,
    SessionFiles,
    StatusReaders,
    observe,
)
from engine.run.verdicts import (
    before_launch,
    elapsed,
    iso,
    problems,
    skill_of,
    window_gone,
    with_block,
)
from engine.run.views import RefusedEdit, RunStatus, SessionStatus
from engine.run.waves import waits_for

WORKTREE_DELETED = "worktree was deleted (by hand?)"
NEVER_CHECKED_OUT = "its worktree was never fully checked out"


def configured(readers: StatusReaders, run: RunRecord) -> StatusReaders:
    """The readers with the repo's `stall_after_s`, unless the caller chose one."""
    if readers.stall_after_s != STALL_AFTER_S:
        return readers
    try:
        stall = load_config(Path(run.repo)).stall_after_s
    except EngineError:
        return readers  # a broken config is reported by the verbs that use it, not by status
    return dataclasses.replace(readers, stall_after_s=stall)


def observed_status(journal: Journal, run: RunRecord, readers: StatusReaders, panes: dict[str, PaneFacts],
                    sites: Sites, orchestrator: OrchestratorState) -> RunStatus:
    """Every session as journal, tmux, files and git show it now, each on its host: `status`
    without a supervisor."""
    readers = configured(readers, run)
    records = journal.sessions(run.id)
    told = recorded(journal, run)
    sessions = [_session_status(journal, run, s, panes, sites.of(s), readers, orchestrator)
                if (s.host or "local") not in sites.down else _unreachable(s, sites.down[s.host], told)
                for s in records]
    tmux = sites.here
    overlaps = boundary_warnings({s.name: s.changed_files for s in sessions},
                                 {s.name: s.owned for s in records})
    phases = {r.name: r.phase for r in records}
    sessions = [with_block(_as_journaled(s, told), phases.get(s.name, ""), told) for s in sessions]
    return RunStatus(run_id=run.id, repo=run.repo, base_sha=run.base_sha, base_ref=run.base_ref,
                     tmux_session=run.tmux_session, attach=tmux.attach_hint(), orchestrator=orchestrator,
                     sessions=tuple(sessions), overlaps=overlaps, conflicts=told.conflicts,
                     observed_by="status")


def _unreachable(record: SessionRecord, said: str, told: RunState) -> SessionStatus:
    """A session whose SSH host does not answer: what the journal last heard of it."""
    view = told.session(record.name)
    ended = bool(record.final_state)
    return SessionStatus(
        name=record.name, slug=record.slug, branch=record.branch, worktree=record.worktree,
        agent=record.agent, window=record.window_id, host=record.host,
        state=SessionState(record.final_state) if ended else SessionState.UNREACHABLE, source="journal",
        detail="" if ended else f"host {record.host} does not answer", problem=said,
        elapsed_s=elapsed(record, record.ended_at, time.time()), commits=view.commits if view else 0,
        files_changed=len(view.changed_files) if view else 0,
        changed_files=view.changed_files if view else (),
        cost_usd=view.cost_usd if view else None, last_line="", started_at=iso(record.started_at),
        ended_at=iso(record.ended_at))


def _as_journaled(status: SessionStatus, told: RunState) -> SessionStatus:
    """A cleaned-up session's branch is gone (merged, then deleted): its commits and files are
    what the run journaled last, not 0."""
    view = told.session(status.name)
    if not status.cleaned or status.commits or view is None or not view.commits:
        return status
    return dataclasses.replace(status, commits=view.commits, files_changed=len(view.changed_files),
                               changed_files=view.changed_files)


def is_final(seen: Observed, pane: PaneFacts) -> bool:
    """Ended for good: the pane is dead, or a result line says so. A hook's `failed` on a
    live pane is not final: interactive Claude stays open after an API error and may go on."""
    return seen.state in TERMINAL and (pane.dead or seen.source != "hook")


def exit_file(record: SessionRecord) -> Path:
    """`<state>/runs/<run>/<slug>.exit`, next to the prompt file (see run_engine._launch)."""
    return Path(record.prompt_file).with_suffix(".exit")


def observe_session(journal: Journal, record: SessionRecord, panes: dict[str, PaneFacts], tmux: Tmux,
                    readers: StatusReaders, orchestrator: OrchestratorState) -> tuple[Observed, str]:
    """The session's state and any problem worth telling (writes nothing)."""
    now = time.time()
    if record.phase == "launch_failed":
        return Observed(state=SessionState.FAILED, source="journal", detail="launch failed"), ""
    if record.phase in CREATING and pane_for(record, panes) is None:
        run = journal.run(record.run_id)
        return before_launch(record, orchestrator, waits_for(journal, run, record) if run else ())
    pane = pane_for(record, panes)
    host = tmux.host
    if pane is not None and pane.dead and pane.exit_status is None and not pane.signal \
            and not host.exists(exit_file(record)):
        pane = tmux.settled(pane.window_id)  # tmux shows pane_dead a moment before its status
    files = SessionFiles(agent=record.agent, hook_file=Path(record.hook_file),
                         stream_file=Path(record.stream_file), exit_file=exit_file(record),
                         started_at=record.started_at, worktree=Path(record.worktree), host=host)
    seen = observe(pane, files, lambda: tmux.pane_text(pane.window_id) if pane else "", readers, now)
    if pane is None:
        return window_gone(record, seen, record.final_state)
    if record.phase == "stopped" and pane.dead:
        why = stray_reason(Path(record.hook_file), host) or "stopped by user"
        seen = Observed(state=SessionState.EXITED, source="journal", detail=why,
                        cost_usd=seen.cost_usd, agent_session_id=seen.agent_session_id)
    return seen, ""


def ended_at(record: SessionRecord, pane: PaneFacts | None, now: float) -> float:
    """When the session ended as journaled, else as tmux's whole-second death time bounds it."""
    if record.ended_at or pane is None or not pane.dead:
        return record.ended_at
    return max(min(now, pane.dead_at + 1.0) if pane.dead_at else now, record.started_at)


def _session_status(journal: Journal, run: RunRecord, record: SessionRecord, panes: dict[str, PaneFacts],
                    tmux: Tmux, readers: StatusReaders, orchestrator: OrchestratorState) -> SessionStatus:
    seen, problem = observe_session(journal, record, panes, tmux, readers, orchestrator)
    pane, host = pane_for(record, panes), tmux.host
    progress, trouble = _progress(run, record, builds_on_refs(journal.sessions(run.id), record), host)
    repo, branch = repo_on(host, Path(run.repo)), f"refs/heads/{record.branch}"
    deletion = mass_deletion(repo, run.base_sha, branch, host=host) if progress.commits else None
    refused = tuple(RefusedEdit(path=r.path, at=r.at, decision=r.decision)
                    for r in readers.read_refused(Path(record.hook_file), host))
    problem = problems(problem, trouble, deletion.warning() if deletion else "", refused,
                       stray_reason(Path(record.hook_file), host))
    now = time.time()
    ended = ended_at(record, pane, now)
    usage = _usage(record, seen.cost_usd, host)
    return SessionStatus(
        name=record.name, slug=record.slug, branch=record.branch, worktree=record.worktree,
        agent=record.agent, window=record.window_id, host=record.host or "local", state=seen.state,
        source=seen.source,
        detail=seen.detail, problem=problem, elapsed_s=elapsed(record, ended, now),
        commits=progress.commits, files_changed=len(progress.files_changed),
        changed_files=progress.files_changed, cost_usd=usage.cost_usd if usage else seen.cost_usd,
        tokens=seen.tokens if seen.tokens is not None or usage is None else usage.tokens,
        rate_limit_pct=usage.rate_limit_pct if usage else None,
        last_line=tmux.last_line(pane.window_id) if pane else "", output_at=pane.activity_at if pane else 0.0,
        interrupted=seen.detail == "interrupted" and seen.source == "journal",
        deletes_most_files=deletion is not None, refused_edits=refused, **skill_of(record, host),
        started_at=iso(record.started_at), ended_at=iso(ended), has_window=pane is not None,
        cleaned=record.phase == "cleaned")


def _usage(record: SessionRecord, cost_usd: float | None, host: Host) -> Usage | None:
    """The statusline's usage (interactive Claude Code), its cost replaced by the headless
    result's when there is one; None when the agent reports none."""
    usage = read_usage(usage_file_for(Path(record.hook_file)), host) if record.hook_file else None
    if usage is None or cost_usd is None:
        return usage
    return dataclasses.replace(usage, cost_usd=cost_usd)


def worktree_trouble(record: SessionRecord, host: Host) -> str:
    """What is wrong with the session's worktree ("" if nothing): a look or two on its host, no git."""
    worktree = Path(record.worktree)
    there = host.exists(worktree)
    if record.phase not in ("planned", "cleaned") and not there:
        return WORKTREE_DELETED
    if record.phase != "cleaned" and there and not checkout_complete(worktree, host=host):
        return NEVER_CHECKED_OUT
    return ""


def _progress(run: RunRecord, record: SessionRecord, builds_on: tuple[str, ...],
              host: Host) -> tuple[GitActivity, str]:
    """Its own commits and changed files (not what a resolve merged in, nor its dependencies'), and
    what is wrong with the worktree. A half-made worktree (never checked out) has changed
    nothing: only its branch counts."""
    progress = activity(Path(record.worktree), run.base_sha, builds_on, host=host) \
        if record.phase != "cleaned" else None
    if progress is not None:
        return progress, ""
    return (_branch_activity(repo_on(host, Path(run.repo)), record.branch, run.base_sha, builds_on, host),
            worktree_trouble(record, host))


def _branch_activity(repo: Path, branch: str, base_sha: str, builds_on: tuple[str, ...],
                     host: Host) -> GitActivity:
    """Its own work from the branch alone (its worktree is gone); zero if the branch is too."""
    ref = f"refs/heads/{branch}"
    try:
        own = own_work(repo, base_sha, {ref: ref, **{d: d for d in builds_on}}, {ref: builds_on},
                       host=host).get(ref)
    except GitError:
        own = None
    return GitActivity(commits=own.commits if own else 0, files_changed=own.files if own else ())

