"""Typed events of a run: what the orchestrator did to worktrees, windows and sessions.

Kept apart from `engine.core.events` (the planner's progress) so the run engine can grow its
own vocabulary without touching the planner's. Every event is frozen, past tense, and has
a `kind` literal, so the journal stores it as JSON and a front end can replay a run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


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
class SessionStopped:
    run_id: str
    name: str
    kind: Literal["session_stopped"] = "session_stopped"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFollowed:
    """`run --wait` began following; without a later RunFinished, it was killed."""

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


RunEvent = (RunStarted | WorktreeCreated | SetupFinished | SessionStarted | SessionLaunchFailed
            | SessionStateChanged | SessionStopped | RunFollowed | RunFinished | LeftoverRemoved
            | MergeBuilt | MergeMoved)
EmitRun = Callable[[RunEvent], None]


def ignore(_event: RunEvent) -> None:
    """An `EmitRun` for callers that want no progress."""
