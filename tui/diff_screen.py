"""`d`: a session's (or branch's) changes, one coloured diff per file.

The engine hands over (path, before, after) per file (`Engine.file_diffs`); textual-diff-view
draws each (highlighted, side by side where the terminal is wide enough, unified where not).
The widget is imported only when a diff is first shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.markup import escape
from tui.resources import stylesheets

if TYPE_CHECKING:
    from engine.views import FileDiff

SPLIT_FROM = 140
"""Side by side from this many columns; below, one column (80×24 stays readable)."""


class DiffScreen(ModalScreen[None]):
    CSS_PATH = stylesheets("modals")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,d", "dismiss", "Close")]

    def __init__(self, name: str, diffs: tuple[FileDiff, ...]) -> None:
        super().__init__()
        self.session = name
        self.diffs = diffs

    def compose(self) -> ComposeResult:
        from textual_diff_view import DiffView  # noqa: PLC0415 - loaded when a diff is shown

        split = self.app.size.width >= SPLIT_FROM
        with VerticalScroll(classes="dialog", id="diff"):
            if not self.diffs:
                yield Static("no changes against the base yet")
            for d in self.diffs:
                yield Static(f"[b]{escape(d.path)}[/]  {escape(d.status)}"
                             + (f" — {escape(d.note)}, not shown" if d.note else ""), classes="diff-file")
                if not d.note:
                    yield DiffView(d.path, d.path, d.before, d.after, split=split, annotations=True)

    def on_mount(self) -> None:
        box = self.query_one("#diff")
        files = len(self.diffs)
        box.border_title = f"{self.session}: {files} file{'s' * (files != 1)} against the base"
        box.border_subtitle = "↑↓ scroll · esc closes"
        box.focus()
