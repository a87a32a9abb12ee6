"""The Textual app: type a task, see the split/savings table, chart and proposed plan.

Wiring only: the engine's `make_plan` does the work in an async worker (it runs in this
event loop, so no threads), and the screen renders the Plan it returns. Later screens
(plan review, sessions board, merge review) build on this one.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual_plotext import PlotextPlot

from engine.core.config import load_config
from engine.core.crash import crash_line
from engine.core.errors import EngineError
from engine.core.models import Plan
from engine.core.numfmt import fixed
from engine.planning.pipeline import PlanOptions, make_plan
from engine.planning.planners import choose_planner
from engine.planning.text_report import plan_lines
from tui.resources import stylesheets


class ParallelApp(App[None]):
    """Task entry → split/savings table and chart → proposed subtasks."""

    CSS_PATH: ClassVar[list[str | Path]] = stylesheets()  # type: ignore[misc]
    TITLE = "parallel-tui"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", "Quit")]

    def __init__(self, *, repo: Path, planner: str = "auto", label: str | None = None) -> None:
        super().__init__()
        self.repo = repo
        self.planner_name = planner
        self.sub_title = label or str(repo)
        """`label` replaces the path in the header (snapshots need a stable one)."""
        self.crash = ""
        """The one line for an unexpected error that ended the app; `tui.entry` prints it."""

    def _handle_exception(self, error: Exception) -> None:
        """Textual would print a full traceback on exit: keep it in a crash log, say one line."""
        self.crash = crash_line(error, "running the terminal UI")
        super()._handle_exception(error)
        self._exit_renderables.clear()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Describe the task, e.g. Implement user authentication with "
                                "frontend and backend", id="task-input")
        with Horizontal(id="estimate-row"):
            yield DataTable(id="overhead-table", cursor_type="row")
            yield PlotextPlot(id="savings-chart")
        with VerticalScroll(id="plan-pane"):
            yield Static("Type a task and press Enter.", id="plan-text")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Splits", "Parallel", "Overhead", "Total", "Savings")

    @on(Input.Submitted, "#task-input")
    def _task_entered(self, event: Input.Submitted) -> None:
        self.query_one("#plan-text", Static).update("Planning…")
        self._plan(event.value)

    @work(group="engine-commands", exclusive=True, exit_on_error=False)
    async def _plan(self, task: str) -> None:
        try:
            config = load_config(self.repo)
            planner = choose_planner(self.planner_name, config)
            plan = await make_plan(task, self.repo, config, planner, PlanOptions())
        except EngineError as exc:
            self._fail(exc.one_line(), exc.problem)
            return
        except Exception as exc:  # noqa: BLE001 - a bug: one line and a crash log; the app stays up
            line = crash_line(exc, "planning in the terminal UI")
            self._fail(line, line.removeprefix("error: "))
            return
        self._show(plan)

    def _fail(self, line: str, note: str) -> None:
        self._clear()
        self.query_one("#plan-text", Static).update(line)
        self.notify(note, severity="error")

    def _clear(self) -> None:
        """A failed plan leaves no numbers of the previous task on screen."""
        self.query_one(DataTable).clear()
        chart = self.query_one(PlotextPlot)
        chart.plt.clear_data()
        chart.refresh()

    def _show(self, plan: Plan) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for r in plan.overhead.rows:
            mark = " ←" if r.splits == plan.overhead.optimal_splits else ""
            table.add_row(f"{r.splits}{mark}", fixed(r.parallel_minutes), fixed(r.overhead_minutes),
                          fixed(r.total_minutes), f"{fixed(r.savings_pct, 0)}%")
        chart = self.query_one(PlotextPlot)
        chart.plt.clear_data()
        chart.plt.plot([r.splits for r in plan.overhead.rows],
                       [r.total_minutes for r in plan.overhead.rows], marker="braille")
        chart.plt.title("total minutes by splits")
        chart.refresh()
        self.query_one("#plan-text", Static).update("\n".join(plan_lines(plan)))
