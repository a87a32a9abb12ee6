"""What a screen asks the app to do: messages that bubble from the screen to the app.

Screens render the app's `UiState` and post these; the app (`tui.app.ParallelApp`) owns the
state and runs each engine command in a worker. A message says the change itself (toggle this
subtask), never a state computed from a possibly older one, so two quick keys both count.
"""

from __future__ import annotations

from textual.message import Message

from engine.core.models import Subtask


class PlanRequested(Message):
    """Plan `task` (again, with `splits` sessions, from the review)."""

    def __init__(self, task: str, splits: int | None = None) -> None:
        super().__init__()
        self.task = task
        self.splits = splits


class ModelInputsChanged(Message):
    """The overhead model's scope or minutes changed (screens 1 and 2)."""

    def __init__(self, scope: str, minutes: float | None) -> None:
        super().__init__()
        self.scope = scope
        self.minutes = minutes


class PlannerChosen(Message):
    def __init__(self, planner: str) -> None:
        super().__init__()
        self.planner = planner


class AgentChosen(Message):
    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent


class ApprovalChanged(Message):
    """Approve every subtask (`every`), or toggle or reject one by name."""

    def __init__(self, *, toggle: str = "", reject: str = "", every: bool = False) -> None:
        super().__init__()
        self.toggle = toggle
        self.reject = reject
        self.every = every


class SubtaskEdited(Message):
    def __init__(self, old: str, new: Subtask) -> None:
        super().__init__()
        self.old = old
        self.new = new


class HostsChosen(Message):
    """Run the approved subtasks on these hosts, by free slots (plan review's `h`)."""

    def __init__(self, hosts: tuple[str, ...]) -> None:
        super().__init__()
        self.hosts = hosts


class LaunchRequested(Message):
    """Start the approved subtasks (the app asks first)."""


class RunRefreshRequested(Message):
    """Read the run's status again (a merge or its cleanup changed it)."""


class MergeReviewRequested(Message):
    """Open the merge review, unless the run has nothing to merge."""


class ScreenRequested(Message):
    """Switch to one of the app's modes (task, split, review, sessions)."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode


class ReportRequested(Message):
    """Open the report of run `run_id` over the current screen."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id


class HistoryRequested(Message):
    """Open this repo's history over the current screen."""
