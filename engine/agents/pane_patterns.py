"""Session state from a captured tmux pane, per agent and per agent version.

Screen text is the weakest status signal (ARCHITECTURE §5, layer 4): hooks and exit codes
win whenever they exist. It still matters for agents without hooks (aider, codex, gemini)
and to notice a dialog that blocks a session before any hook fires (the trust screen).
Screens change between releases, so each pattern set names the versions it was captured
from; `state_from_pane` answers None rather than guess when nothing matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.core.models import SessionState


@dataclass(frozen=True, slots=True, kw_only=True)
class PanePatterns:
    """Markers for one agent's screens. Each marker group matches when all its parts occur.

    Checked in order: needs_input (a dialog blocks everything), working, idle.
    Matching ignores case, since agents change capitalisation between releases.
    """

    agent: str
    versions: str
    """The releases the screens were captured from, e.g. "2.1.x"."""
    needs_input: tuple[tuple[str, ...], ...] = ()
    working: tuple[tuple[str, ...], ...] = ()
    idle: tuple[tuple[str, ...], ...] = ()
    asks_last: bool = False
    """needs_input only when the screen's last line shows it: a question printed inline stays
    on screen after it was answered, unlike a dialog that closes."""


CLAUDE_2_1 = PanePatterns(
    agent="claude",
    versions="2.1.x (screens of 2.1.197 and 2.1.328)",
    needs_input=(
        ("Do you want to", "1. Yes"),           # Bash / Write / Edit permission dialogs
        ("Quick safety check",),                # workspace trust dialog (2.1.197, 2.1.328)
        ("Do you trust the files in this folder",),  # trust dialog of older 2.x
        ("No, and tell Claude what to do differently",),
        ("Network request outside of sandbox",),  # the sandbox's proxy asks about a new domain
    ),
    # footer while a turn runs; with a statusLine (parallel-tui's, for cost) the statusline
    # takes the footer's row, and the spinner line "✻ Puttering… (2s · ↑ 37 tokens)" tells
    working=(("esc to interrupt",), ("… (", " tokens)")),
    # The footer without the interrupt hint: "? for shortcuts" (default mode), the mode line
    # "⏵⏵ accept edits on (shift+tab to cycle)", or "⏸ manual mode on".
    idle=(("? for shortcuts",), ("shift+tab to cycle",), ("mode on",)),
)

AIDER = PanePatterns(
    agent="aider",
    versions="0.86.x",
    needs_input=(("(Y)es/(N)o",),),
)

CODEX = PanePatterns(
    agent="codex",
    versions="0.171.0 (TUI)",
    needs_input=(("Allow command?",), ("Yes, proceed",), ("Would you like to run the following command",),
                 ("Trust this folder?",),                          # folder trust (hooks have not run yet)
                 ("Try new model", "Use existing model"),          # model upgrade offer at start
                 ("Press enter to confirm or esc to cancel",)),
    working=(("esc to interrupt",),),
    idle=(("Ask Codex to do anything",),),
)

GEMINI = PanePatterns(
    agent="gemini",
    versions="0.61.0",
    needs_input=(("Yes, allow once",), ("Allow execution",), ("Allow once", "No, suggest changes"),
                 ("Do you trust the files in this folder",)),
    working=(("esc to cancel",),),
    idle=(("Type your message or @path/to/file",),),
)

DEMO = PanePatterns(
    agent="demo",
    versions="this repo's engine.agents.demo",
    needs_input=(("demo agent asks (type a line and press enter):",),),  # demo.ASK_MARKER
    working=(("demo agent",),),
    asks_last=True,
)
"""The demo agent's own screen (status treats a live demo pane as working unless it asks)."""

HOOKLESS_DIALOGS: dict[str, tuple[tuple[str, ...], ...]] = {
    "claude": (("Network request outside of sandbox", "allow this connection"),),
}
"""Dialogs no hook reports (2.1.197): while the sandbox's proxy asks about a new domain, the
hooks still say PreToolUse (working) and the registry says busy, so the screen must win."""

PATTERNS: dict[str, PanePatterns] = {p.agent: p for p in (CLAUDE_2_1, AIDER, CODEX, GEMINI, DEMO)}
ALIASES = {"claude-code": "claude", "claude_code": "claude", "codex-headless": "codex",
           "gemini-headless": "gemini"}


def _any_group(text: str, groups: Sequence[tuple[str, ...]]) -> bool:
    return any(all(part.lower() in text for part in group) for group in groups)


def _last_line(text: str) -> str:
    return next((line for line in reversed(text.splitlines()) if line.strip()), "")


def dialog_without_hook(agent: str, text: str) -> SessionState | None:
    """NEEDS_INPUT when the pane shows a dialog the agent's hooks do not report, else None."""
    groups = HOOKLESS_DIALOGS.get(ALIASES.get(agent, agent), ())
    return SessionState.NEEDS_INPUT if groups and _any_group(text.lower(), groups) else None


def state_from_pane(agent: str, text: str) -> SessionState | None:
    """The state a pane's visible text shows, or None when unknown (no agent patterns, no marker).

    `agent` is the program's name as the descriptor knows it ("claude", "aider", …);
    an unknown agent has no patterns and always gives None.
    """
    patterns = PATTERNS.get(ALIASES.get(agent, agent))
    if patterns is None or not text.strip():
        return None
    lowered = text.lower()
    asking = _last_line(lowered) if patterns.asks_last else lowered
    if _any_group(asking, patterns.needs_input):
        return SessionState.NEEDS_INPUT
    if _any_group(lowered, patterns.working):
        return SessionState.WORKING
    if _any_group(lowered, patterns.idle):
        return SessionState.IDLE
    return None
