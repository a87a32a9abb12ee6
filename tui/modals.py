"""Modal screens: help, edit a subtask, re-plan with N, pick hosts, send a line (diffs:
`tui.diff_screen`)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, SelectionList, Static

from engine.core.hosts_config import LOCAL_HOST
from engine.core.models import AgentMatch, Subtask
from tui.resources import stylesheets

SECTIONS: tuple[tuple[str, str], ...] = (
    ("everywhere", """[b]Everywhere[/]
  1 2 3 4   task entry · split/savings · plan review · sessions
  ? / F1    this help (it opens at the screen you are on)
  ctrl+p    command palette (what applies here: screens, launch, theme)
  esc       leave a text field (then the printable keys work); on a
            dialog or a pushed screen (5, 6, 7): close it
  q         close a dialog or a pushed screen (5, 6, 7); on 1–4 quit
  ctrl+q    quit (asks while agents run; they keep running)"""),
    ("task", """[b]1 Task entry[/]
  enter     plan the task
  ctrl+j    new line (shift+enter where the terminal reports it)
  tab       scope · minutes · agent
  p         plan (outside the task field)
  t         back into the task field"""),
    ("split", """[b]2 Split / savings[/]
  ↑ ↓       move through N = 1..10 (scope and minutes re-run it)"""),
    ("review", """[b]3 Plan review[/]
  space     approve / reject the selected subtask
  a         approve all
  r         reject the selected subtask
  e         edit it (name, description, files, agent, skill)
  n         re-plan with another N (keeps your edits and rejections
            where the new plan has the same subtask; asks first)
  l         launch the approved — asks first (how many, which agent,
            the estimate); y starts, esc cancels"""),
    ("sessions", """[b]4 Sessions board[/] (keys show once a run has sessions)
  enter     attach to the session: inside tmux ≥ 3.2 a popup
            (ctrl+b d closes it); older tmux switches your client
            (ctrl+b L comes back); outside tmux ctrl+b d comes back
  w         jump to the next session that needs your input
  i         send a line to it
  s         stop it (asks first)
  d         its diff against the base
  m R H     merge review · run report · history
            (attach/send/stop go once its window is gone, diff once its branch is)
  ⊘N        on a row: N edits outside its files were refused
  ↗N        on a row: it changed N files outside its files"""),
    ("merge", """[b]5 Merge review[/] (m from the board; esc back; the footer shows the keys that apply now)
  arrows    move through the matrix (a cell shows its files and hunks)
  M         merge — a confirmation states what moves; y confirms
            (off while a branch conflicts: k skips it, x resolves it)
  k         skip the selected branch (and what builds on it);
            on a skipped one: bring it back (and what was skipped with it)
  x         resolve its conflict with its agent (on a conflicting branch);
            the matrix reads again when the agent commits
  g         read the matrix again now
  v         set the verify command
  p / c     open PRs / clean up (each asks first)
  enter     the branch's diff
  R H       the run's report · history
  (while a merge runs, esc, R and 1–4 wait for it: its outcome shows here;
   esc twice leaves it running)"""),
    ("report", """[b]6 Run report[/] (R from the board or merge review)
  measured  what the run took (sessions, stages, the merge)
  modelled  what the overhead model predicted before the run
  H         history · esc / q back"""),
    ("history", """[b]7 History[/] (H from the board, merge review or report)
  enter     the selected run's report · esc / q back"""),
)
KEYS = "\n\n".join(text for _, text in SECTIONS)
HOSTS_KEY = """
  h         the hosts to run on ([[hosts]] in your config): space
            chooses, enter keeps; sessions go by free slots"""
"""Plan review's `h`, listed only when the config names SSH hosts (as the key shows only then)."""

_CSS = stylesheets("modals")


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]
    CSS_PATH = _CSS

    def __init__(self, section: str = "", *, hosts: bool = False) -> None:
        """`section` (a screen's name) is scrolled to the top: the keys of the screen you are on;
        `hosts` lists plan review's host choice."""
        super().__init__()
        self.section = section
        self.hosts = hosts

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help"):
            for name, text in SECTIONS:
                more = HOSTS_KEY if name == "review" and self.hosts else ""
                yield Static(text + more, id=f"help-{name}", classes="-here" if name == self.section else "")

    def on_mount(self) -> None:
        box = self.query_one("#help", VerticalScroll)
        box.border_title = "Keys (↑↓ scroll · esc closes)"
        box.focus()
        if self.section:
            self.call_after_refresh(lambda: box.scroll_to_widget(self.query_one(f"#help-{self.section}"),
                                                                 animate=False, top=True))


class EditSubtask(ModalScreen[Subtask | None]):
    """Name, description, files, minutes, agent and skill; enter saves, escape cancels.

    One row per field (label beside a borderless input), so the whole dialog, its hint
    included, fits 80×24 and tab never moves the focus off-screen."""

    CSS_PATH = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, subtask: Subtask) -> None:
        super().__init__()
        self.subtask = subtask

    def compose(self) -> ComposeResult:
        s = self.subtask
        agent = s.agent
        with Vertical(classes="dialog", id="edit"):
            for label, name, value in (
                    ("name", "name", s.name), ("description", "description", s.description),
                    ("modify", "modify", ", ".join(s.files_to_modify)),
                    ("create", "create", ", ".join(s.files_to_create)),
                    ("minutes", "minutes", f"{s.estimated_minutes:g}"),
                    ("agent", "agent", agent.name if agent else ""),
                    ("skill", "skill", agent.skill if agent else "")):
                with Horizontal(classes="field"):
                    yield Label(label)
                    yield Input(value, id=f"edit-{name}", compact=True,
                                type="number" if name == "minutes" else "text")
            yield Label("files comma-separated · enter saves · esc cancels · tab next field", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#edit").border_title = f"Edit {self.subtask.name}"
        self.query_one("#edit-name", Input).focus()

    def on_input_submitted(self) -> None:
        self.dismiss(self.edited())

    def edited(self) -> Subtask:
        def value(name: str) -> str:
            return self.query_one(f"#edit-{name}", Input).value.strip()

        def files(name: str) -> tuple[str, ...]:
            return tuple(f.strip() for f in value(name).split(",") if f.strip())
        s = self.subtask
        old = s.agent
        agent = old
        if value("agent") and (old is None or (old.name, old.skill) != (value("agent"), value("skill"))):
            agent = AgentMatch(name=value("agent"), skill=value("skill"), confidence=1.0, why="set by you")
        return dataclasses.replace(self.subtask, name=value("name") or self.subtask.name,
                                   description=value("description") or self.subtask.description,
                                   files_to_modify=files("modify"), files_to_create=files("create"),
                                   estimated_minutes=_minutes(value("minutes"), s.estimated_minutes),
                                   agent=agent)


def _minutes(text: str, old: float) -> float:
    """The typed minutes when they are a positive, finite number; the old ones otherwise."""
    try:
        minutes = float(text)
    except ValueError:
        return old
    return minutes if 0 < minutes < 100_000 else old


class SplitsPrompt(ModalScreen[int | None]):
    CSS_PATH = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, current: int) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="splits"):
            yield Label("Re-plan with how many subtasks (1–10)?")
            yield Input(str(self.current), type="integer", id="splits-n")
            yield Label("enter re-plans · esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            n = int(event.value)
        except ValueError:
            return
        if 1 <= n <= 10:
            self.dismiss(n)
        else:
            self.notify("N must be between 1 and 10", severity="warning")


class HostPicker(ModalScreen[tuple[str, ...] | None]):
    """The hosts the config offers, each with its slots (max_sessions); space chooses, enter
    keeps the choice (one host at least), esc leaves the old one. The engine places the
    sessions by free slots at launch, skipping a host that is down, full or unfit."""

    CSS_PATH = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("enter", "keep", "Keep", priority=True),  # the list's own enter would toggle
    ]

    def __init__(self, choices: tuple[tuple[str, int], ...], chosen: tuple[str, ...]) -> None:
        super().__init__()
        self.choices = choices
        self.chosen = chosen or (LOCAL_HOST,)

    def compose(self) -> ComposeResult:
        width = max(len(name) for name, _ in self.choices)
        with Vertical(classes="dialog", id="hosts"):
            yield Label("Run the approved subtasks on (sessions go where most slots are free):")
            yield SelectionList[str](*((f"{name:<{width}}  {_slots(name, slots)}", name, name in self.chosen)
                                       for name, slots in self.choices), id="hosts-list")
            yield Label("space chooses · enter keeps · esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#hosts").border_title = "Hosts"
        self.query_one(SelectionList).focus()

    def action_keep(self) -> None:
        picked = set(self.query_one(SelectionList).selected)
        if not picked:
            self.notify("choose one host at least (space)", severity="warning")
            return
        self.dismiss(tuple(name for name, _ in self.choices if name in picked))  # the config's order


def _slots(name: str, slots: int) -> str:
    where = " (this machine)" if name == LOCAL_HOST else ""
    return f"{slots} slot{'s' * (slots != 1)}{where}"


class SendLine(ModalScreen[str | None]):
    CSS_PATH = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.session = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="send"):
            yield Label(f"Send a line to {self.session} (typed into its pane, then Enter)")
            yield Input(id="send-text")
            yield Label("enter sends · esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
