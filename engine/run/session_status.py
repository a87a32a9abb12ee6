"""One session's state from layered signals, best first; `unknown` rather than a guess.

1. the pane: tmux keeps a dead pane (remain-on-exit), exit 0 → done, else failed;
2. the agent's hook state file (Claude Code hooks);
3. the headless stream-json result line;
4. pane text patterns, per agent;
5. otherwise unknown (starting while it is young).
Git activity never decides a state; it is progress only (see `engine.run.worktrees.activity`).

The readers for 2–4 live in their own modules (`engine.claude.hooks`, `engine.claude.stream_json`,
`engine.agents.pane_patterns`); they come in through `StatusReaders`, typed by the small protocols
below, so the layering can be tested with stand-in readers and `default_readers` wires the
real ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from engine.agents import pane_patterns
from engine.agents.descriptors import CLAUDE_AGENTS, HookSettings
from engine.claude import hooks as claude_hooks
from engine.claude import stream_json
from engine.core.models import SessionState
from engine.run.tmux_sessions import PaneFacts

TERMINAL = frozenset({SessionState.DONE, SessionState.FAILED, SessionState.EXITED})
STARTING_GRACE_S = 5.0
HOOK_GRACE_S = 60.0
"""After this long without a hook event, pane text is trusted again (hooks may be broken)."""


class HookSignal(Protocol):
    """What `claude_hooks.read_hook_state` returns (`HookState`)."""

    @property
    def state(self) -> SessionState: ...
    @property
    def at(self) -> float: ...
    @property
    def detail(self) -> str: ...


class StreamSignal(Protocol):
    """What `stream_json.read_result` returns (`StreamResult`)."""

    @property
    def is_error(self) -> bool: ...
    @property
    def cost_usd(self) -> float | None: ...
    @property
    def result(self) -> str: ...
    @property
    def session_id(self) -> str: ...


def no_hook_state(_status_file: Path) -> HookSignal | None:
    return None


def no_result(_path: Path) -> StreamSignal | None:
    return None


class RefusedSignal(Protocol):
    """What `claude_hooks.refused_edits` returns per refusal (`RefusedEdit`)."""

    @property
    def path(self) -> str: ...
    @property
    def at(self) -> float: ...


def no_refusals(_status_file: Path) -> tuple[RefusedSignal, ...]:
    return ()


def no_pane_state(_agent: str, _text: str) -> SessionState | None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReaders:
    """The pluggable signal readers (defaults: no signal) and the hook-settings writer."""

    read_hook_state: Callable[[Path], HookSignal | None] = no_hook_state
    read_result: Callable[[Path], StreamSignal | None] = no_result
    state_from_pane: Callable[[str, str], SessionState | None] = no_pane_state
    hook_settings: HookSettings | None = None
    read_refused: Callable[[Path], tuple[RefusedSignal, ...]] = no_refusals
    """Edits the ownership hook refused, from the same hook file."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    state: SessionState
    source: str
    """pane | hook | stream | pane_text | none"""
    detail: str = ""
    cost_usd: float | None = None
    agent_session_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionFiles:
    agent: str
    hook_file: Path
    stream_file: Path
    exit_file: Path
    """Written by the window's shell wrapper: the fallback when tmux lost the exit status."""
    started_at: float


def observe(pane: PaneFacts | None, files: SessionFiles, pane_text: Callable[[], str],
            readers: StatusReaders, now: float) -> Observed:
    """The best available signal for one session (pane_text is only read if needed)."""
    stream = readers.read_result(files.stream_file)
    cost = stream.cost_usd if stream else None
    sid = stream.session_id if stream else ""
    if pane is None:
        return Observed(state=SessionState.UNKNOWN, source="none", detail="tmux window is gone",
                        cost_usd=cost, agent_session_id=sid)
    if pane.dead:
        return _dead(_with_exit_file(pane, files.exit_file), stream, cost, sid)
    hook = readers.read_hook_state(files.hook_file)
    if hook is not None:
        return Observed(state=hook.state, source="hook", detail=hook.detail, cost_usd=cost,
                        agent_session_id=sid)
    if stream is not None:
        state = SessionState.FAILED if stream.is_error else SessionState.DONE
        return Observed(state=state, source="stream", detail=stream.result[:200], cost_usd=cost,
                        agent_session_id=sid)
    young = now - files.started_at < STARTING_GRACE_S
    text_state = _builtin_pane_state(files.agent) or readers.state_from_pane(files.agent, pane_text())
    if _awaiting_hooks(files.agent, readers, now - files.started_at) \
            and text_state is not SessionState.NEEDS_INPUT:
        # Claude's screen looks idle until the initial prompt is submitted; until its first
        # hook event arrives only a dialog (trust, permission) is worth reporting.
        return Observed(state=SessionState.STARTING, source="none")
    if text_state is not None:
        return Observed(state=text_state, source="pane_text")
    return Observed(state=SessionState.STARTING if young else SessionState.UNKNOWN, source="none")


def _dead(pane: PaneFacts, stream: StreamSignal | None, cost: float | None, sid: str) -> Observed:
    if pane.exit_status is None and pane.signal:
        return Observed(state=SessionState.FAILED, source="pane", detail=f"killed by signal {pane.signal}",
                        cost_usd=cost, agent_session_id=sid)
    if pane.exit_status is None:
        return Observed(state=SessionState.EXITED, source="pane", detail="exited, status not known yet",
                        cost_usd=cost, agent_session_id=sid)
    if pane.exit_status == 0 and not (stream and stream.is_error):
        return Observed(state=SessionState.DONE, source="pane", detail="exit 0", cost_usd=cost,
                        agent_session_id=sid)
    detail = f"exit {pane.exit_status}" + (f": {stream.result[:160]}" if stream and stream.is_error else "")
    return Observed(state=SessionState.FAILED, source="pane", detail=detail, cost_usd=cost,
                    agent_session_id=sid)


def _with_exit_file(pane: PaneFacts, exit_file: Path) -> PaneFacts:
    if pane.exit_status is not None or pane.signal:
        return pane
    try:
        text = exit_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return pane
    return dataclasses.replace(pane, exit_status=int(text)) if text.isdigit() else pane


def _awaiting_hooks(agent: str, readers: StatusReaders, age_s: float) -> bool:
    """Hooks are wired for this agent and it is too young for their silence to mean anything."""
    return agent in CLAUDE_AGENTS and readers.hook_settings is not None and age_s < HOOK_GRACE_S


def _builtin_pane_state(agent: str) -> SessionState | None:
    """The demo agent is ours: alive means working, no text matching needed."""
    return SessionState.WORKING if agent == "demo" else None


def default_readers() -> StatusReaders:
    """The one place the Claude-specific readers get wired in (hooks, stream-json, pane text)."""
    return StatusReaders(read_hook_state=claude_hooks.read_hook_state,
                         read_result=stream_json.read_result,
                         state_from_pane=pane_patterns.state_from_pane,
                         hook_settings=claude_hooks.hook_settings,
                         read_refused=claude_hooks.refused_edits)
