"""The sessions board's rows: which columns fit the terminal, and each session's cells.

Why its own module: the board's columns are a layout decision (what a person reads first at
80 columns, what fills 200), kept apart from the screen's keys and workers. At WIDE columns
and more the board adds what is otherwise only in the pane preview: how long the session has
been quiet, its tokens, its cost or (subscription logins) rate-limit use, its host, and its
last line or question.
"""

from __future__ import annotations

from datetime import datetime

from engine.core.models import SessionState
from engine.views import SessionStatus
from tui.markup import escape

WIDE = 150
"""From this many columns the board shows every column."""
NARROW_COLUMNS = ("", "session", "state", "elapsed", "commits", "files", "cost")
WIDE_COLUMNS = ("", "session", "state", "elapsed", "quiet", "commits", "files", "tokens", "cost / limit",
                "host", "last line / question")
FIXED_WIDTH = 97
"""What the wide board's other columns and borders take; the last line gets the rest."""
MARKS = {SessionState.WORKING: "[green]●[/]", SessionState.STARTING: "[green]○[/]",
         SessionState.NEEDS_INPUT: "[b red]![/]", SessionState.FAILED: "[b red]![/]",
         SessionState.RATE_LIMITED: "[b red]![/]", SessionState.DONE: "[green]✓[/]",
         SessionState.IDLE: "[yellow]◌[/]", SessionState.EXITED: "■", SessionState.UNKNOWN: "?",
         SessionState.UNREACHABLE: "[yellow]⌁[/]"}
COLOURS = {SessionState.WORKING: "green", SessionState.NEEDS_INPUT: "b red", SessionState.FAILED: "b red",
           SessionState.RATE_LIMITED: "b red", SessionState.DONE: "green", SessionState.IDLE: "yellow"}


def last_line_room(screen_width: int) -> int:
    """Characters the last line may take: the table has four fifths of a wide screen."""
    return max(screen_width * 4 // 5 - FIXED_WIDTH, 16)


def columns(wide: bool) -> tuple[str, ...]:
    return WIDE_COLUMNS if wide else NARROW_COLUMNS


def row(s: SessionStatus, *, wide: bool, now: float, room: int = 60, outside: int = 0) -> tuple[str, ...]:
    """One board row; `⊘N` after the name: N edits outside its files were refused (ownership);
    `↗N`: it changed N files outside its files (the radar below names them)."""
    colour = COLOURS.get(s.state, "")
    state = s.state.value.replace("_", " ")
    name = f"{escape(s.name)} [b red]⊘{len(s.refused_edits)}[/]" if s.refused_edits else escape(s.name)
    name += f" [b yellow]↗{outside}[/]" if outside else ""
    head = (MARKS.get(s.state, "?"), name, f"[{colour}]{state}[/]" if colour else state,
            clock(elapsed(s, now)))
    if not wide:
        return (*head, str(s.commits), str(s.files_changed), money(s))
    return (*head, quiet(s, now), str(s.commits), str(s.files_changed), tokens(s.tokens), money(s),
            escape(s.host), last_line(s, room))


def elapsed(s: SessionStatus, now: float) -> float:
    """A running session's time counts on from its `started_at` by the board's own clock (the
    bridge posts only when events come); an ended one's is what the status says."""
    if not s.started_at or s.ended_at:
        return s.elapsed_s
    return max(now - datetime.fromisoformat(s.started_at).timestamp(), 0.0)


def money(s: SessionStatus) -> str:
    """A subscription login's rate-limit use (its notional cost would mislead), else the cost."""
    if s.rate_limit_pct is not None:
        return f"limit {s.rate_limit_pct:.0f} %"
    return "—" if s.cost_usd is None else f"${s.cost_usd:.2f}"


def tokens(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1_000_000:.1f}M" if n >= 1_000_000 else f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def quiet(s: SessionStatus, now: float) -> str:
    """Time since its pane last printed: a working session quiet for long deserves a look."""
    if not s.output_at or s.ended_at:
        return "—"
    return age(max(now - s.output_at, 0.0))


def age(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}"


def last_line(s: SessionStatus, room: int) -> str:
    """What it says now: the question when it needs input, its problem when it failed."""
    text = s.problem if s.state is SessionState.FAILED and s.problem else s.last_line
    text = " ".join(text.split())
    if len(text) > room:
        text = text[: max(room - 1, 0)] + "…"
    colour = COLOURS.get(s.state, "") if s.state in (SessionState.NEEDS_INPUT, SessionState.FAILED) else ""
    return f"[{colour}]{escape(text)}[/]" if colour and text else escape(text)


def clock(seconds: float) -> str:
    m, sec = divmod(int(seconds), 60)
    return f"{m}:{sec:02d}"
