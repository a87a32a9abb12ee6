"""Screen 2, split / savings: the overhead table N = 1..10, the verdict, the chart, the checklist.

Scope and minutes re-run the engine's model at once (it is pure arithmetic, no worker needed).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static
from textual_plotext import PlotextPlot

from engine.core.models import OverheadTable
from engine.core.numfmt import fixed
from engine.views import row_mark, waves_line
from tui.base import DashScreen
from tui.intents import ModelInputsChanged, ScreenRequested
from tui.markup import escape
from tui.resources import stylesheets
from tui.state import UiState
from tui.widgets import ModelInputs

LEGEND = "★ optimal  ◆ break-even  ✗ over the cap"
MARKS = {"optimal": "★", "over_cap": "✗ over cap", "": ""}
"""How the engine's row marks (`planning.overhead.row_mark`) look here."""


class SplitScreen(DashScreen):
    FOCUS_ON_RESUME = "DataTable"
    CSS_PATH = stylesheets("split")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "review", "Plan review", priority=True),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield ModelInputs(id="split-inputs")
        yield Static("", id="verdict")
        with Horizontal(id="split-row"):
            table: DataTable[str] = DataTable(id="overhead", cursor_type="row")
            table.add_columns("N", "parallel", "overhead", "total", "savings", "")
            yield table
            yield PlotextPlot(id="chart")
        with VerticalScroll(id="split-text"):
            yield Static("", id="checklist")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.border_title = "Split / savings (modelled minutes)"
        table.border_subtitle = LEGEND
        self.query_one("#chart").border_title = "total minutes by splits"
        self.query_one(DataTable).focus()
        self.render_state(self.parallel.state)

    def render_state(self, state: UiState) -> None:
        self.query_one(ModelInputs).set_values(state.scope, state.minutes)
        if state.profile is None:
            self.query_one("#verdict", Static).update("analysing the repo…")
            return
        _, table = self.parallel.backend.table(state.task, state.profile, scope=state.scope,
                                               minutes=state.minutes, files=_plan_files(state))
        self._table(table)
        self._chart(table)
        verdict = "parallelise" if table.is_worth_parallelizing else "stay sequential"
        best = table.row(table.optimal_splits)
        self.query_one("#verdict", Static).update(
            f"[b]Verdict: {verdict}[/] — {fixed(best.savings_pct, 0)} % with {table.optimal_splits} "
            f"session(s) ({fixed(best.total_minutes)} vs {fixed(table.sequential_minutes)} min sequential, "
            f"the task estimate){_review_total(state, table.sequential_minutes)}\n"
            f"{escape(table.reason)}\ncap {table.split_cap}: {escape(table.cap_reason)}"
            f"{_waves(state)}")
        self.query_one("#checklist", Static).update(_checklist(state))

    def _table(self, overhead: OverheadTable) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for r in overhead.rows:
            marks = MARKS[row_mark(overhead, r.splits)] + \
                    ("◆" if r.splits == overhead.break_even_splits else "")
            table.add_row(str(r.splits), fixed(r.parallel_minutes), fixed(r.overhead_minutes),
                          fixed(r.total_minutes), f"{fixed(r.savings_pct, 0)} %", marks)
        table.move_cursor(row=overhead.optimal_splits - 1)

    def _chart(self, overhead: OverheadTable) -> None:
        chart = self.query_one(PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        xs = [r.splits for r in overhead.rows]
        plt.plot(xs, [r.total_minutes for r in overhead.rows], marker="braille", label="total")
        plt.plot(xs, [overhead.sequential_minutes] * len(xs), marker="-", label="sequential")
        plt.xticks([float(x) for x in xs], [str(x) for x in xs])
        chart.refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """enter reviews the plan once there is one (greyed out before)."""
        if action == "review":
            return True if self.parallel.state.plan is not None else None
        return True

    def action_review(self) -> None:
        self.post_message(ScreenRequested("review"))

    def on_screen_resume(self) -> None:
        self.refresh_bindings()

    @on(ModelInputs.Changed)
    def _model_changed(self, event: ModelInputs.Changed) -> None:
        self.post_message(ModelInputsChanged(event.scope, event.minutes))


def _waves(state: UiState) -> str:
    """The plan's "with waves" estimate, when the plan under review has dependencies: the
    table above assumes independent subtasks."""
    plan = state.checked
    if plan is None or plan.waves is None:
        return ""
    return f"\n[b]{escape(waves_line(plan.waves))}[/]"


def _plan_files(state: UiState) -> int | None:
    """The files the plan for this task changes: the auto estimate counts them, so this screen
    and the plan show one sequential figure."""
    plan = state.plan
    if plan is None or plan.task != state.task:
        return None
    return len({f for s in plan.subtasks for f in s.files()})


def _review_total(state: UiState, estimate: float) -> str:
    """Plan review models the approved subtasks' own minutes; when that total differs from the
    task estimate here, say so, so nobody meets two unexplained totals."""
    if state.checked is None or fixed(state.checked.overhead.sequential_minutes) == fixed(estimate):
        return ""
    return (f"\nplan review (3): {fixed(state.checked.overhead.sequential_minutes)} min, the approved "
            "subtasks' own minutes")


def _checklist(state: UiState) -> str:
    plan = state.plan  # the plan as proposed, the same model as the table at its inputs
    if plan is None:
        return "checklist: plan a task (screen 1) to see it"
    done = sum(item.ok for item in plan.checklist)
    lines = [f"[b]checklist {done}/{len(plan.checklist)}[/]"]
    lines += [f"{'✓' if i.ok else '✗'} {escape(i.item)} — {escape(i.detail)}" for i in plan.checklist]
    return "\n".join(lines)
