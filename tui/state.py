"""What the screens render: one immutable value the app replaces on every change.

Screens read it and send intents up to the app; only the app (through `tui.backend`) asks
the engine for anything. `RunStateChanged` carries the latest run status from the bridge.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from textual.message import Message

from engine.core.hosts_config import LOCAL_HOST
from engine.core.models import Plan, RepoProfile, Subtask
from engine.views import RunState, RunStatus

SCOPES = ("auto", "small", "medium", "large")


@dataclass(frozen=True, slots=True, kw_only=True)
class UiState:
    task: str = ""
    scope: str = "auto"
    minutes: float | None = None
    profile: RepoProfile | None = None
    plan: Plan | None = None
    """The plan as proposed (or edited): its subtasks are the review list."""
    subtasks: tuple[Subtask, ...] = ()
    """The review list, edits included."""
    approved: frozenset[str] = frozenset()
    checked: Plan | None = None
    """The engine's validation of the approved subtasks (None while it runs)."""
    progress: tuple[str, ...] = ()
    """Planning or launch progress lines from the engine's events."""
    busy: str = ""
    error: str = ""
    run_id: str = ""
    run: RunStatus | None = None
    hosts: tuple[str, ...] = ()
    """The hosts chosen in plan review (`h`); none: every session here, as without hosts."""

    def with_(self, **changes: object) -> UiState:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def approved_subtasks(self) -> tuple[Subtask, ...]:
        """Approved subtasks in list order; dependencies on rejected ones are dropped."""
        keep = self.approved
        return tuple(dataclasses.replace(s, depends_on=tuple(d for d in s.depends_on if d in keep))
                     for s in self.subtasks if s.name in keep)

    def where(self) -> str:
        """Where the approved subtasks will run, in the review's head line."""
        hosts = self.hosts or (LOCAL_HOST,)
        return f"on {', '.join(hosts)}" + (" by free slots" if len(hosts) > 1 else "")

    def launch_blocker(self) -> str:
        """Why `l` cannot launch now; empty when it can."""
        if self.plan is None:
            return "no plan yet — type a task on screen 1"
        if not self.approved:
            return "nothing approved — space or a approves"
        if self.checked is None:
            return "validating…"
        if self.checked.validation.problems:
            return f"plan invalid — {len(self.checked.validation.problems)} problem(s) below"
        if self.busy:
            return self.busy
        return ""


def changes(state: UiState) -> tuple[dict[str, Subtask], frozenset[str]]:
    """The person's edits and rejections of the plan in review, by the name the planner gave."""
    if state.plan is None:
        return {}, frozenset()
    pairs = list(zip(state.plan.subtasks, state.subtasks, strict=False))  # edits keep their place
    edited = {old.name: new for old, new in pairs if old != new}
    rejected = frozenset(old.name for old, new in pairs if new.name not in state.approved)
    return edited, rejected


def carried(state: UiState, plan: Plan) -> tuple[tuple[Subtask, ...], frozenset[str], str]:
    """A re-plan keeps the person's edits and rejections where the new plan has a subtask of
    the same name; what it cannot keep is said."""
    edited, rejected = changes(state)
    subtasks = tuple(edited.get(s.name, s) for s in plan.subtasks)
    approved = frozenset(new.name for old, new in zip(plan.subtasks, subtasks, strict=True)
                         if old.name not in rejected)
    names = {s.name for s in plan.subtasks}
    kept = sorted((set(edited) | rejected) & names)
    lost = sorted((set(edited) | rejected) - names)
    said = [f"kept your changes to {', '.join(kept)}"] if kept else []
    said += [f"dropped your changes to {', '.join(lost)} (not in the new plan)"] if lost else []
    return subtasks, approved, "; ".join(said)


class StateChanged(Message):
    """The app replaced its UiState: the current screen re-renders from it."""


class RunStateChanged(Message):
    """The bridge saw the run change: one message per change, newest wins."""

    def __init__(self, status: RunStatus, folded: RunState | None = None) -> None:
        super().__init__()
        self.status = status
        self.folded = folded
        """The run as its events tell it (the engine's fold); None when replayed from a status."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunStateChanged)
