"""What the app asks before it spends or stops: each question names exactly what will happen.

Pure text from the UI state; the answer is given in `tui.merge_modals.Confirm` (y yes, esc no).
"""

from __future__ import annotations

from engine.core.models import Subtask
from engine.core.numfmt import fixed
from engine.views import SessionStatus
from tui.state import UiState

FREE_AGENTS = frozenset({"demo"})
"""Agents that spend nothing (the demo agent only sleeps and commits)."""


def launch_text(state: UiState, agent: str, host: str) -> str:
    """How many sessions, which agent where, the model's estimate, and what it costs."""
    subtasks = state.approved_subtasks()
    n = len(subtasks)
    lines = [f"Start {n} session{'s' * (n != 1)} of agent {agent} {host}, one per approved subtask:",
             "  " + ", ".join(s.name for s in subtasks)]
    checked = state.checked
    if checked is not None:
        row = checked.overhead.row(min(max(n, 1), 10))
        lines.append(f"Estimate (modelled): about {fixed(row.total_minutes)} min of wall time, against "
                     f"{fixed(checked.overhead.sequential_minutes)} min for one session doing it all.")
    lines.append("The demo agent spends nothing." if agent in FREE_AGENTS else
                 f"Each {agent} session spends from your login or API key until it ends (s stops one).")
    return "\n".join(lines)


def stop_text(s: SessionStatus) -> str:
    return (f"Stop {s.name}'s agent (ctrl+c, then SIGTERM)? Its branch and the commits it made stay; "
            "the work it has not committed is lost.")


def quit_text(running: int) -> str:
    return (f"{running} agent{'s' * (running != 1)} still run{'s' * (running == 1)}. Quit the app? They keep "
            "running in tmux; `parallel-tui` reopens this board, `parallel-tui stop` stops them.")


def replan_text(edited: dict[str, Subtask], rejected: frozenset[str]) -> str:
    parts = [f"edited {', '.join(sorted(edited))}"] if edited else []
    parts += [f"rejected {', '.join(sorted(rejected))}"] if rejected else []
    return (f"You {' and '.join(parts)}. A new plan keeps those changes on every subtask it names "
            "the same; the others are dropped (the app says which).")
