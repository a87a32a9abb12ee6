"""Screen 1, task entry: the task, the model's inputs, planner and agent, the repo panel."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Label, Select, Static

from engine.views import PLANNERS, planner_cost
from tui.base import DashScreen
from tui.intents import AgentChosen, ModelInputsChanged, PlannerChosen, PlanRequested
from tui.markup import escape
from tui.resources import stylesheets
from tui.state import UiState
from tui.widgets import ModelInputs, RepoPanel, TaskArea

PLACEHOLDER = "Describe the task, e.g. Implement user authentication with frontend and backend"


class TaskScreen(DashScreen):
    CSS_PATH = stylesheets("task")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "plan", "Plan"),
        Binding("t", "focus_task", "Task field"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="task-box"):
            yield TaskArea(id="task", placeholder=PLACEHOLDER, soft_wrap=True, tab_behavior="focus",
                           show_line_numbers=False)
            with Horizontal(id="task-options", classes="options"):
                yield ModelInputs(id="model-inputs")
            with Horizontal(id="task-options2", classes="options"):
                yield Label("agent")
                yield Select(self.parallel.backend.agent_options(),
                             value=self.parallel.backend.agent, allow_blank=False, id="agent")
                yield Label("planner")
                yield Select([(p, p) for p in PLANNERS], value=self.parallel.backend.planner,
                             allow_blank=False, id="planner-choice")
            yield Static("plans with: …", id="planner")
        with Horizontal(id="task-panels"):
            yield RepoPanel("analysing the repo…", id="repo")
            with VerticalScroll(id="progress-box"):
                yield Static("Enter plans · ctrl+j new line · esc leaves the field", id="progress")
        yield Footer()

    @work(group="planner-line", exclusive=True, exit_on_error=False)
    async def _show_planner(self, planner: str | None = None) -> None:
        """Which planner the choice (`planner`, else the app's) resolves to and why: the
        engine's answer, asked off the loop (it may run `claude auth status`)."""
        choice = await self.parallel.backend.planner_choice(planner)
        why = f" ({choice.reason})" if choice.reason else ""
        self.query_one("#planner", Static).update(f"plans with: {choice.name}{why}")

    def on_mount(self) -> None:
        self.query_one("#repo").border_title = "Repo"
        self.query_one("#progress-box").border_title = "Planning"
        self.query_one("#task-box").border_title = "Task"
        area = self.query_one(TaskArea)
        area.cursor_blink = not self.parallel.still
        if self.parallel.state.task and not area.text:
            area.load_text(self.parallel.state.task)
            area.move_cursor(area.document.end)
        area.focus()
        self._show_planner()
        self.render_state(self.parallel.state)

    def render_state(self, state: UiState) -> None:
        self.query_one(RepoPanel).show(state.profile)
        self.query_one(ModelInputs).set_values(state.scope, state.minutes)
        lines = list(state.progress)
        if state.busy:
            lines.append(state.busy)
        if state.error:
            lines.append(f"[b red]{escape(state.error)}[/]")
        if state.plan is not None and not state.busy:
            cost = planner_cost(state.plan.planner_usage)
            lines.append(f"planned {len(state.plan.subtasks)} subtasks by {state.plan.planner}"
                         f"{f' ({escape(cost)})' if cost else ''} — 3 reviews them, 2 shows the split")
        if state.plan is not None and state.plan.fallback_reason:
            lines.append(f"[b]fallback:[/] {escape(state.plan.fallback_reason)}")
        self.query_one("#progress", Static).update("\n".join(lines) or
                                                   "Enter plans · ctrl+j new line · esc leaves the field")

    @on(TaskArea.Submitted)
    def _submitted(self, event: TaskArea.Submitted) -> None:
        self.post_message(PlanRequested(event.text))

    @on(ModelInputs.Changed)
    def _model_changed(self, event: ModelInputs.Changed) -> None:
        self.post_message(ModelInputsChanged(event.scope, event.minutes))

    @on(Select.Changed, "#planner-choice")
    def _planner_changed(self, event: Select.Changed) -> None:
        self.post_message(PlannerChosen(str(event.value)))
        self._show_planner(str(event.value))

    @on(Select.Changed, "#agent")
    def _agent_changed(self, event: Select.Changed) -> None:
        self.post_message(AgentChosen(str(event.value)))

    def action_plan(self) -> None:
        self.post_message(PlanRequested(self.query_one(TaskArea).text))

    def action_focus_task(self) -> None:
        self.query_one(TaskArea).focus()
