"""Small widgets the screens share: the task field, the model inputs, the repo panel."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Select, Static, TextArea

from engine.core.models import RepoProfile
from tui.state import SCOPES


class TaskArea(TextArea):
    """Multi-line task text: Enter plans; ctrl+j (or shift+enter) starts a new line.

    The keys are handled in `_on_key` (TextArea would insert a newline first); the bindings
    are there so the footer shows them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Plan"),
        Binding("ctrl+j", "newline", "New line"),
        Binding("escape", "app.leave_field", "Leave field"),
    ]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self.text))
            return
        if event.key in ("ctrl+j", "shift+enter"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self.text))

    def action_newline(self) -> None:
        self.insert("\n")


class ModelInputs(Horizontal):
    """Scope and minutes: the overhead model's two inputs, the same on screens 1 and 2."""

    class Changed(Message):
        def __init__(self, scope: str, minutes: float | None) -> None:
            super().__init__()
            self.scope = scope
            self.minutes = minutes

    def compose(self) -> ComposeResult:
        yield Label("scope")
        yield Select([(s, s) for s in SCOPES], value="auto", allow_blank=False, classes="scope")
        yield Label("minutes")
        yield Input(placeholder="auto", type="number", classes="minutes",
                    tooltip="enter sets the minutes; esc or tab leaves them as they were")

    def set_values(self, scope: str, minutes: float | None) -> None:
        select = self.query_one(".scope", Select)
        field = self.query_one(".minutes", Input)
        with self.prevent(Select.Changed, Input.Changed):
            if select.value != scope:
                select.value = scope
            text = "" if minutes is None else f"{minutes:g}"
            self._minutes = text
            if field.value != text and not field.has_focus:
                field.value = text

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._changed()

    _minutes = ""
    """The minutes as set (shown again when the field is left without enter)."""

    def on_input_changed(self, event: Input.Changed) -> None:
        """A key typed into the field changes nothing yet: a `3` meant for screen 3 must not
        re-run the model; enter sets it."""
        event.stop()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._changed()
        self.screen.focus_next("DataTable, Select")

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        field = self.query_one(".minutes", Input)
        if event.widget is field and field.value != self._minutes:
            field.value = self._minutes

    def _changed(self) -> None:
        scope = str(self.query_one(".scope", Select).value)
        raw = self.query_one(".minutes", Input).value.strip()
        try:
            minutes = float(raw) if raw else None
        except ValueError:
            minutes = None
        if minutes is not None and minutes <= 0:
            minutes = None
        self.post_message(self.Changed(scope, minutes))


def repo_lines(profile: RepoProfile | None) -> str:
    if profile is None:
        return "analysing the repo…"
    langs = ", ".join(lang.name for lang in profile.languages[:3]) or "—"
    trees = "\n".join(f"  {w.branch or '(detached)'}" for w in profile.worktrees[:4])
    return (f"{profile.files:,} files  {profile.loc:,} LOC\n"
            f"{len(profile.modules)} modules  {langs}\n"
            f"churn {profile.churn.days} d: {profile.churn.commits} commits, {profile.churn.files} files\n"
            f"complexity {profile.complexity_score:.2f}\n"
            f"max splits {profile.max_splits}\n"
            f"worktrees in use {len(profile.worktrees)}" + (f"\n{trees}" if trees else ""))


class RepoPanel(Static):
    def show(self, profile: RepoProfile | None) -> None:
        self.update(repo_lines(profile))
