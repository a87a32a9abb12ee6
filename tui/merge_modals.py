"""The merge review's modals: a confirmation that states what will happen, and the verify command.

A confirmation is the only way anything moves: `y` answers yes, every other way out is no.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.resources import stylesheets

_CSS = stylesheets("modals")


class Confirm(ModalScreen[bool]):
    """`text` is exactly what the engine will do (its own preview); `y` confirms, n/esc declines."""

    CSS_PATH = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "dismiss(True)", "yes, do it"),
        Binding("n,escape,q", "dismiss(False)", "no"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm"):
            yield Static(self.text, markup=False, id="confirm-text")
            yield Label("y confirms · n or esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#confirm").border_title = self.title_text


class VerifyPrompt(ModalScreen[str | None]):
    """The command run on the merged result before the target moves (empty: no verify)."""

    CSS_PATH = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="verify"):
            yield Label("Verify command, run on the merge before the target moves")
            yield Input(self.current, id="verify-command")
            yield Label("enter sets it (empty: none) · esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())
