"""What every dashboard screen shares: the app it belongs to, and re-rendering on return."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.notifications import Notification
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.state import UiState

if TYPE_CHECKING:
    from tui.app import ParallelApp


NARROW = 110
"""Below this width the side-by-side panels stack (80×24 must stay readable)."""


class DashScreen(Screen[None]):
    FOCUS_ON_RESUME: str | None = None
    """A selector to focus when the screen comes back (its list, so its keys work at once)."""

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < NARROW
        self.set_class(narrow, "-narrow")
        for footer in self.query(Footer):  # narrow: every key keeps its label (`^q Quit`)
            footer.compact = narrow
            footer.show_command_palette = not narrow  # `^p` is in the help and is still bound

    def on_mount(self) -> None:
        self.mount(Static("", id="notice", markup=False))

    def show_notices(self, notices: list[Notification]) -> None:
        """The newest notification on the line above the footer: it takes a row of its own
        while shown, so it never covers a panel (a toast would, at 80×24)."""
        line = self.query("#notice").first(Static) if self.query("#notice") else None
        if line is None:
            return
        newest = notices[-1] if notices else None
        line.set_class(newest is not None, "-shown")
        for severity in ("information", "warning", "error"):
            line.set_class(newest is not None and newest.severity == severity, f"-{severity}")
        more = f"  (+{len(notices) - 1} more)" if len(notices) > 1 else ""
        line.update(f"{newest.message}{more}" if newest else "")

    @property
    def parallel(self) -> ParallelApp:
        from tui.app import ParallelApp  # noqa: PLC0415 - the app imports every screen

        assert isinstance(self.app, ParallelApp)
        return self.app

    def on_screen_resume(self) -> None:
        self.render_state(self.parallel.state)
        if self.FOCUS_ON_RESUME:
            self.query_one(self.FOCUS_ON_RESUME).focus()

    def render_state(self, state: UiState) -> None:
        """Draw `state`; every screen overrides this, and it must be cheap (called per change)."""
