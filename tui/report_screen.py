"""Screen 6, the run report: predicted against measured, and which number is which.

Everything comes from `Engine.report` (engine.report.efficiency); the screen adds no number of
its own, and shows the engine's `sources` labels next to what they describe.
"""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static
from textual_plotext import PlotextPlot

from engine.core.errors import EngineError
from engine.views import SPECIALIZATION_BONUS_PCT, RunReport
from tui.base import NARROW, DashScreen
from tui.intents import HistoryRequested
from tui.resources import stylesheets
from tui.state import UiState

SHORT = {"worktree_creation": "worktree", "session_startup": "startup", "context_building": "context",
         "merge_per_branch": "merge"}
"""Stage names short enough that every bar keeps its label under the chart."""


class ReportScreen(DashScreen):
    CSS_PATH = stylesheets("report")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "app.pop_screen", "back"),
                                             Binding("H", "history", "history")]

    def __init__(self, run_id: str, *, recorded: RunReport | None = None) -> None:
        """`recorded` renders a given report (snapshots) instead of asking the engine."""
        super().__init__()
        self.run_id = run_id
        self.report = recorded

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="report-body"):  # narrow, the panels stack at full height and it scrolls
            yield Static(f"reading the report of run {self.run_id}…", id="report-head")
            with Horizontal(id="report-row"):
                stages: DataTable[str] = DataTable(id="stages", cursor_type="row")
                stages.add_columns("stage", "modelled s", "measured s", "n", "note")
                yield stages
                yield PlotextPlot(id="stage-chart")
            sessions: DataTable[str] = DataTable(id="report-sessions", cursor_type="row")
            sessions.add_columns("session", "agent", "state", "time", "cost", "commits", "files", "+/−")
            yield sessions
            with VerticalScroll(id="report-sources"):
                yield Static("", id="sources")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#stages").border_title = "Stages, per branch (modelled vs measured)"
        self.query_one("#stage-chart").border_title = "seconds per stage"
        self.query_one("#report-sessions").border_title = "Sessions (measured)"
        self.query_one("#report-sources").border_title = "Where each number comes from"
        self.query_one("#stages").focus()
        if self.report is not None:
            self.show(self.report)
        else:
            self._load()

    def render_state(self, state: UiState) -> None:
        """The report renders its own run, not the board's state."""

    def action_history(self) -> None:
        self.post_message(HistoryRequested())

    @work(group="report", exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        try:
            report = await self.parallel.backend.report(self.run_id)
        except EngineError as exc:
            self.query_one("#report-head", Static).update(Text(exc.one_line(), style="b red"))
            return
        self.show(report)

    def show(self, report: RunReport) -> None:
        self.report = report
        self.query_one("#report-head", Static).update(_head(report))
        stages = self.query_one("#stages", DataTable)
        stages.clear()
        width = self.app.size.width
        room = max(width - 60, 12) if width < NARROW else 1000
        for s in report.stages:  # narrow, a long note is cut to fit (a wide terminal shows it whole)
            note = s.note if len(s.note) <= room else s.note[: room - 1] + "…"
            stages.add_row(s.name, _num(s.modelled_seconds), _num(s.measured_seconds), str(s.samples), note)
        sessions = self.query_one("#report-sessions", DataTable)
        sessions.clear()
        for line in report.sessions:
            lines = "—" if line.lines_added is None else f"+{line.lines_added}/−{line.lines_removed or 0}"
            name = f"{line.name} ⊘{len(line.refused_edits)}" if line.refused_edits else line.name
            agent = line.agent if line.host == "local" else f"{line.agent} @ {line.host}"
            sessions.add_row(name, agent, line.state, _clock(line.seconds),
                             "—" if line.cost_usd is None else f"${line.cost_usd:.2f}",
                             _int(line.commits), _int(line.files_changed), lines)
        self.query_one("#sources", Static).update(_sources(report))
        self._chart(report)
        # the focused stage table scrolls itself into view as the rows arrive (one line, at
        # 80×24): the report starts at its top, the run's id
        self.call_after_refresh(self.query_one("#report-body", VerticalScroll).scroll_home, animate=False)

    def _chart(self, report: RunReport) -> None:
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        names = [SHORT.get(s.name, s.name) for s in report.stages]
        plt.multiple_bar(names, [[s.modelled_seconds or 0.0 for s in report.stages],
                                 [s.measured_seconds or 0.0 for s in report.stages]],
                         labels=["modelled", "measured"])  # type: ignore[call-arg]  # the stub says label
        plt.ylabel("seconds")
        plot.refresh()


def _head(report: RunReport) -> Text:
    """What was measured first; the model's figures after it, labelled modelled, with what
    the comparison between them is (a measured time against an estimated one)."""
    text = Text.assemble(("Run ", ""), (report.run, "b"), f"  {report.task}\n", "outcome ",
                         (report.outcome, "b green" if report.outcome == "merged" else "b yellow"),
                         f"   agent {report.agent}   sessions {len(report.sessions)}\n")
    a = report.actual
    text.append("measured  ", "b green")
    if a.wall_seconds is None:
        text.append("wall time not measured yet (the run has not ended)\n")
    else:
        active = "" if a.active_seconds is None else f", active {_minutes(a.active_seconds)}"
        text.append(f"wall {_minutes(a.wall_seconds)} (launch to merge){active}, "
                    f"waiting for you {a.waiting_seconds:.0f}s\n")
    p = report.predicted
    text.append("modelled  ", "b yellow")
    if p is None:
        text.append("no estimate was recorded for this run")
        return text
    text.append(f"N={p.splits}: {p.total_minutes:.1f} min against {p.sequential_minutes:.1f} min for one "
                f"session (an estimate, never run), {p.savings_pct:.0f}% saved")
    if report.realised_savings_pct is not None:
        text.append(f"\nthe measured wall time is {report.realised_savings_pct:.0f}% under that estimated "
                    "one-session time (a measurement against a model)")
    if p.specialization_bonus_pct:
        each = f"{SPECIALIZATION_BONUS_PCT:.0f}%"
        text.append(f"\n+{p.specialization_bonus_pct:.0f}% specialization: the spec assumes each agent "
                    f"matched to its subtask's skill adds {each}; modelled, not measured")
    return text


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f}s"


def _sources(report: RunReport) -> Text:
    """Where each number comes from; first, when the ownership hook refused any edit, which
    (a session's ⊘N in the table counts them)."""
    text = Text()
    for line in report.sessions:
        for r in line.refused_edits:
            text.append(f"⊘ {line.name} ", "b red")
            text.append(f"refused an edit of {r.path} ({r.decision}) at {_at(r.at)}\n")
    for key, label in report.sources.items():
        style = "green" if label.startswith("measured") else "yellow" if label.startswith("modelled") else ""
        text.append(f"{key:<26} ", "b")
        text.append(label + "\n", style)
    return text


def _at(when: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(when)) if when else "?"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _int(value: int | None) -> str:
    return "—" if value is None else str(value)


def _clock(seconds: float | None) -> str:
    """m:ss, or tenths of a second under a minute (a short demo session is not `0:00`)."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"
