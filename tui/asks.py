"""What the app asks on its own account: each question names exactly what will happen.

Launch and stop are the engine's Decisions (`engine.run.asks`, asked through the Approver
port); these are the app's own (quitting, re-planning). The answer is given in
`tui.merge_modals.Confirm` (y yes, esc no).
"""

from __future__ import annotations

from engine.core.models import Subtask


def quit_text(running: int) -> str:
    return (f"{running} agent{'s' * (running != 1)} still run{'s' * (running == 1)}. Quit the app? They keep "
            "running in tmux; `parallel-tui` reopens this board, `parallel-tui stop` stops them.")


def replan_text(edited: dict[str, Subtask], rejected: frozenset[str]) -> str:
    parts = [f"edited {', '.join(sorted(edited))}"] if edited else []
    parts += [f"rejected {', '.join(sorted(rejected))}"] if rejected else []
    return (f"You {' and '.join(parts)}. A new plan keeps those changes on every subtask it names "
            "the same; the others are dropped (the app says which).")
