"""The Textual app: task entry → split/savings → plan review → live sessions board.

The app owns one `UiState` and the engine adapter (`tui.backend.Backend`); screens render the
state and post intents (`tui.intents`: plan, approve, launch…) that bubble up to the app, which
runs each engine command in a worker. One bridge worker follows a started run and posts one
`RunStateChanged` per change. The app decides nothing the engine decides.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual import events, on, work
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

from engine.core import events as ev
from engine.core.crash import crash_line
from engine.core.errors import EngineError
from engine.core.event_text import event_line
from engine.core.models import Conventions, SessionState, Subtask
from engine.service import Engine
from tui import hangup, notify
from tui.asks import quit_text
from tui.backend import Backend, Placed
from tui.bridge import follow_run
from tui.intents import (
    AgentChosen,
    ApprovalChanged,
    HistoryRequested,
    HostsChosen,
    LaunchRequested,
    MergeReviewRequested,
    ModelInputsChanged,
    PlannerChosen,
    PlanRequested,
    ReportRequested,
    RunRefreshRequested,
    ScreenRequested,
    SubtaskEdited,
)
from tui.modals import HelpScreen
from tui.resources import stylesheets
from tui.state import RunStateChanged, UiState, carried
from tui.task_screen import TaskScreen

ATTENTION = (SessionState.NEEDS_INPUT, SessionState.FAILED)


class ParallelApp(App[None]):
    """The dashboard over one repo's engine."""

    CSS_PATH = stylesheets()
    TITLE = "parallel-tui"
    MODES: ClassVar[dict[str, Callable[[], Screen[None]]]] = {  # type: ignore[assignment]
        "task": TaskScreen, "split": lambda: _screen("split"), "review": lambda: _screen("review"),
        "sessions": lambda: _screen("sessions")}
    """The first screen is imported with the app; the others when first shown (the split
    screen's chart library alone is ~30 ms of the first frame)."""
    DEFAULT_MODE = "task"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "ask_quit", "Quit", priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("f1", "help", "Help", show=False, priority=True),
        Binding("1", "screen('task')", "Task", show=False),
        Binding("2", "screen('split')", "Split", show=False),
        Binding("3", "screen('review')", "Review", show=False),
        Binding("4", "screen('sessions')", "Sessions", show=False),
        Binding("escape", "leave_field", "Leave field", show=False),
        Binding("q", "ask_quit", "Quit", show=False),
    ]

    def __init__(self, engine: Engine, *, planner: str = "auto", label: str | None = None,
                 still: bool = False, open_run: str | None = None, task: str = "") -> None:
        """`engine` comes from `engine.service.build_engine` (tests pass one on a temp repo);
        `planner` is only the name the task screen shows with its reason."""
        super().__init__()
        self.backend = Backend(engine, planner=planner)
        self.label = label or str(engine.repo)
        """`label` replaces the path in the header (snapshots need a stable one)."""
        self.still = still
        """No cursor blink and no clock: snapshot tests render the same frame every time."""
        self.open_run = open_run
        self.state = UiState(task=task)
        self.crash = ""
        """The one line for an unexpected error that ended the app; `tui.entry` prints it."""
        self._seen: dict[str, SessionState] = {}
        self.clock: Callable[[], float] = time.time
        self._tmux_passthrough = False
        """Now, for the board's "quiet for" column (snapshots freeze it)."""
        self._thread = threading.get_ident()
        self._unsubscribe: Callable[[], None] | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Textual would print a full traceback on exit: keep it in a crash log, say one line."""
        self.crash = crash_line(error, "running the terminal UI")
        super()._handle_exception(error)
        self._exit_renderables.clear()

    def on_mount(self) -> None:
        self._thread = threading.get_ident()
        self._unsubscribe = self.backend.subscribe(self._engine_event)
        hangup.install(self)
        self._passthrough()
        self.update_title()
        self._analyze()
        self._open_live_run()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _engine_event(self, event: ev.Event) -> None:
        """Every engine event, from any thread: planning and launch progress lines."""
        if threading.get_ident() != self._thread:
            self.call_from_thread(self._engine_event, event)
            return
        if self.state.busy:
            self.set_state(progress=(*self.state.progress, event_line(event)))

    @work(group="analyze", exit_on_error=False)
    async def _analyze(self) -> None:
        self.set_state(profile=await self.backend.analyze())

    @work(group="live-run", exit_on_error=False)
    async def _open_live_run(self) -> None:
        run_id = self.open_run or await self.backend.live_run()
        if run_id:
            self.follow(run_id)
            self.switch_mode("sessions")

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Snapshots need the same frame every run: no blinking cursor in any field."""
        if self.still and isinstance(event.widget, Input | TextArea):
            event.widget.cursor_blink = False

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A failed worker's error is shown, never a "Planning…" that lasts forever."""
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        error = event.worker.error
        line = error.one_line() if isinstance(error, EngineError) else \
            crash_line(error, f"the {event.worker.group} worker")
        self.set_state(busy="", error=line)
        self.notify(line.removeprefix("error: "), severity="error", timeout=8)

    # ---- state -----------------------------------------------------------------------------

    def set_state(self, **changes: object) -> None:
        self.state = self.state.with_(**changes)
        self.update_title()
        if not self.screen_stack:  # closing: its screens are gone, the state has nowhere to show
            return
        render = getattr(self.screen, "render_state", None)
        if render is not None:
            render(self.state)

    def update_title(self) -> None:
        """Progress, repo, run id: in that order, so a narrow terminal (or a long repo path)
        cuts the run id's tail or the path (the board names both in full), never the progress."""
        parts = [self.label]
        run = self.state.run
        if run is not None and run.sessions:
            done = sum(s.state == SessionState.DONE for s in run.sessions)
            parts.insert(0, f"{done}/{len(run.sessions)} done")
        if self.state.run_id:
            parts.append(f"run {self.state.run_id}")
        self.sub_title = " · ".join(parts)

    # ---- intents from screens (tui.intents: they post, the app acts) ------------------------

    @on(PlanRequested)
    def _plan_requested(self, message: PlanRequested) -> None:
        self.plan_task(message.task, splits=message.splits)

    @on(ModelInputsChanged)
    def _model_inputs(self, message: ModelInputsChanged) -> None:
        self.set_model_inputs(scope=message.scope, minutes=message.minutes)

    @on(PlannerChosen)
    def _planner_chosen(self, message: PlannerChosen) -> None:
        self.set_planner(message.planner)

    @on(AgentChosen)
    def _agent_chosen(self, message: AgentChosen) -> None:
        self.set_agent(message.agent)

    @on(ApprovalChanged)
    def _approval_changed(self, message: ApprovalChanged) -> None:
        approved = self.state.approved
        if message.every:
            approved = frozenset(s.name for s in self.state.subtasks)
        approved = (approved ^ {message.toggle}) if message.toggle else approved
        self.set_approved(approved - {message.reject} if message.reject else approved)

    @on(SubtaskEdited)
    def _subtask_edited(self, message: SubtaskEdited) -> None:
        self.replace_subtask(message.old, message.new)

    @on(HostsChosen)
    def _hosts_chosen(self, message: HostsChosen) -> None:
        self.set_state(hosts=message.hosts, error="")

    @on(LaunchRequested)
    def _launch_requested(self) -> None:
        self.launch()

    @on(RunRefreshRequested)
    def _refresh_requested(self) -> None:
        self.refresh_run()

    @on(MergeReviewRequested)
    def _merge_review_requested(self) -> None:
        self.open_merge_review()

    @on(ScreenRequested)
    def _screen_requested(self, message: ScreenRequested) -> None:
        self.switch_mode(message.mode)

    @on(ReportRequested)
    def _report_requested(self, message: ReportRequested) -> None:
        self._push_part2("report", message.run_id)

    @on(HistoryRequested)
    def _history_requested(self) -> None:
        self._push_part2("history")

    def plan_task(self, task: str, *, splits: int | None = None) -> None:
        self.set_state(task=task, busy="planning…", error="", progress=())
        self._plan(task, splits)

    @work(group="plan", exclusive=True, exit_on_error=False)
    async def _plan(self, task: str, splits: int | None) -> None:
        state = self.state
        try:
            plan = await self.backend.plan(task, scope=state.scope, minutes=state.minutes, splits=splits)
        except EngineError as exc:
            self.set_state(busy="", error=exc.one_line())
            return
        subtasks, approved, note = carried(state, plan) if splits is not None else \
            (plan.subtasks, frozenset(s.name for s in plan.subtasks), "")
        self.set_state(plan=plan, subtasks=subtasks, approved=approved, checked=plan, busy="",
                       profile=plan.repo)
        if note:
            self.notify(note, timeout=8)
        # a new task shows its split/savings table and verdict first (enter reviews); a re-plan
        # with another N was asked for from the review, and returns there
        self.switch_mode("split" if splits is None else "review")
        self.revalidate()

    def set_planner(self, planner: str) -> None:
        self.backend.planner = planner

    def set_agent(self, agent: str) -> None:
        """Another agent: what was said about the last one goes, and the plan is checked again."""
        if agent == self.backend.agent:
            return
        self.backend.agent = agent
        self.set_state(error="")
        if self.state.plan is not None:
            self.revalidate()

    def set_model_inputs(self, *, scope: str, minutes: float | None) -> None:
        self.set_state(scope=scope, minutes=minutes)

    def set_approved(self, approved: Iterable[str]) -> None:
        self.set_state(approved=frozenset(approved), checked=None)
        self.revalidate()

    def replace_subtask(self, old: str, new: Subtask) -> None:
        subtasks = tuple(new if s.name == old else s for s in self.state.subtasks)
        approved = {new.name if n == old else n for n in self.state.approved}
        self.set_state(subtasks=subtasks, approved=frozenset(approved), checked=None)
        self.revalidate()

    def revalidate(self) -> None:
        self._revalidate(self.state.task, self.state.approved_subtasks())

    @work(group="validate", exclusive=True, exit_on_error=False)
    async def _revalidate(self, task: str, subtasks: tuple[Subtask, ...]) -> None:
        if not subtasks:
            self.set_state(checked=None)
            return
        try:
            plan = self.state.plan
            checked = await self.backend.validate(task, subtasks,
                                                  plan.conventions if plan else Conventions())
        except EngineError as exc:
            self.set_state(error=exc.one_line())
            return
        self.set_state(checked=checked, error="")

    def launch(self) -> None:
        blocker = self.state.launch_blocker()
        if blocker:
            self.bell()
            self.notify(blocker, severity="warning")
            return
        if self.state.hosts:
            self.set_state(busy="placing the sessions on the hosts…", progress=())
            self._place(self.state.hosts)
        else:
            self._ask_launch()

    @work(group="launch", exclusive=True, exit_on_error=False)
    async def _place(self, hosts: tuple[str, ...]) -> None:
        """Chosen hosts are checked before the question: the engine's placement (and any host it
        skips, with why) is shown with it; a run it cannot place is its one line, nothing made."""
        checked = self.state.checked
        assert checked is not None
        try:
            placed = await self.backend.place(checked, self.state.approved_subtasks(), hosts)
        except EngineError as exc:
            self._launch_failed(exc)
            return
        self.set_state(busy="")
        self._ask_launch(placed)

    def _ask_launch(self, placed: Placed | None = None) -> None:
        checked = self.state.checked
        assert checked is not None
        decision = self.backend.launch_decision(checked, self.state.approved_subtasks(),
                                                placed.hosts if placed else ())

        def answer(yes: bool | None) -> None:
            if yes and not self.state.launch_blocker():
                self.set_state(busy="launching…", progress=())
                self._launch(decision.detail, placed)
        from tui.merge_modals import Confirm  # noqa: PLC0415 - loaded on use

        lines = placed.lines if placed else ()
        text = decision.detail + ("\n\n" + "\n".join(lines) if lines else "")
        self.push_screen(Confirm("Start the agents?", text), answer)

    @work(group="launch", exclusive=True, exit_on_error=False)
    async def _launch(self, asked: str, placed: Placed | None) -> None:
        """Start what the person was asked about: the placement they were shown, if any."""
        checked = self.state.checked
        assert checked is not None
        try:
            run_id = await (placed.start(asked) if placed else
                            self.backend.launch(checked, self.state.approved_subtasks(), asked=asked))
        except EngineError as exc:
            self._launch_failed(exc)
            return
        if run_id is None:
            self.set_state(busy="")
            self.notify("the plan changed while you were asked: nothing started; press l again",
                        severity="warning")
            return
        self.set_state(busy="", error="")
        self.follow(run_id)
        self.switch_mode("sessions")

    def _launch_failed(self, exc: EngineError) -> None:
        """The engine's one line, on the screen and in the state; nothing was started."""
        self.set_state(busy="", error=exc.one_line())
        self.notify(exc.one_line(), severity="error")

    def follow(self, run_id: str) -> None:
        self.set_state(run_id=run_id)
        follow_run(self, run_id)

    def refresh_run(self) -> None:
        """Read the run's status again: the bridge stops once the run finished, but a merge and
        its cleanup (or a window closed since) still change what the board may offer."""
        if self.state.run_id:
            self._refresh_run(self.state.run_id)

    @work(group="run-refresh", exclusive=True, exit_on_error=False)
    async def _refresh_run(self, run_id: str) -> None:
        try:
            status = await self.backend.status(run_id)
        except EngineError:
            return  # the bridge (or the next look) says what is wrong; the board keeps what it has
        if status.run_id == self.state.run_id:
            self.post_message(RunStateChanged(status))

    @on(RunStateChanged)
    def _run_changed(self, message: RunStateChanged) -> None:
        for s in message.status.sessions:
            before = self._seen.get(s.name)
            if s.state in ATTENTION and before != s.state:
                self.bell()
                self._desktop_notify(s.name, s.state.value.replace("_", " "))
                self.notify(f"{s.name}: {s.state.value.replace('_', ' ')}",
                            severity="error" if s.state == SessionState.FAILED else "warning")
            self._seen[s.name] = s.state
        self.set_state(run=message.status, run_id=message.status.run_id)

    def _refresh_notifications(self) -> None:
        """Notifications go to the screen's notice line, not a toast over its panels (Textual
        8.2.8's hook for showing them; the pin is exact). Dialogs keep Textual's toasts."""
        from tui.base import DashScreen  # noqa: PLC0415 - the screens import the app

        try:
            screen: Screen[object] | None = self.screen
        except ScreenStackError:
            screen = None
        if isinstance(screen, DashScreen):
            screen.show_notices(list(self._notifications))
            return
        super()._refresh_notifications()

    @work(group="passthrough", exit_on_error=False)
    async def _passthrough(self) -> None:
        """Inside tmux, a desktop notification needs passthrough on this app's own pane."""
        mode = self.backend.desktop_notify
        if mode != "off" and os.environ.get("TMUX"):
            self._tmux_passthrough = await self.backend.allow_passthrough()

    def _desktop_notify(self, name: str, what: str) -> None:
        """OSC 9 / 777 to the terminal (tui.notify), besides the bell; inside tmux only once
        passthrough is on (else the bell alone)."""
        mode = self.backend.desktop_notify
        in_tmux = bool(os.environ.get("TMUX"))
        driver = self._driver
        if mode == "off" or driver is None or (in_tmux and not self._tmux_passthrough):
            return
        driver.write(notify.sequence(mode, "parallel-tui", f"{name}: {what}", in_tmux=in_tmux))
        driver.flush()

    # ---- global actions --------------------------------------------------------------------

    def action_screen(self, mode: str) -> None:
        self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(_help_section(self.screen), hosts=self.backend.offers_hosts))

    def running_agents(self) -> int:
        """Sessions whose agent still runs (the engine's rule of what has ended)."""
        run = self.state.run
        return 0 if run is None else sum(s.agent_running for s in run.sessions)

    def action_ask_quit(self) -> None:
        """Quit at once, unless agents run: then ask (they keep running either way)."""
        running = self.running_agents()
        if not running:
            self.exit()
            return
        from tui.merge_modals import Confirm  # noqa: PLC0415 - loaded on use

        if isinstance(self.screen, Confirm):
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.exit()
        self.push_screen(Confirm("Quit the app?", quit_text(running)), answer)

    def action_leave_field(self) -> None:
        if isinstance(self.focused, Input | TextArea):
            self.screen.focus_next("DataTable, Select, Button")

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Only what applies here: screens that have something to show, launch on plan review
        when it can launch (it asks first), and the app's own commands."""
        yield from (c for c in super().get_system_commands(screen) if c.title != "Quit")
        yield SystemCommand("Quit", "Quit the app (asks while agents run)", self.action_ask_quit)
        state = self.state
        yield SystemCommand("Task entry", "Screen 1: type a task and plan it",
                            lambda: self.switch_mode("task"))
        if state.plan is not None:
            yield SystemCommand("Split / savings", "Screen 2: the overhead table and chart",
                                lambda: self.switch_mode("split"))
            yield SystemCommand("Plan review", "Screen 3: approve or reject subtasks",
                                lambda: self.switch_mode("review"))
        yield SystemCommand("Sessions board", "Screen 4: the live sessions",
                            lambda: self.switch_mode("sessions"))
        if state.run_id:
            yield SystemCommand("Merge review",
                                "Screen 5: the conflict matrix, then merge behind a confirmation",
                                self.open_merge_review)
            yield SystemCommand("Run report", "Screen 6: predicted vs measured for the current run",
                                lambda: self._push_part2("report"))
        yield SystemCommand("History", "Screen 7: this repo's past runs", lambda: self._push_part2("history"))
        if _screen_name(screen) == "review" and not state.launch_blocker():
            yield SystemCommand("Launch approved subtasks",
                                "Start one session per approved subtask (asks first)", self.launch)
        yield SystemCommand("Toggle light/dark", "Switch between the light and dark theme",
                            self.action_toggle_theme)
        yield SystemCommand("Help", "Every key on every screen", self.action_help)

    def open_merge_review(self) -> None:
        """The merge review, unless the run has nothing to merge: then the engine's words say so."""
        run = self.state.run
        why = run.nothing_to_merge if run is not None and run.run_id == self.state.run_id else ""
        if why:
            self.notify(why, severity="warning")
            return
        self._push_part2("merge")

    def _push_part2(self, which: str, run_id: str | None = None) -> None:
        """Merge review, report and history are pushed over the current screen; esc comes back.
        A report is of `run_id` (the current run when None)."""
        from tui.history_screen import HistoryScreen  # noqa: PLC0415 - loaded on use
        from tui.merge_screen import MergeScreen  # noqa: PLC0415
        from tui.report_screen import ReportScreen  # noqa: PLC0415

        run_id = self.state.run_id if run_id is None else run_id
        screen: Screen[None] = (MergeScreen(run_id) if which == "merge" else
                                ReportScreen(run_id) if which == "report" else HistoryScreen())
        if which == "report" and isinstance(self.screen, ReportScreen):
            self.switch_screen(screen)  # one report, the newest: none stale below
        else:
            self.push_screen(screen)


def _screen_name(screen: Screen[object]) -> str:
    """Which screen this is, by its class (the help opens at its section)."""
    return {"TaskScreen": "task", "SplitScreen": "split", "ReviewScreen": "review",
            "SessionsScreen": "sessions", "MergeScreen": "merge", "ReportScreen": "report",
            "HistoryScreen": "history"}.get(type(screen).__name__, "")


def _help_section(screen: Screen[object]) -> str:
    return _screen_name(screen)


def _screen(mode: str) -> Screen[None]:
    """A mode's screen, its module imported on first use."""
    if mode == "split":
        from tui.split_screen import SplitScreen  # noqa: PLC0415
        return SplitScreen()
    if mode == "review":
        from tui.review_screen import ReviewScreen  # noqa: PLC0415
        return ReviewScreen()
    from tui.sessions_screen import SessionsScreen  # noqa: PLC0415
    return SessionsScreen()
