"""Screen 7, history: this repo's runs, newest first; `enter` opens a run's report."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from engine.core.errors import EngineError
from engine.views import HistoryLine
from tui.base import DashScreen
from tui.intents import ReportRequested
from tui.resources import stylesheets
from tui.state import UiState

OUTCOME_COLOURS = {"merged": "green", "partly merged": "yellow", "not merged": "yellow", "abandoned": "red"}


class HistoryScreen(DashScreen):
    CSS_PATH = stylesheets("history")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_report", "report", priority=True),
        Binding("escape,q", "app.pop_screen", "back"),
    ]

    def __init__(self, *, recorded: tuple[HistoryLine, ...] | None = None) -> None:
        """`recorded` renders given lines (snapshots) instead of asking the engine."""
        super().__init__()
        self.lines = recorded or ()
        self.recorded = recorded is not None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("reading this repo's runs…", id="history-head")
        table: DataTable[str | Text] = DataTable(id="history", cursor_type="row")
        # the outcome beside the run and the task (the widest) last: 80 columns show what
        # became of each run without scrolling sideways
        table.add_columns("run", "outcome", "started", "N", "predicted", "actual", "cost", "agents", "task")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).border_title = "Runs of this repo (predicted: modelled · actual: measured)"
        self.query_one(DataTable).focus()
        if self.recorded:
            self.show(self.lines)
        else:
            self._load()

    def render_state(self, state: UiState) -> None:
        """History renders the journal's runs, not the board's state."""

    @work(group="history", exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        try:
            lines = await self.parallel.backend.history()
        except EngineError as exc:
            self.query_one("#history-head", Static).update(Text(exc.one_line(), style="b red"))
            return
        self.show(lines)

    def show(self, lines: tuple[HistoryLine, ...]) -> None:
        self.lines = lines
        self.query_one("#history-head", Static).update(
            f"{len(lines)} run(s), newest first — enter opens a run's report" if lines else "no runs yet")
        table = self.query_one(DataTable)
        table.clear()
        for line in lines:
            table.add_row(*_row(line), key=line.run)

    def action_open_report(self) -> None:
        row = self.query_one(DataTable).cursor_row
        if 0 <= row < len(self.lines):
            self.post_message(ReportRequested(self.lines[row].run))


def _row(line: HistoryLine) -> tuple[str | Text, ...]:
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime(line.created_at))
    task = line.task if len(line.task) <= 40 else line.task[:39] + "…"
    cost = "—" if line.cost_usd is None else f"${line.cost_usd:.2f}"
    outcome = Text(line.outcome, OUTCOME_COLOURS.get(line.outcome, ""))
    return (line.run, outcome, started, str(line.splits), _minutes(line.predicted_minutes),
            _minutes(line.actual_minutes), cost, ", ".join(line.agents), task)


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} min"
