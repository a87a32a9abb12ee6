"""What every dashboard screen shares: the app it belongs to, and re-rendering on return."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.screen import Screen

from tui.state import UiState

if TYPE_CHECKING:
    from tui.app import ParallelApp


NARROW = 110
"""Below this width the side-by-side panels stack (80×24 must stay readable)."""


class DashScreen(Screen[None]):
    FOCUS_ON_RESUME: str | None = None
    """A selector to focus when the screen comes back (its list, so its keys work at once)."""

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

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
