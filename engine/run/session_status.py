"""One session's state from layered signals, best first; `unknown` rather than a guess.

1. the pane: tmux keeps a dead pane (remain-on-exit), exit 0 → done, else failed;
2. the agent's hook state file (Claude Code's hooks, Notification included; Codex's and Gemini
   CLI's hooks write the same file) and Claude Code's own
   registry file (`~/.claude/sessions/<pid>.json`), the newer of the two; the registry catches
   what hooks miss (Esc, a turn that ends without Stop) but never hides a hook's failure;
3. the headless result line (Claude's stream-json, Codex's `exec --json`, Gemini's stream-json);
4. pane text patterns, per agent;
5. otherwise unknown (starting while it is young).
A `working` session with no new signal and no pane output for `stall_after_s` is `stalled`.
Git activity never decides a state; it is progress only (see `engine.hosts.worktrees.activity`).

The readers for 2–4 live in their own modules (`engine.agents.hooks`, `engine.agents.stream_json`,
`engine.agents.pane_patterns`); they come in through `StatusReaders`, typed by the small protocols
below, so the layering can be tested with stand-in readers and `default_readers` wires the
real ones. Every reader is handed the session's host: its files live there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from engine.core.states import SessionState
from engine.hosts.host import Host
from engine.hosts.tmux_sessions import PaneFacts

if TYPE_CHECKING:  # the readers and the agents' table are imported where used: `status` folds
    from engine.agents.descriptors import HookSettings  # events without them while supervised

TERMINAL = frozenset({SessionState.DONE, SessionState.FAILED, SessionState.EXITED})
STARTING_GRACE_S = 5.0
HOOK_GRACE_S = 60.0
"""After this long without a hook event, pane text is trusted again (hooks may be broken)."""
STALL_AFTER_S = 300.0
"""The config's `stall_after_s` default."""
_HOOK_KEEPS = frozenset({SessionState.FAILED, SessionState.RATE_LIMITED, SessionState.EXITED})
"""Hook states a later registry status does not override: the registry goes idle after an API
error too, and "idle" would hide that the turn failed."""


class HookSignal(Protocol):
    """What `claude_hooks.read_hook_state` returns (`HookState`), and the registry's reading too."""

    @property
    def state(self) -> SessionState: ...
    @property
    def at(self) -> float: ...
    @property
    def detail(self) -> str: ...


class StreamSignal(Protocol):
    """What `results.read_result` returns (`StreamResult`; its `tokens` is read when present)."""

    @property
    def is_error(self) -> bool: ...
    @property
    def cost_usd(self) -> float | None: ...
    @property
    def result(self) -> str: ...
    @property
    def session_id(self) -> str: ...


def no_hook_state(_status_file: Path, _host: Host) -> HookSignal | None:
    return None


def no_result(_path: Path, _host: Host) -> StreamSignal | None:
    return None


class RefusedSignal(Protocol):
    """What `claude_hooks.refused_edits` returns per refusal (`RefusedEdit`)."""

    @property
    def path(self) -> str: ...
    @property
    def at(self) -> float: ...
    @property
    def decision(self) -> str: ...


RegistrySignal = HookSignal
"""What `claude_registry.read_registry` returns (`RegistryState`): a state, when and why, like a hook."""


def no_registry(_worktree: Path, _session_id: str, _host: Host) -> RegistrySignal | None:
    return None


def no_refusals(_status_file: Path, _host: Host) -> tuple[RefusedSignal, ...]:
    return ()


def no_pane_state(_agent: str, _text: str) -> SessionState | None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReaders:
    """The pluggable signal readers (defaults: no signal) and the hook-settings writer."""

    read_hook_state: Callable[[Path, Host], HookSignal | None] = no_hook_state
    read_result: Callable[[Path, Host], StreamSignal | None] = no_result
    state_from_pane: Callable[[str, str], SessionState | None] = no_pane_state
    hook_settings: HookSettings | None = None
    read_refused: Callable[[Path, Host], tuple[RefusedSignal, ...]] = no_refusals
    """Edits the ownership hook refused, from the same hook file."""
    read_registry: Callable[[Path, str, Host], RegistrySignal | None] = no_registry
    stall_after_s: float = STALL_AFTER_S
    pane_memo: PaneMemo | None = None
    """Remembers what each pane's text said while the pane prints nothing (None: read every time)."""
    dialog_from_pane: Callable[[str, str], SessionState | None] = no_pane_state
    """A dialog on screen that the hooks do not report (the sandbox's network question)."""
    dialog_memo: PaneMemo | None = None


@dataclass(slots=True)
class PaneMemo:
    """The state each pane's text showed, kept while tmux says the pane printed nothing since.
    Why: reading the text is a `capture-pane` per session per look, and a follower looks twice
    a second at agents that mostly sit still. tmux's activity time has whole seconds, so a
    reading taken within the second of the last output is not kept (output may follow in it)."""

    seen: dict[tuple[str, int | None], tuple[float, SessionState | None]] = dataclasses.field(
        default_factory=dict)

    def state(self, pane: PaneFacts, now: float,
              read: Callable[[], SessionState | None]) -> SessionState | None:
        key = (pane.window_id, pane.pid)
        kept = self.seen.get(key)
        if kept is not None and kept[0] == pane.activity_at:
            return kept[1]
        state = read()
        if now >= pane.activity_at + 1.0:
            self.seen[key] = (pane.activity_at, state)
        else:
            self.seen.pop(key, None)
        return state


@dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    state: SessionState
    source: str
    """pane | hook | registry | stream | pane_text | journal | none"""
    detail: str = ""
    cost_usd: float | None = None
    agent_session_id: str = ""
    tokens: int | None = None
    """Input plus output tokens, where the agent's headless output reports them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionFiles:
    agent: str
    hook_file: Path
    stream_file: Path
    exit_file: Path
    """Written by the window's shell wrapper: the fallback when tmux lost the exit status."""
    started_at: float
    host: Host
    """Where the files are (the session's host)."""
    worktree: Path | None = None
    """Where the agent runs: how its Claude Code registry file is found."""


def observe(pane: PaneFacts | None, files: SessionFiles, pane_text: Callable[[], str],
            readers: StatusReaders, now: float) -> Observed:
    """The best available signal for one session (pane_text is only read if needed), with the
    tokens its headless output reported so far."""
    stream = readers.read_result(files.stream_file, files.host)
    seen = _observe(pane, files, pane_text, readers, now, stream)
    tokens = getattr(stream, "tokens", None)  # a stand-in reader may not report tokens
    return dataclasses.replace(seen, tokens=tokens) if tokens is not None else seen


def _observe(pane: PaneFacts | None, files: SessionFiles, pane_text: Callable[[], str],
             readers: StatusReaders, now: float, stream: StreamSignal | None) -> Observed:
    cost = stream.cost_usd if stream else None
    sid = stream.session_id if stream else ""
    if pane is None:
        return Observed(state=SessionState.UNKNOWN, source="none", detail="tmux window is gone",
                        cost_usd=cost, agent_session_id=sid)
    if pane.dead:
        return _dead(_with_exit_file(pane, files.exit_file, files.host), stream, cost, sid)
    signal = _signal(files, readers)
    if signal is not None:
        seen = Observed(state=signal[0].state, source=signal[1], detail=signal[0].detail, cost_usd=cost,
                        agent_session_id=sid)
        if seen.state in _HOOKS_MISS_DIALOGS and _dialog(pane, files.agent, pane_text, readers, now):
            return Observed(state=SessionState.NEEDS_INPUT, source="pane_text", cost_usd=cost,
                            detail="a dialog the hooks do not report (e.g. a sandbox network request)",
                            agent_session_id=sid)
        return _stalled(seen, max(signal[0].at, pane.activity_at, files.started_at), readers, now)
    if stream is not None:
        state = SessionState.FAILED if stream.is_error else SessionState.DONE
        return Observed(state=state, source="stream", detail=stream.result[:200], cost_usd=cost,
                        agent_session_id=sid)
    young = now - files.started_at < STARTING_GRACE_S
    text_state = _text_state(pane, files.agent, pane_text, readers, now)
    if _awaiting_hooks(files.agent, readers, now - files.started_at) \
            and text_state is not SessionState.NEEDS_INPUT:
        # Claude's screen looks idle until the initial prompt is submitted; until its first
        # hook event arrives only a dialog (trust, permission) is worth reporting.
        return Observed(state=SessionState.STARTING, source="none")
    if text_state is not None:
        seen = Observed(state=text_state, source="pane_text")
        return _stalled(seen, max(pane.activity_at, files.started_at), readers, now)
    return Observed(state=SessionState.STARTING if young else SessionState.UNKNOWN, source="none")


_HOOKS_MISS_DIALOGS = frozenset({SessionState.WORKING, SessionState.IDLE})


def _dialog(pane: PaneFacts, agent: str, pane_text: Callable[[], str], readers: StatusReaders,
            now: float) -> bool:
    if agent != "claude" or readers.dialog_from_pane is no_pane_state:  # `-p` never asks
        return False
    def read() -> SessionState | None:
        return readers.dialog_from_pane(agent, pane_text())
    memo = readers.dialog_memo
    return (memo.state(pane, now, read) if memo is not None else read()) is SessionState.NEEDS_INPUT


def _signal(files: SessionFiles, readers: StatusReaders) -> tuple[HookSignal | RegistrySignal, str] | None:
    """The newer of the hook file and the registry file, with its source name. The registry
    only refines a session whose hooks have spoken: before its first prompt is submitted,
    Claude's registry says `idle`, which would read as "finished"."""
    from engine.agents.descriptors import CLAUDE_AGENTS  # noqa: PLC0415 - see TYPE_CHECKING

    hook = readers.read_hook_state(files.hook_file, files.host)
    registry = None
    if hook is not None and files.agent in CLAUDE_AGENTS and files.worktree is not None:
        session_id = str(getattr(hook, "session_id", "") or "")
        registry = readers.read_registry(files.worktree, session_id, files.host)
    if hook is None:
        return None
    if registry is not None and hook.state not in _HOOK_KEEPS and registry.at > hook.at:
        return registry, "registry"
    return hook, "hook"


def _stalled(seen: Observed, last_change: float, readers: StatusReaders, now: float) -> Observed:
    """`working` with no new signal and an unchanged pane for too long is `stalled`: a turn
    that ended without a Stop hook, or an agent hung on something it prints nothing about."""
    quiet = now - last_change
    if seen.state is not SessionState.WORKING or last_change <= 0 or quiet < readers.stall_after_s:
        return seen
    last = seen.detail or seen.source
    return dataclasses.replace(seen, state=SessionState.STALLED,
                               detail=f"no signal or output for {quiet:.0f}s (last: {last})")


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


def _with_exit_file(pane: PaneFacts, exit_file: Path, host: Host) -> PaneFacts:
    if pane.exit_status is not None or pane.signal:
        return pane
    try:
        text = host.read_bytes(exit_file).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return pane
    return dataclasses.replace(pane, exit_status=int(text)) if text.isdigit() else pane


def _awaiting_hooks(agent: str, readers: StatusReaders, age_s: float) -> bool:
    """Hooks are wired for this agent and it is too young for their silence to mean anything."""
    from engine.agents.descriptors import HOOKED_AGENTS  # noqa: PLC0415 - see TYPE_CHECKING

    return agent in HOOKED_AGENTS and readers.hook_settings is not None and age_s < HOOK_GRACE_S


def _text_state(pane: PaneFacts, agent: str, pane_text: Callable[[], str], readers: StatusReaders,
                now: float) -> SessionState | None:
    def read() -> SessionState | None:
        text = pane_text()
        return _builtin_pane_state(agent, text) or readers.state_from_pane(agent, text)
    return readers.pane_memo.state(pane, now, read) if readers.pane_memo is not None else read()


def _builtin_pane_state(agent: str, text: str) -> SessionState | None:
    """The demo agent is ours: alive means working, unless its screen ends with its question."""
    if agent != "demo":
        return None
    from engine.agents import pane_patterns  # noqa: PLC0415 - see TYPE_CHECKING

    return pane_patterns.state_from_pane(agent, text) or SessionState.WORKING


def default_readers() -> StatusReaders:
    """The one place the Claude-specific readers get wired in (hooks, stream-json, pane text)."""
    from engine.agents import hooks as claude_hooks  # noqa: PLC0415
    from engine.agents import pane_patterns, results  # noqa: PLC0415 - see TYPE_CHECKING
    from engine.claude import registry as claude_registry  # noqa: PLC0415
    from engine.claude import settings as claude_settings  # noqa: PLC0415

    return StatusReaders(read_hook_state=claude_hooks.read_hook_state,
                         read_result=results.read_result,
                         state_from_pane=pane_patterns.state_from_pane,
                         hook_settings=claude_settings.session_settings,
                         read_refused=claude_hooks.refused_edits,
                         read_registry=claude_registry.read_registry,
                         pane_memo=PaneMemo(), dialog_from_pane=pane_patterns.dialog_without_hook,
                         dialog_memo=PaneMemo())
