"""Screen 3, plan review: approve, reject and edit subtasks; every change is validated at once.

The engine validates the approved subtasks (`Backend.validate`, the same rule `run` applies);
this screen shows its problems (overlaps in red, naming files and subtasks) and its model and
verdict for the approved count. `l` launches only what the engine called valid.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from engine.core.models import AgentMatch, Plan, Subtask
from engine.core.numfmt import fixed
from tui.asks import replan_text
from tui.base import DashScreen
from tui.intents import ApprovalChanged, HostsChosen, LaunchRequested, PlanRequested, SubtaskEdited
from tui.markup import escape
from tui.modals import EditSubtask, HostPicker, SplitsPrompt
from tui.resources import stylesheets
from tui.state import UiState, changes


class ReviewScreen(DashScreen):
    FOCUS_ON_RESUME = "DataTable"
    CSS_PATH = stylesheets("review")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_approved", "✓/✗"),
        Binding("a", "approve_all", "all"),
        Binding("r", "reject", "reject"),
        Binding("e", "edit", "edit"),
        Binding("n", "replan", "re-plan N"),
        Binding("h", "hosts", "hosts"),
        Binding("l", "launch", "launch"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("no plan yet — type a task on screen 1", id="review-head")
        with Horizontal(id="review-main"):
            table: DataTable[str] = DataTable(id="subtasks", cursor_type="row")
            table.add_columns("", "subtask", "min", "agent", "confidence", "after")
            yield table
            with VerticalScroll(id="detail-box"):
                yield Static("", id="detail")
        with VerticalScroll(id="problems-box"):
            yield Static("", id="problems")
        yield Static("", id="blocker")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.border_title = "Subtasks"
        self.query_one("#problems-box").border_title = "Problems"
        table.focus()
        self.render_state(self.parallel.state)

    # ---- rendering -------------------------------------------------------------------------

    def render_state(self, state: UiState) -> None:
        self._rows(state)
        self._head(state)
        self._detail(state)
        self._problems(state)
        blocker = state.launch_blocker()
        self.query_one("#blocker", Static).update(
            f"l launch: [b]{escape(blocker)}[/]" if blocker else
            f"l launches {len(state.approved)} approved subtask(s) with agent {self.parallel.backend.agent}")
        self.refresh_bindings()

    def _rows(self, state: UiState) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for s in state.subtasks:
            agent = s.agent or AgentMatch(name="—", skill="", confidence=0.0, why="")
            mark = "[green]✓[/]" if s.name in state.approved else "[red]✗[/]"
            table.add_row(mark, s.name, fixed(s.estimated_minutes, 0), agent.name,
                          _bar(agent.confidence), ", ".join(s.depends_on) or "—", key=s.name)
        if state.subtasks:
            table.move_cursor(row=min(max(row, 0), len(state.subtasks) - 1))

    def _head(self, state: UiState) -> None:
        checked = state.checked
        n, k = len(state.subtasks), len(state.approved)
        # where they run is said only when the config offers SSH hosts (`h` chooses them)
        approved = f"{k} approved" + (f" · {state.where()}" if self.parallel.backend.offers_hosts else "")
        if state.plan is None:
            text = "no plan yet — type a task on screen 1"
        elif checked is None:
            text = f"Plan review  {n} subtasks · {approved} · validating…"
        else:
            v = checked.validation
            valid = "[red]INVALID[/]" if v.problems else "[green]valid[/]"
            best = checked.overhead.row(min(k, 10) or 1)
            sequential = fixed(checked.overhead.sequential_minutes)
            verdict = "parallelise" if v.verdict.parallelize else "stay sequential"
            text = (f"Plan review  {n} subtasks · {approved} · {valid} · risk {v.conflict_risk} · "
                    f"{k} sessions: {fixed(best.total_minutes)} vs {sequential} min of the approved "
                    f"subtasks ({fixed(best.savings_pct, 0)} %) · {verdict}")
        self.query_one("#review-head", Static).update(text)

    def _detail(self, state: UiState) -> None:
        s = self.selected()
        box = self.query_one("#detail-box")
        if s is None:
            box.border_title = "Selected"
            self.query_one("#detail", Static).update(_summary(state))
            return
        box.border_title = f"Selected: {s.name}"
        agent = s.agent
        # who does it, with which skill, why and for how long first: at 80×24 the panel has
        # about six rows, and the files are in the list's own detail below
        lines = [escape(s.description)]
        if agent is not None:
            lines += [f"[b]agent[/]   {agent.name} · {escape(agent.skill or 'no skill')}  "
                      f"{_bar(agent.confidence)} · {fixed(s.estimated_minutes, 0)} min",
                      f"[b]why[/]     {escape(agent.why)}"]
        else:
            lines += [f"[b]agent[/]   — · {fixed(s.estimated_minutes, 0)} min"]
        lines += [f"[b]modify[/]  {escape(' '.join(s.files_to_modify) or '—')}",
                  f"[b]create[/]  {escape(' '.join(s.files_to_create) or '—')}",
                  f"[b]after[/]   {', '.join(s.depends_on) or '—'}", "", _summary(state)]
        self.query_one("#detail", Static).update("\n".join(lines))

    def _problems(self, state: UiState) -> None:
        box = self.query_one("#problems-box")
        checked = state.checked
        box.set_class(bool(checked and checked.validation.problems), "-invalid")
        self.query_one("#problems", Static).update(_problem_text(state, checked))

    # ---- actions ---------------------------------------------------------------------------

    def selected(self) -> Subtask | None:
        table = self.query_one(DataTable)
        subtasks = self.parallel.state.subtasks
        if not subtasks or table.cursor_row < 0 or table.cursor_row >= len(subtasks):
            return None
        return subtasks[table.cursor_row]

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._detail(self.parallel.state)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "launch":
            return None if self.parallel.state.launch_blocker() else True
        if action in ("toggle_approved", "reject", "edit", "approve_all", "replan"):
            return True if self.parallel.state.subtasks else None
        if action == "hosts":  # hidden unless the config names SSH hosts
            return self.parallel.backend.offers_hosts
        return True

    def action_toggle_approved(self) -> None:
        s = self.selected()
        if s is not None:
            self.post_message(ApprovalChanged(toggle=s.name))

    def action_approve_all(self) -> None:
        self.post_message(ApprovalChanged(every=True))

    def action_reject(self) -> None:
        s = self.selected()
        if s is not None:
            self.post_message(ApprovalChanged(reject=s.name))

    def action_edit(self) -> None:
        s = self.selected()
        if s is None:
            return

        def done(edited: Subtask | None) -> None:
            if edited is not None:
                self.post_message(SubtaskEdited(s.name, edited))
        self.app.push_screen(EditSubtask(s), done)

    def action_replan(self) -> None:
        """Asks for N; when the person changed the plan, says first what a re-plan keeps."""
        state = self.parallel.state
        edited, rejected = changes(state)

        def done(splits: int | None) -> None:
            if splits is None:
                return
            if not edited and not rejected:
                self.post_message(PlanRequested(state.task, splits))
                return
            from tui.merge_modals import Confirm  # noqa: PLC0415 - loaded on use

            def answer(yes: bool | None) -> None:
                if yes:
                    self.post_message(PlanRequested(state.task, splits))
            self.app.push_screen(Confirm(f"Re-plan with {splits}?", replan_text(edited, rejected)), answer)
        self.app.push_screen(SplitsPrompt(len(state.subtasks) or 2), done)

    def action_hosts(self) -> None:
        def done(hosts: tuple[str, ...] | None) -> None:
            if hosts is not None:
                self.post_message(HostsChosen(hosts))
        backend, state = self.parallel.backend, self.parallel.state
        self.app.push_screen(HostPicker(backend.host_choices(), state.hosts), done)

    def action_launch(self) -> None:
        self.post_message(LaunchRequested())


def _problem_text(state: UiState, checked: Plan | None) -> str:
    if checked is None:
        return "validating…" if state.approved else "nothing approved"
    v = checked.validation
    lines = [f"[b red]✗ {escape(o.file)}: claimed by {' and '.join(o.subtasks)}[/]" for o in v.overlaps]
    overlap_files = {o.file for o in v.overlaps}
    lines += [f"[red]✗ {escape(p)}[/]" for p in v.problems if not any(f in p for f in overlap_files)]
    lines += [f"[yellow]! {escape(w)}[/]" for w in v.warnings]
    lines += [f"risk: {escape(r)}" for r in v.risk_reasons]
    if not v.problems:
        lines.insert(0, "[green]none — every file belongs to one subtask[/]")
    return "\n".join(lines)


def _summary(state: UiState) -> str:
    by_agent: dict[str, list[str]] = {}
    for s in state.subtasks:
        if s.name in state.approved:
            by_agent.setdefault(s.agent.name if s.agent else "—", []).append(s.name)
    return "[b]agents[/]\n" + "\n".join(f"  {a} → {', '.join(names)}" for a, names in by_agent.items())


def _bar(confidence: float, width: int = 5) -> str:
    full = round(max(0.0, min(confidence, 1.0)) * width)
    return "█" * full + "░" * (width - full) + f" {confidence:.0%}"
