"""Typed events: what the engine did, in the past tense — ONE union for every face.

The planner's progress (stages) and a run's life (worktrees, windows, sessions, merges,
cleanup) are one vocabulary, so the CLI printer, `--jsonl`, the journal and the app all
consume the same stream. Each event is a frozen dataclass with a `kind` literal: the journal
stores it as JSON (`to_jsonable`) and a front end can replay a run. States that events carry
or that are derived from them are Literals (`OrchestratorState`, `core.phase.Phase`), not bare strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Literal

OrchestratorState = Literal["running", "interrupted", "killed", "gone"]
"""Who watches a run (its supervisor): `running` (alive, or `run` still creating), `interrupted`
(stopped while creating), `killed` (died while following: kill -9), `gone` (exited normally,
or never started with `supervisor = false`; the sessions go on in tmux)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StageStarted:
    stage: str
    detail: str = ""
    kind: Literal["stage_started"] = "stage_started"


@dataclass(frozen=True, slots=True, kw_only=True)
class StageFinished:
    stage: str
    seconds: float
    detail: str = ""
    kind: Literal["stage_finished"] = "stage_finished"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannerFellBack:
    """The Claude planner failed and `auto` used the offline planner instead."""

    reason: str
    kind: Literal["planner_fell_back"] = "planner_fell_back"


PlanEvent = StageStarted | StageFinished | PlannerFellBack


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted:
    run_id: str
    repo: str
    base_sha: str
    sessions: tuple[str, ...]
    kind: Literal["run_started"] = "run_started"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorktreeCreated:
    run_id: str
    name: str
    path: str
    branch: str
    seconds: float
    kind: Literal["worktree_created"] = "worktree_created"


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupFinished:
    run_id: str
    name: str
    seconds: float
    ok: bool
    detail: str = ""
    kind: Literal["setup_finished"] = "setup_finished"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStarted:
    run_id: str
    name: str
    window: str
    agent: str
    host: str = "local"
    """The host its window and agent live on, by name (as the session's journal row says)."""
    kind: Literal["session_started"] = "session_started"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionLaunchFailed:
    run_id: str
    name: str
    error: str
    kind: Literal["session_launch_failed"] = "session_launch_failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStateChanged:
    run_id: str
    name: str
    old: str
    new: str
    source: str
    """Which signal decided: pane, hook, stream, pane_text, journal, none."""
    detail: str = ""
    kind: Literal["session_state_changed"] = "session_state_changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class OverlapConflict:
    """The live overlap radar: two sessions' current work (uncommitted included) started to
    conflict (`files` is what `git merge-tree` names), or stopped conflicting (`files` empty)."""

    run_id: str
    sessions: tuple[str, ...]
    files: tuple[str, ...]
    kind: Literal["overlap_conflict"] = "overlap_conflict"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStopped:
    run_id: str
    name: str
    reason: str = ""
    """Why, when the tool stopped it (the boundary watch: a change outside its files); '' = the user."""
    kind: Literal["session_stopped"] = "session_stopped"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFollowed:
    """A follower (the run's supervisor, or `run --wait` without one) began; without a later
    RunFinished, it was killed."""

    run_id: str
    kind: Literal["run_followed"] = "run_followed"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFinished:
    run_id: str
    seconds: float
    states: dict[str, str]
    kind: Literal["run_finished"] = "run_finished"


@dataclass(frozen=True, slots=True, kw_only=True)
class LeftoverRemoved:
    run_id: str
    what: str
    """`worktree`, `window`, `branch` or `backup_ref`."""
    target: str
    kind: Literal["leftover_removed"] = "leftover_removed"


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeStepStarted:
    """The merge builds the merge commit of branch `index` of `total` (nothing moves yet);
    `run_id` is '' when the merged branches belong to no run."""

    run_id: str
    target: str
    branch: str
    index: int
    total: int
    kind: Literal["merge_step_started"] = "merge_step_started"


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeStepFinished:
    """`commit` is the chain's commit with the branch merged, '' when it conflicts (`files`)."""

    run_id: str
    target: str
    branch: str
    index: int
    total: int
    commit: str
    seconds: float
    files: tuple[str, ...] = ()
    kind: Literal["merge_step_finished"] = "merge_step_finished"


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyStarted:
    """The verify command runs on the merge up to and including branch `upto` ('' = the target
    before any merge); `bisect` when it narrows down which branch broke the merged result."""

    run_id: str
    command: str
    commit: str
    upto: str
    bisect: bool = False
    kind: Literal["verify_started"] = "verify_started"


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyFinished:
    run_id: str
    command: str
    commit: str
    upto: str
    ok: bool
    exit_code: int
    seconds: float
    tail: str
    """The command's last output lines."""
    bisect: bool = False
    kind: Literal["verify_finished"] = "verify_finished"


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyBlamed:
    """Verify failed on the merged result: `branch` is the first (in merge order) whose addition
    breaks it, '' when the target fails before any merge; `tail` is the failing output."""

    run_id: str
    command: str
    branch: str
    tail: str
    kind: Literal["verify_blamed"] = "verify_blamed"


MergeProgress = MergeStepStarted | MergeStepFinished | VerifyStarted | VerifyFinished | VerifyBlamed
"""The merge and verify stages as they happen (the app's merge review and `merge` show them)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeBuilt:
    """The merge commits exist (and passed verify); the target is about to move from
    `old_sha` to `new_sha`. Journaled first: after a crash the target is one or the other."""

    run_id: str
    target: str
    old_sha: str
    new_sha: str
    branches: tuple[str, ...]
    kind: Literal["merge_built"] = "merge_built"


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeMoved:
    run_id: str
    target: str
    new_sha: str
    how: str
    kind: Literal["merge_moved"] = "merge_moved"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionBlocked:
    """A session of a later wave could not be started (its worktree or branch could not be
    made, its agent is missing): journaled once per reason; the supervisor tries again later."""

    run_id: str
    name: str
    reason: str
    kind: Literal["session_blocked"] = "session_blocked"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionProgress:
    """What a session has done so far changed (its commits, the files it changed, its cost, its
    pane's last line): the follower journals it, so a client shows progress from the events
    instead of asking git and tmux every second."""

    run_id: str
    name: str
    commits: int
    changed_files: tuple[str, ...]
    cost_usd: float | None = None
    last_line: str = ""
    tokens: int | None = None
    """Tokens in and out so far (interactive Claude Code's statusline; None when unknown)."""
    rate_limit_pct: float | None = None
    """A subscription login's rate-limit use in % (the fullest window): shown instead of a
    notional cost."""
    output_at: float = 0.0
    """Unix time of the pane's last output when `last_line` was read (0: not yet)."""
    kind: Literal["session_progress"] = "session_progress"


@dataclass(frozen=True, slots=True, kw_only=True)
class EditRefused:
    """The ownership hook refused (or, in `warn` mode, flagged) an edit outside the session's
    files: journaled by the follower when it finds the hook's line, so the board, `status`
    and the report see every refusal as an event, not only by re-reading hook files."""

    run_id: str
    name: str
    path: str
    at: float
    decision: str
    kind: Literal["edit_refused"] = "edit_refused"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEnded:
    """The supervisor saw the session end for good (its pane died, or a result line said so):
    the state it ended in and when, so the fold, `status` and the report need no second look."""

    run_id: str
    name: str
    state: str
    """A terminal SessionState value: done, failed or exited."""
    detail: str
    at: float
    """Unix time it ended (tmux's whole-second death time, bounded)."""
    exit_status: int | None = None
    kind: Literal["session_ended"] = "session_ended"


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowClosed:
    """The session's tmux window is gone while the run still knew it (closed after its agent
    ended, or killed by hand): `detail` says which."""

    run_id: str
    name: str
    detail: str
    kind: Literal["window_closed"] = "window_closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchFlagged:
    """The session's branch deletes most of the base's tracked files (`warning`), or no longer
    does ('' clears it): see `engine.run.branch_guard`."""

    run_id: str
    name: str
    warning: str
    kind: Literal["branch_flagged"] = "branch_flagged"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorktreeGone:
    """What is wrong with the session's worktree (`problem`: deleted by hand, never fully
    checked out), or '' once nothing is."""

    run_id: str
    name: str
    problem: str
    kind: Literal["worktree_gone"] = "worktree_gone"


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchFetched:
    """A session's branch brought from its SSH host into the local repo (`sha`, its tip there),
    or why not (`problem`: the host did not answer; the branch here has other commits)."""

    run_id: str
    name: str
    host: str
    branch: str
    sha: str = ""
    problem: str = ""
    kind: Literal["branch_fetched"] = "branch_fetched"


RunEvent = (MergeStepStarted | MergeStepFinished | VerifyStarted | VerifyFinished | VerifyBlamed
            | RunStarted | WorktreeCreated | SetupFinished | SessionStarted | SessionLaunchFailed
            | SessionStateChanged | SessionStopped | RunFollowed | RunFinished | LeftoverRemoved
            | MergeBuilt | MergeMoved | OverlapConflict | SessionBlocked
            | SessionProgress | EditRefused | SessionEnded | WindowClosed | BranchFlagged
            | WorktreeGone | BranchFetched)
EmitRun = Callable[[RunEvent], None]
Event = PlanEvent | RunEvent
"""Everything the engine tells its faces."""
Emit = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """An `Emit` (and an `EmitRun`) for callers that want no progress."""


def _kind(cls: type) -> str:
    return str(next(f.default for f in fields(cls) if f.name == "kind"))


_RUN_EVENTS: dict[str, type[RunEvent]] = {
    _kind(cls): cls for cls in (RunStarted, WorktreeCreated, SetupFinished, SessionStarted,
                                SessionLaunchFailed, SessionStateChanged, SessionStopped, RunFollowed,
                                RunFinished, LeftoverRemoved, MergeBuilt, MergeMoved, OverlapConflict,
                                SessionBlocked, SessionProgress, EditRefused, MergeStepStarted,
                                MergeStepFinished, VerifyStarted, VerifyFinished, VerifyBlamed,
                                SessionEnded, WindowClosed, BranchFlagged, WorktreeGone, BranchFetched)}
_TUPLES = frozenset({"sessions", "branches", "files", "changed_files"})


def run_event(kind: str, payload: dict[str, object]) -> RunEvent | None:
    """A journaled event back as its dataclass (None for a kind this version does not know), so
    a client reading the journal folds the same objects a live subscriber saw."""
    cls = _RUN_EVENTS.get(kind)
    if cls is None:
        return None
    fields = {k: tuple(v) if k in _TUPLES and isinstance(v, list) else v
              for k, v in payload.items() if k != "kind"}
    try:
        return cls(**fields)  # type: ignore[arg-type]
    except TypeError:
        return None  # a payload from another version: skipped, never fatal
