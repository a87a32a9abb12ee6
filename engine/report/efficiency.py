"""One run's report: what the model predicted, what was measured, and which is which.

Every number carries its source. Realised savings compare a *measured* wall time with the
*modelled* sequential time (nobody ran the task sequentially), and the label says so; the
spec's specialization bonus is never measured and is labelled "modelled (spec)".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.agents.hooks import refused_edits
from engine.agents.stream_json import read_result
from engine.core.config import ParallelConfig
from engine.core.errors import GitError
from engine.hosts.gitrepo import open_repo
from engine.planning.overhead import row
from engine.report.merged import SessionGit, merge_commits, session_git
from engine.report.stages import Stage, measured, stage_table
from engine.run.depends import depends_of
from engine.run.journal import Journal, MergeRecord, RunEstimate, RunRecord, SessionRecord

if TYPE_CHECKING:
    from engine.hosts.host import Host
    from engine.hosts.registry import Hosts

SPECIALIZATION_BONUS_PCT = 5.0
"""The spec's "+5 % per specialized agent"."""
GENERALIST = "general-purpose"
MEASURED_VS_MODELLED = "measured wall time vs modelled sequential time"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionLine:
    name: str
    agent: str
    seconds: float | None
    cost_usd: float | None
    state: str
    commits: int | None = None
    """On the session's branch since the run's base (git), or up to its merge commit once a merge
    deleted the branch; None once the branch is gone unmerged."""
    files_changed: int | None = None
    lines_added: int | None = None
    lines_removed: int | None = None
    refused_edits: tuple[Refusal, ...] = ()
    """Edits outside its files the ownership hook refused (Claude Code), oldest first."""
    host: str = "local"
    """Where it ran: `local`, or an SSH host's name."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    path: str
    at: float
    """Unix time of the refusal."""
    decision: str
    """deny | ask | warn, as the hook decided."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Predicted:
    sequential_minutes: float
    splits: int
    total_minutes: float
    savings_pct: float
    stages: dict[str, float | None]
    specialization_bonus_pct: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Actual:
    wall_seconds: float | None
    active_seconds: float | None
    waiting_seconds: float
    stages: dict[str, float | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    run: str
    task: str
    agent: str
    outcome: str
    """`merged`, `partly merged`, `not merged` or `abandoned`."""
    predicted: Predicted | None
    actual: Actual
    stages: tuple[Stage, ...]
    sessions: tuple[SessionLine, ...]
    realised_savings_pct: float | None
    sources: dict[str, str]


def run_report(journal: Journal, run: RunRecord, hosts: Hosts, *, now: float | None = None) -> RunReport:
    """The run's prediction against what was measured: git on the repo's own host, each
    session's stream and hook files on the host it journaled."""
    sessions = journal.sessions(run.id)
    merges = journal.merges(run.id)
    work = _work(run, sessions, merge_commits(journal, run.id, merges), hosts)
    estimate = journal.estimate(run.id)
    constants = estimate.constants if estimate else {}
    stages = stage_table(measured(journal.timings(run.id), sessions), constants)
    wall = _wall(run, sessions, merges, now)
    waiting = _needs_input_seconds(journal, run.id) + sum(m.waiting_seconds for m in merges)
    actual = Actual(wall_seconds=wall, active_seconds=None if wall is None else max(0.0, wall - waiting),
                    waiting_seconds=waiting, stages={s.name: s.measured_seconds for s in stages})
    predicted = _predicted(estimate, sessions, stages)
    realised = None
    if predicted and wall is not None and predicted.sequential_minutes > 0:
        realised = (predicted.sequential_minutes - wall / 60) / predicted.sequential_minutes * 100
    return RunReport(run=run.id, task=run.task, agent=run.agent, outcome=outcome(sessions, merges),
                     predicted=predicted, actual=actual, stages=stages,
                     sessions=tuple(_session_line(s, work.get(s.branch), hosts) for s in sessions),
                     realised_savings_pct=realised,
                     sources=_sources(estimate, wall))


def outcome(sessions: Sequence[SessionRecord], merges: Sequence[MergeRecord]) -> str:
    merged = {b for m in merges for b in m.branches}
    if merged and all(s.branch in merged for s in sessions):
        return "merged"
    if merged:
        return "partly merged"
    if sessions and all(s.phase == "cleaned" for s in sessions):
        return "abandoned"
    return "not merged"


def _predicted(estimate: RunEstimate | None, sessions: Sequence[SessionRecord],
               stages: Sequence[Stage]) -> Predicted | None:
    if estimate is None or not sessions:
        return None
    n = len(sessions)
    modelled = row(estimate.sequential_minutes, n, with_constants(ParallelConfig(), estimate.constants))
    specialists = set(estimate.specialists) - {GENERALIST, ""}
    return Predicted(sequential_minutes=estimate.sequential_minutes, splits=n,
                     total_minutes=modelled.total_minutes, savings_pct=modelled.savings_pct,
                     stages={s.name: s.modelled_seconds for s in stages},
                     specialization_bonus_pct=SPECIALIZATION_BONUS_PCT * len(specialists))


def with_constants(config: ParallelConfig, constants: Mapping[str, float]) -> ParallelConfig:
    """`config` with the model's constants replaced (unknown names ignored)."""
    known = {f.name for f in dataclasses.fields(ParallelConfig)}
    changes: dict[str, Any] = {k: v for k, v in constants.items() if k in known}
    return dataclasses.replace(config, **changes)


def _wall(run: RunRecord, sessions: Sequence[SessionRecord], merges: Sequence[MergeRecord],
          now: float | None) -> float | None:
    """Launch to merge; launch to the last session's end when not merged; None while running."""
    if merges:
        return merges[-1].at - run.created_at
    ended = [s.ended_at for s in sessions if s.ended_at]
    if ended and len(ended) == len(sessions):
        return max(ended) - run.created_at
    return None if now is None else now - run.created_at


def _needs_input_seconds(journal: Journal, run_id: str) -> float:
    """Time sessions spent in needs_input, from the journaled state changes."""
    since: dict[str, float] = {}
    total = 0.0
    for at, kind, payload in journal.events(run_id):
        if kind != "session_state_changed":
            continue
        name = str(payload.get("name", ""))
        if name in since:
            total += at - since.pop(name)
        if payload.get("new") == "needs_input":
            since[name] = at
    return total


def _work(run: RunRecord, sessions: Sequence[SessionRecord],
          merged: Mapping[str, str], hosts: Hosts) -> dict[str, SessionGit]:
    """Each session's own work by branch, as git has it now (or as its merge commit keeps it
    once the merge deleted the branch)."""
    try:
        with open_repo(Path(run.repo), hosts.local) as g:
            return session_git(g, run.base_sha, depends_of(sessions), [s.branch for s in sessions], merged)
    except GitError:
        return {}  # the repo moved or went: the report still says what the journal knows


def _session_line(s: SessionRecord, work: SessionGit | None, hosts: Hosts) -> SessionLine:
    try:
        return _line(s, work, hosts.get(s.host))
    except OSError:  # its SSH host does not answer: what the journal and git here know
        return _line(s, work, None)


def _line(s: SessionRecord, work: SessionGit | None, host: Host | None) -> SessionLine:
    result = read_result(Path(s.stream_file), host) if s.stream_file and host else None
    seconds = s.ended_at - s.started_at if s.started_at and s.ended_at >= s.started_at else None
    git = {} if work is None else {
        "commits": work.commits, "files_changed": work.files_changed,
        "lines_added": work.lines_added, "lines_removed": work.lines_removed}
    refused = tuple(Refusal(path=r.path, at=r.at, decision=r.decision)
                    for r in (refused_edits(Path(s.hook_file), host) if s.hook_file and host else ()))
    return SessionLine(name=s.name, agent=s.agent, seconds=seconds,
                       cost_usd=result.cost_usd if result else None, state=s.final_state or s.phase,
                       refused_edits=refused, host=s.host or "local", **git)


def _sources(estimate: RunEstimate | None, wall: float | None) -> dict[str, str]:
    return {
        "sequential_minutes": f"modelled from {estimate.source}" if estimate else "not recorded for this run",
        "predicted": "modelled (overhead model with the constants in force at launch)",
        "actual.wall_seconds": "measured (launch to merge)" if wall is not None else "not measured yet",
        "actual.waiting_seconds": "measured (needs_input and merge confirmation)",
        "actual.stages": "measured (journal timings; medians per branch)",
        "realised_savings_pct": MEASURED_VS_MODELLED,
        "specialization_bonus_pct": "modelled (spec)",
        "sessions.cost_usd": "measured (stream-json result), where the agent reports it",
        "sessions.commits": "measured (git: the session's own commits since the run's base — not what a "
                            "resolve merged in from the run's other branches — up to its merge commit once "
                            "merged; none once deleted unmerged)",
        "sessions.refused_edits": "recorded (the ownership hook's refusals in the session's hook file)",
    }
