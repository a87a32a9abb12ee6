"""Modal screens: help, edit a subtask, re-plan with N, send a line (diffs: `tui.diff_screen`)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from engine.core.models import AgentMatch, Subtask
from tui.resources import stylesheets

KEYS = """[b]Everywhere[/]
  1 2 3 4   task entry · split/savings · plan review · sessions
  ? / F1    this help
  ctrl+p    command palette (screens, launch, light/dark theme)
  esc       leave a text field (then the printable keys work)
  ctrl+q    quit (the agents keep running)

[b]1 Task entry[/]
  enter     plan the task
  ctrl+j    new line (shift+enter where the terminal reports it)
  tab       scope · minutes · agent
  p         plan (outside the task field)
  t         back into the task field

[b]2 Split / savings[/]
  ↑ ↓       move through N = 1..10 (scope and minutes re-run it)

[b]3 Plan review[/]
  space     approve / reject the selected subtask
  a         approve all
  r         reject the selected subtask
  e         edit it (name, description, files, agent, skill)
  n         re-plan with another N
  l         launch the approved (not while invalid or none approved)

[b]4 Sessions board[/]
  enter     attach to the session (ctrl+b d comes back)
  i         send a line to it
  s         stop it
  d         its diff against the base
  m R H     merge review · run report · history
            (attach/send/stop go once its window is gone, diff once its branch is)

[b]5 Merge review[/] (m from the board; esc back; the footer shows the keys that apply now)
  arrows    move through the matrix (a cell shows its files and hunks)
  M         merge — a confirmation states what moves; y confirms
            (off while a branch conflicts: k skips it, x resolves it)
  k         skip the selected branch (and what builds on it);
            on a skipped one: bring it back (and what was skipped with it)
  x         resolve its conflict with its agent (on a conflicting branch)
  v         set the verify command
  p / c     open PRs / clean up (each asks first)
  enter     the branch's diff
  R         the run's report
  (while a merge runs, esc, R and 1–4 wait for it: its outcome shows here;
   esc twice leaves it running)

[b]7 History[/]
  enter     the selected run's report"""

_CSS = stylesheets("modals")


class HelpScreen(ModalScreen[None]):
    CSS_PATH = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help"):
            yield Static(KEYS)

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys (↑↓ scroll · esc closes)"
        self.query_one("#help").focus()


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
