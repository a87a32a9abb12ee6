"""The merge review's state: one immutable value, replaced on every change (like `UiState`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.views import Checked, Which


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeState:
    run_id: str = ""
    checked: Checked | None = None
    """The check on screen (None while checking, or once a check failed)."""
    recorded: bool = False
    """A given check (snapshots): the engine is never asked."""
    skip: tuple[str, ...] = ()
    """The branches the person left out (`k`)."""
    verify: str = ""
    """The command the merge verifies with ('' = none)."""
    status: str = ""
    """The status line's markup."""
    stale: bool = False
    """The branches moved (a merge): check again when the screen is back."""
    progress: tuple[str, ...] = ()
    """The stages of the merge that runs (or ran last), as the engine told them."""
    merging: bool = False
    held: bool = False
    """A key that would leave was pressed during the merge: its note stays until it ends."""
    esc_held_at: float = 0.0
    """When esc was last held (monotonic): a second one soon after leaves."""
    merged_into: str = ""
    """The target of the merge this screen made: once its branches are gone, that is news,
    not an error."""

    def with_(self, **changes: object) -> MergeState:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def which(self) -> Which:
        """What the engine checks and merges: the run's branches less the skipped ones."""
        return Which(run_id=self.run_id or None, skip=self.skip)
