# ruff: noqa: E501, W291 -- captured screens are data: full-width lines and the prompt's trailing space
"""Pane patterns against screens captured with `tmux capture-pane -p` from real sessions.

The 2.1.197 screens were captured here (claude 2.1.197 against the fake API, 120×40 pane);
the 2.1.328 lines are the ones quoted in agent-cli-facts §1.8.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine.agents.pane_patterns import PATTERNS, dialog_without_hook, state_from_pane
from engine.core.models import SessionState
from engine.hosts.host import LOCAL
from engine.run.session_status import SessionFiles, default_readers, observe
from tests.test_ownership_status import NOW, Signal, pane

RULE = "─" * 120
BANNER = """ ▐▛███▜▌   Claude Code v2.1.197
▝▜█████▛▘  Opus 4.8 (1M context) · API Usage Billing
  ▘▘ ▝▝    /tmp/tmp4iz3wn8y/wt
"""

CLAUDE_197_WORKING = BANNER + f"""

❯ write hello.txt please

✻ Improvising…

{RULE}
❯ 
{RULE}
  ⏵⏵ accept edits on (shift+tab to cycle) · esc to interrupt · ← for agents                           ● high · /effort
"""

CLAUDE_197_WORKING_DEFAULT_MODE = BANNER + f"""

❯ write hello.txt please

* Choreographing…

{RULE}
❯ 
{RULE}
  esc to interrupt · ← for agents                                                                     ● high · /effort
"""

CLAUDE_197_IDLE_ACCEPT_EDITS = BANNER + f"""

❯ write hello.txt please

● DONE-WRITING

✻ Cooked for 1s

{RULE}
❯ 
{RULE}
  ⏵⏵ accept edits on (shift+tab to cycle) · ← for agents                                              ● high · /effort
"""

CLAUDE_197_IDLE_START = BANNER + f"""

{RULE}
❯ 
{RULE}
  ? for shortcuts · ← for agents                                                                      ● high · /effort
"""

CLAUDE_197_WRITE_PROMPT = BANNER + f"""

❯ write hello.txt please

● Write(hello.txt)

{RULE}
 Create file
 hello.txt
{"╌" * 120}
  1 hi there
{"╌" * 120}
 Do you want to create hello.txt?
 ❯ 1. Yes
   2. Yes, allow all edits during this session (shift+tab)
   3. No

 Esc to cancel · Tab to amend
"""

CLAUDE_197_TRUST = f"""
{RULE}
 Accessing workspace:

 /tmp/tmp8egqgnkt/wt

 Quick safety check: Is this a project you created or one you trust? (Like your own code, a well-known open source
 project, or work from your team). If not, take a moment to review what's in this folder first.

 Claude Code'll be able to read, edit, and execute files here.

 Security guide

 ❯ 1. Yes, I trust this folder
   2. No, exit

 Enter to confirm · Esc to cancel
"""

CLAUDE_328_BASH_PROMPT = """ Bash command
   touch created.txt
 Do you want to proceed?
 ❯ 1. Yes
   2. Yes, and always allow access to /scratch/ws2 from this project
   3. Yes, and switch to auto mode …
   4. No

 Esc to cancel · Tab to amend
"""

CLAUDE_328_WORKING = """✶ Mulling…
  ⏵⏵ accept edits on (shift+tab to cycle) · esc to interrupt · ← for agents
"""

CLAUDE_328_TRUST = """Accessing workspace:
 Quick safety check: Is this a project you created or one you trust?
 ❯ No, exit
   Yes, I trust this folder
 Enter to confirm · Esc to cancel
"""

CLAUDE_328_MANUAL_IDLE = f"""✻ Cogitated for 8s · done 2:49 PM
{RULE}
❯ 
{RULE}
  ⏸ manual mode on · ? for shortcuts
"""


@pytest.mark.parametrize(("screen", "expected"), [
    (CLAUDE_197_WORKING, SessionState.WORKING),
    (CLAUDE_197_WORKING_DEFAULT_MODE, SessionState.WORKING),
    (CLAUDE_197_IDLE_ACCEPT_EDITS, SessionState.IDLE),
    (CLAUDE_197_IDLE_START, SessionState.IDLE),
    (CLAUDE_197_WRITE_PROMPT, SessionState.NEEDS_INPUT),
    (CLAUDE_197_TRUST, SessionState.NEEDS_INPUT),
    (CLAUDE_328_BASH_PROMPT, SessionState.NEEDS_INPUT),
    (CLAUDE_328_WORKING, SessionState.WORKING),
    (CLAUDE_328_TRUST, SessionState.NEEDS_INPUT),
    (CLAUDE_328_MANUAL_IDLE, SessionState.IDLE),
], ids=["197-working", "197-working-default", "197-idle", "197-start", "197-write-prompt", "197-trust",
        "328-bash-prompt", "328-working", "328-trust", "328-manual-idle"])
def test_claude_screens(screen: str, expected: SessionState) -> None:
    assert state_from_pane("claude", screen) is expected


def test_dialog_wins_over_a_working_footer() -> None:
    """A permission dialog drawn while the old footer is still on screen is still a dialog."""
    assert state_from_pane("claude", CLAUDE_197_WORKING + CLAUDE_197_WRITE_PROMPT) is SessionState.NEEDS_INPUT


def test_unknown_when_nothing_matches() -> None:
    assert state_from_pane("claude", "") is None
    assert state_from_pane("claude", "$ ls\nfoo bar\n") is None
    assert state_from_pane("demo", CLAUDE_197_WORKING) is None
    assert state_from_pane("no-such-agent", "(Y)es/(N)o") is None


def test_aider_confirmation() -> None:
    screen = "Add file to the chat? (Y)es/(N)o/(D)on't ask again [Yes]: "
    assert state_from_pane("aider", screen) is SessionState.NEEDS_INPUT
    assert state_from_pane("aider", "> ") is None


def test_gemini_and_codex_markers() -> None:
    gemini_prompt = "● 1. Yes, allow once\n  2. Yes, allow always"
    assert state_from_pane("gemini", gemini_prompt) is SessionState.NEEDS_INPUT
    assert state_from_pane("gemini", "⠏ Thinking… (esc to cancel, 3s)") is SessionState.WORKING
    assert state_from_pane("codex", "• Working (4s • esc to interrupt)") is SessionState.WORKING
    assert state_from_pane("codex", "Allow command?\n  ▌ Yes, proceed") is SessionState.NEEDS_INPUT


def test_aliases_and_versions_are_recorded() -> None:
    assert state_from_pane("claude-code", CLAUDE_197_WORKING) is SessionState.WORKING
    assert all(p.versions for p in PATTERNS.values())


# Captured here: an interactive 2.1.197 session with the sandbox on, its Bash running
# `curl http://newdomain.example/` (160×50 pane). The hooks said PreToolUse Bash (working) and
# the registry `busy` the whole time the dialog waited.
CLAUDE_197_SANDBOX_NETWORK = BANNER + """

❯ go

  Bash(curl -sS -m 40 -o /dev/null -w '%{http_code}' http://newdomain.example/)
  ⎿  Running… (21s)
     (ctrl+b to run in background)

✶ Processing… (21s · ↓ 50 tokens)

""" + "─" * 160 + """
 Network request outside of sandbox

   Host: newdomain.example

   Do you want to allow this connection?
   ❯ 1. Yes
     2. Yes, and don't ask again for newdomain.example
     3. No, and tell Claude what to do differently (esc)
"""


def test_the_sandbox_network_dialog_needs_input() -> None:
    assert state_from_pane("claude", CLAUDE_197_SANDBOX_NETWORK) is SessionState.NEEDS_INPUT
    assert dialog_without_hook("claude", CLAUDE_197_SANDBOX_NETWORK) is SessionState.NEEDS_INPUT
    assert dialog_without_hook("claude", CLAUDE_197_WORKING) is None
    assert dialog_without_hook("aider", CLAUDE_197_SANDBOX_NETWORK) is None


def test_the_board_shows_the_network_dialog_as_needs_input_while_the_hooks_say_working() -> None:
    working = Signal(SessionState.WORKING, NOW - 5)
    readers = dataclasses.replace(default_readers(), read_hook_state=lambda _f, _h: working,
                                  read_registry=lambda _w, _s, _h: None, read_result=lambda _f, _h: None)
    files = SessionFiles(agent="claude", hook_file=Path("/h"), stream_file=Path("/s"), exit_file=Path("/e"),
                         started_at=NOW - 100, worktree=Path("/w"), host=LOCAL)
    got = observe(pane(NOW - 3), files, lambda: CLAUDE_197_SANDBOX_NETWORK, readers, NOW)
    assert (got.state, got.source) == (SessionState.NEEDS_INPUT, "pane_text")
    answered = observe(pane(NOW - 2), files, lambda: CLAUDE_197_WORKING, readers, NOW)
    assert (answered.state, answered.source) == (SessionState.WORKING, "hook")
