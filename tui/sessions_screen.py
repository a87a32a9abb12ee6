"""Screen 4, the sessions board: one row per session, live from the bridge; a pane preview.

Every action (attach, send, stop, diff, the preview) goes through the app's engine adapter;
the board only renders the run status the bridge posts.
"""

from __future__ import annotations

import re
import shlex
from functools import partial
from typing import ClassVar

from textual import events, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from engine.core.errors import EngineError
from engine.core.models import SessionState
from engine.views import OUTSIDE, AttachPlan, RunStatus, SessionStatus
from tui import board_rows
from tui.base import DashScreen
from tui.diff_screen import DiffScreen
from tui.intents import HistoryRequested, MergeReviewRequested, ReportRequested, RunRefreshRequested
from tui.markup import escape
from tui.modals import SendLine
from tui.resources import stylesheets
from tui.state import UiState


class SessionsScreen(DashScreen):
    FOCUS_ON_RESUME = "DataTable"
    CSS_PATH = stylesheets("sessions")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "attach", "attach", priority=True),
        Binding("w", "next_waiting", "next!", tooltip="the next session that needs your input"),
        Binding("i", "send", "send"),
        Binding("s", "stop", "stop"),
        Binding("d", "diff", "diff"),
        Binding("m", "merge_review", "merge"),
        Binding("R", "report", "report"),
        Binding("H", "history", "history"),
    ]

    _previewed: object = None
    """What the preview last loaded for (run, session, its state, last line, commits)."""
    _keys: object = ()
    """Which keys applied at the last render (the selection, its window, its branch): the
    footer is rebuilt only when that changes."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("no run yet — launch one from plan review (3)", id="board-head")
        with Horizontal(id="board-main"):
            table: DataTable[str] = DataTable(id="sessions", cursor_type="row")
            table.add_columns(*board_rows.columns(wide=False))
            yield table
            yield Static("", id="preview", markup=False)  # cut to its box: nothing to scroll
        yield Static("", id="radar")
        yield Footer()

    def __init__(self) -> None:
        super().__init__()
        self._shown: dict[str, str] = {}
        self._note = ""
        """How to come back from the window the person is looking at (a popup, a switch)."""
        self._wide = False
        self._pane_text = ""
        self._mounted = False
        """Set in on_mount: the run's state can arrive before the board is composed (its
        table not there yet); on_mount renders what arrived by then."""
        self._panes: dict[str, tuple[object, str]] = {}
        """Each session's pane text and what it was read for: the preview shows it at once on
        a key, and re-reads it only when the session's events say it shows something new."""

    def on_resize(self, event: events.Resize) -> None:
        """From board_rows.WIDE columns the board shows every column (the room is used)."""
        self.call_after_refresh(lambda: self._show_pane(self._pane_text))  # refit to the new size
        wide = event.size.width >= board_rows.WIDE
        self.set_class(wide, "-wide")
        if wide != self._wide:
            self._wide = wide
            table = self.query_one(DataTable)
            table.clear(columns=True)
            table.add_columns(*board_rows.columns(wide=wide))
            run = self.parallel.state.run
            self._fill(run.sessions if run else (), _outside(run))

    def on_unmount(self) -> None:
        self._mounted = False  # its children go with it: a late state change finds no table

    def on_mount(self) -> None:
        self._mounted = True
        table = self.query_one(DataTable)
        table.border_title = "Sessions"
        self.query_one("#preview").border_title = "pane"
        table.focus()
        self.watch(table, "cursor_coordinate", self._cursor_moved, init=False)
        self.render_state(self.parallel.state)
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        """Elapsed time counts on by the board's own clock over each session's `started_at`
        (the bridge posts only when the run's events change something): its cells only."""
        run = self.parallel.state.run
        if run is not None and any(s.started_at and not s.ended_at for s in run.sessions):
            self._fill(run.sessions, _outside(run))

    def render_state(self, state: UiState) -> None:
        """Called when the run's events change something: only what changed is redrawn, and the
        pane is re-read only when the selected session shows something new."""
        if not self._mounted:
            return
        run = state.run
        self._show("#board-head", _head(state))
        self._fill(run.sessions if run else (), _outside(run))
        self._show("#radar", _radar(run, self._note))
        s = self.selected()
        self._refresh_keys(s)
        for other in run.sessions if run else ():  # off the key path: read panes as events come
            if self._panes.get(other.name, (None, ""))[0] != _pane_key(state.run_id, other):
                self._load_preview(state.run_id, other)
        seen = _pane_key(state.run_id, s) if s else None
        if seen != self._previewed:
            self._preview()

    def _show(self, selector: str, text: str) -> None:
        """Static.update lays the screen out again even for the same text: skip it then."""
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text)

    def _fill(self, sessions: tuple[SessionStatus, ...], outside: dict[str, int]) -> None:
        try:
            table = self.query_one(DataTable)
        except NoMatches:
            return  # not mounted yet, or being taken down (the app quits): nothing to draw on
        now, room = self.parallel.clock(), board_rows.last_line_room(self.size.width)

        def _row(s: SessionStatus, outside: int = 0) -> tuple[str, ...]:
            return board_rows.row(s, wide=self._wide, now=now, room=room, outside=outside)
        if [k.value for k in table.rows] != [s.name for s in sessions]:
            row = table.cursor_row
            table.clear()
            for s in sessions:
                table.add_row(*_row(s, outside.get(s.name, 0)), key=s.name)
            if sessions:
                table.move_cursor(row=min(max(row, 0), len(sessions) - 1))
            return
        for s in sessions:  # same rows: update the cells that changed (elapsed, mostly)
            for column, old, new in zip(table.columns, table.get_row(s.name), _row(s, outside.get(s.name, 0)),
                                        strict=True):
                if old != new:
                    table.update_cell(s.name, column, new)

    def selected(self) -> SessionStatus | None:
        run = self.parallel.state.run
        row = self.query_one(DataTable).cursor_row
        if run is None or not run.sessions or not 0 <= row < len(run.sessions):
            return None
        return run.sessions[row]

    def _cursor_moved(self) -> None:
        """Called as the cursor moves, before the key's frame is drawn: the preview and the
        keys change in that same frame. (DataTable's RowHighlighted is a message, handled only
        after that frame: the preview would show one screen update later, 17–33 ms.)"""
        self._preview()
        self._refresh_keys(self.selected())

    def _refresh_keys(self, s: SessionStatus | None) -> None:
        run = self.parallel.state.run
        waiting = run is not None and any(x.state == SessionState.NEEDS_INPUT for x in run.sessions)
        keys = (bool(self.parallel.state.run_id), waiting,
                None if s is None else (_window_gone(s), _branch_gone(s)))
        if keys != self._keys:  # the footer rebuilds its keys: only when they change
            self._keys = keys
            self.refresh_bindings()

    def _preview(self) -> None:
        """Show the selected session's pane from the cache at once (a key never waits for
        tmux); read it again only when its events say it changed."""
        s = self.selected()
        run_id = self.parallel.state.run_id
        self._previewed = _pane_key(run_id, s) if s else None
        preview = self.query_one("#preview", Static)
        preview.border_title = f"{s.name} — pane" if s else "pane"
        if s is None:
            preview.update("")
            return
        key, text = self._panes.get(s.name, (None, ""))
        if text:
            self._show_pane(text)
        if key != self._previewed:
            self._load_preview(run_id, s)

    def _show_pane(self, text: str) -> None:
        """The pane's tail, cut to the box (one row per line): the box's size never depends
        on the text, so a key that changes the preview repaints it without laying out the
        whole screen again (that layout was most of a key's time with 8 sessions)."""
        self._pane_text = text
        preview = self.query_one("#preview", Static)
        size = preview.content_size
        preview.update(_fit(text, size.width, size.height) if size.height else text, layout=False)

    def _load_preview(self, run_id: str, s: SessionStatus) -> None:
        """The worker gets the function, not a coroutine: a newer read replaces one that has
        not started yet, and nothing was created that must be awaited."""
        self._panes[s.name] = (_pane_key(run_id, s), self._panes.get(s.name, (None, ""))[1])
        read = partial(self._read_pane, run_id, s)
        # the annotation tells mypy which of run_worker's work types `read` is
        _: Worker[None] = self.run_worker(read, group=f"preview-{s.name}", exclusive=True,
                                          exit_on_error=False)

    async def _read_pane(self, run_id: str, s: SessionStatus) -> None:
        try:
            text = await self.parallel.backend.pane_text(run_id, s.name)
        except EngineError:
            text = s.last_line or s.problem or "(no pane: the window is gone)"
        text = _squeeze(text) or "(empty pane)"
        self._panes[s.name] = (_pane_key(run_id, s), text)
        selected = self.selected()
        if selected is not None and selected.name == s.name:
            self._show_pane(text)

    def on_screen_resume(self) -> None:
        """Back from another screen: what was done there (a merge, its cleanup) is read again."""
        super().on_screen_resume()
        self.post_message(RunRefreshRequested())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """attach and send need the session's window, stop its running agent; diff its branch;
        merge and report a run (False hides a key: with no run the board offers only history)."""
        if action in ("attach", "send", "stop", "diff"):
            s = self.selected()
            if s is None:
                return False
            if action == "stop":
                return s.agent_running
            return not (_branch_gone(s) if action == "diff" else _window_gone(s))
        if action in ("merge_review", "report"):
            return bool(self.parallel.state.run_id)
        if action == "next_waiting":
            run = self.parallel.state.run
            return run is not None and any(s.state == SessionState.NEEDS_INPUT for s in run.sessions)
        return True

    def action_next_waiting(self) -> None:
        """The next row (after the selected one, wrapping) whose agent waits for the person."""
        run = self.parallel.state.run
        if run is None:
            return
        table = self.query_one(DataTable)
        n = len(run.sessions)
        for step in range(1, n + 1):
            row = (table.cursor_row + step) % n
            if run.sessions[row].state == SessionState.NEEDS_INPUT:
                table.move_cursor(row=row)
                return
        self.notify("no session needs your input")

    def action_attach(self) -> None:
        s = self.selected()
        if s is not None:
            self._attach_session(s.name)

    @work(group="attach", exclusive=True, exit_on_error=False)
    async def _attach_session(self, name: str) -> None:
        """The engine says how (`engine.run.attach`): a popup over the person's tmux client runs
        in a thread (it blocks until closed) and the board says how to come back; outside tmux
        the app suspends and hands its terminal to tmux."""
        try:
            plan = await self.parallel.backend.attach_plan(self.parallel.state.run_id, name)
        except EngineError as exc:
            self.notify(f"cannot attach to {name}: {exc.one_line().removeprefix('error: ')}",
                        severity="error", timeout=10)
            return
        if plan.takes_terminal:
            self._run_attached(name, plan)
            return
        self._set_note(f"{name} is open in a tmux popup; this board is frozen behind it — {plan.back}"
                       if plan.how == "popup" else f"your tmux client switched to {name} — {plan.back}")
        why = await self.parallel.backend.show_window(plan)
        if plan.how == "popup" or why:
            self._set_note("")
        if why:
            self.notify(f"cannot attach to {name}: {why}", severity="error", timeout=10)

    def _set_note(self, text: str) -> None:
        self._note = text
        self._show("#radar", _radar(self.parallel.state.run, text))

    def _run_attached(self, name: str, plan: AttachPlan) -> None:
        """The app's terminal belongs to tmux until it detaches; then the app redraws. tmux's
        complaint (a window gone, no server) is shown in the app, not left on the shell."""
        try:
            with self.app.suspend():
                why = self.parallel.backend.hand_over(plan)
        except SuspendNotSupported:
            self.notify("this terminal cannot suspend the app: run " + shlex.join(plan.argv),
                        severity="warning")
            return
        if why:
            self.notify(f"cannot attach to {name}: {why}", severity="error", timeout=10)

    def action_send(self) -> None:
        s = self.selected()
        if s is None:
            return

        def done(text: str | None) -> None:
            if text:
                self._send(s.name, text)
        self.app.push_screen(SendLine(s.name), done)

    @work(group="session-command", exit_on_error=False)
    async def _send(self, name: str, text: str) -> None:
        try:
            await self.parallel.backend.send(self.parallel.state.run_id, name, text)
        except EngineError as exc:
            self.notify(exc.one_line(), severity="error")
            return
        self.notify(f"sent to {name}")

    def key_s(self) -> None:
        """`s` on a session whose agent has ended: the key is not offered, and pressing it says
        why (Textual calls this before the binding, which runs only where stop applies)."""
        s = self.selected()
        if s is not None and not s.agent_running:
            when = "has already ended" if s.started_at else "has not started"
            self.notify(f"{s.name} {when}: nothing to stop")

    def action_stop(self) -> None:
        """Asks first: stopping loses the agent's uncommitted work."""
        s = self.selected()
        if s is None:
            return
        decision = self.parallel.backend.stop_decision(s.name)

        def answer(yes: bool | None) -> None:
            if yes:
                self._stop(s.name, decision.detail)
        from tui.merge_modals import Confirm  # noqa: PLC0415 - loaded on use

        self.app.push_screen(Confirm(f"{decision.question}?", decision.detail), answer)

    @work(group="session-command", exit_on_error=False)
    async def _stop(self, name: str, asked: str) -> None:
        try:
            stopped = await self.parallel.backend.stop(self.parallel.state.run_id, name, asked=asked)
        except EngineError as exc:
            self.notify(exc.one_line(), severity="error")
            return
        self.notify(f"stopped {name}" if stopped else f"{name} was not stopped")

    def action_merge_review(self) -> None:
        self.post_message(MergeReviewRequested())

    def action_report(self) -> None:
        self.post_message(ReportRequested(self.parallel.state.run_id))

    def action_history(self) -> None:
        self.post_message(HistoryRequested())

    def action_diff(self) -> None:
        s = self.selected()
        if s is not None:
            self._diff(s.name)

    @work(group="session-command", exit_on_error=False)
    async def _diff(self, name: str) -> None:
        try:
            diffs = await self.parallel.backend.file_diffs(self.parallel.state.run_id, name)
        except EngineError as exc:
            self.notify(exc.one_line(), severity="error")
            return
        self.app.push_screen(DiffScreen(name, diffs))


def _pane_key(run_id: str, s: SessionStatus) -> object:
    """What a pane read is good for: the session's events change one of these when it printed."""
    return (run_id, s.name, s.state, s.last_line, s.commits)


def _outside(run: RunStatus | None) -> dict[str, int]:
    """Per session, how many files it changed outside its own (the status's boundary warnings)."""
    counts: dict[str, int] = {}
    for w in run.overlaps if run else ():
        if w.reason == OUTSIDE:
            counts[w.session] = counts.get(w.session, 0) + 1
    return counts


def _window_gone(s: SessionStatus) -> bool:
    return not s.has_window


def _branch_gone(s: SessionStatus) -> bool:
    """A cleaned-up session's branch was merged and deleted (or kept as a leftover the
    cleanup named)."""
    return s.cleaned


def _head(state: UiState) -> str:
    run = state.run
    if run is None:
        return (f"run {state.run_id}: reading its sessions…" if state.run_id else
                "no run yet — launch one from plan review (3)")
    counts: dict[str, int] = {}
    for s in run.sessions:
        counts[s.state.value.replace("_", " ")] = counts.get(s.state.value.replace("_", " "), 0) + 1
    parts = " · ".join(f"{n} {k}" for k, n in counts.items())
    costs = [s.cost_usd for s in run.sessions if s.cost_usd is not None and s.rate_limit_pct is None]
    limits = [s.rate_limit_pct for s in run.sessions if s.rate_limit_pct is not None]
    cost = f"   cost ${sum(costs):.2f}" if costs else ""
    cost += f"   limit {max(limits):.0f} %" if limits else ""
    note = f"   run {run.orchestrator}" if run.orchestrator in ("interrupted", "killed") else ""
    if run.sandbox and not run.sandboxed:
        note += f"   ⚠ {run.sandbox}"
    return f"Run {run.run_id}  {len(run.sessions)} sessions · {parts}{cost}{note}"


def _radar(run: RunStatus | None, note: str = "") -> str:
    if run is None:
        return note and f"[b reverse] {escape(note)} [/]"
    lines = [f"[b reverse] {escape(note)} [/]"] if note else []
    lines += [f"[b red]✗ {' ↔ '.join(c.sessions)} conflict now in {escape(', '.join(c.files))}[/]"
             for c in run.conflicts]
    lines += [f"[b yellow]! {w.session}: {escape(w.file)} {w.reason}[/]" for w in run.overlaps]
    lines += [f"[red]{s.name}: {escape(s.problem)}[/]" for s in run.sessions if s.problem]
    return "\n".join(lines) if len(lines) > bool(note) else \
        "\n".join([*lines, "radar: no conflicts, no overlaps, no boundary warnings"])


def _fit(text: str, width: int, height: int) -> str:
    """The last `height` lines of `text`, each cut to `width` columns."""
    lines = text.splitlines()[-height:]
    return "\n".join(line if len(line) <= width else line[: max(width - 1, 0)] + "…" for line in lines)


def _squeeze(text: str) -> str:
    """The pane without its runs of blank lines (a dead pane is mostly empty rows)."""
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text.strip("\n")).rstrip()
