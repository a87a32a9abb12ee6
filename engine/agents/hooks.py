"""Claude Code hooks that report a session's state to a per-session status file.

Layer 2 of ARCHITECTURE §5: hooks are injected with `claude --settings '<json>'`, so
nothing is written into the worktree. Every registered event runs `engine/agents/hook_writer.py`
(stdlib only, from the session's kit: `engine.core.kit`), which appends one JSON line; the engine
reads the last line that says something about the state. The mapping lives here, not in
the writer, so it can change without touching sessions already running.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.agents import ownership_hook
from engine.core.kit import LOCAL_KIT, Kit
from engine.core.models import SessionState
from engine.hosts.files import read_or_empty, tail
from engine.hosts.host import LOCAL, Host

EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PermissionRequest",
          "Notification", "Stop", "StopFailure", "SessionEnd")
"""Registered hook events. SessionStart and PostToolUse add `starting` and the return to
`working` after an approved permission prompt; the rest are the brief's mapping."""
TOOL_EVENTS = frozenset({"PreToolUse", "PostToolUse", "PermissionRequest"})
"""Events that take a tool-name matcher; "*" matches every tool."""
HOOK_TIMEOUT_S = 10
OWNERSHIP_TIMEOUT_S = 60
"""A hook that times out lets the edit through (seen on 2.1.197), so the ownership hook gets
far longer than it needs (65–70 ms here, docs/ownership.md) even on a loaded machine."""
TAIL_BYTES = 64 * 1024

_BY_EVENT = {
    "SessionStart": SessionState.STARTING,
    "UserPromptSubmit": SessionState.WORKING,
    "PreToolUse": SessionState.WORKING,
    "PostToolUse": SessionState.WORKING,
    "PermissionRequest": SessionState.NEEDS_INPUT,
    "Stop": SessionState.IDLE,
    "SessionEnd": SessionState.EXITED,
    # Gemini CLI (0.61.0): a turn runs from BeforeAgent to AfterAgent
    "BeforeAgent": SessionState.WORKING,
    "BeforeTool": SessionState.WORKING,
    "AfterTool": SessionState.WORKING,
    "AfterAgent": SessionState.IDLE,
}
_BY_NOTIFICATION = {
    "ToolPermission": SessionState.NEEDS_INPUT,  # Gemini CLI asks to run a tool
    "permission_prompt": SessionState.NEEDS_INPUT,
    "worker_permission_prompt": SessionState.NEEDS_INPUT,
    "agent_needs_input": SessionState.NEEDS_INPUT,
    "idle_prompt": SessionState.IDLE,
}
_FAILURES = frozenset({SessionState.FAILED, SessionState.RATE_LIMITED})
_RATE_LIMIT = re.compile(r"rate[ _-]?limit|\b429\b", re.IGNORECASE)
"""`error: "rate_limit"` (2.1.x), or the status in the message; a bare 429 inside a port
number such as `127.0.0.1:44291` must not count, hence the word boundaries."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HookState:
    """The state the latest meaningful hook line reports."""

    state: SessionState
    at: float
    """Unix time the hook ran."""
    detail: str
    """Event plus the useful part: "Notification permission_prompt", "StopFailure rate_limit"."""
    session_id: str


def hook_command(status_file: Path, kit: Kit = LOCAL_KIT) -> str:
    """The shell command the agent runs: the kit's interpreter, writer and the file, each
    shlex-quoted (paths on the session's host)."""
    return shlex.join([kit.python, "-I", kit.hook_writer, kit.path(status_file)])


def ownership_command(ownership_file: Path, kit: Kit = LOCAL_KIT) -> str:
    """The PreToolUse command that judges an edit; `|| exit 2` blocks it when the interpreter
    itself fails (exit 1 or 127 would let the edit through)."""
    run = shlex.join([kit.python, "-I", kit.ownership_hook, kit.path(ownership_file)])
    return f"{run} || {{ echo 'parallel-tui ownership hook could not run; edit refused' >&2; exit 2; }}"


def guard_mode(status_file: Path, host: Host = LOCAL) -> str:
    """The mode of the ownership file the launch wrote next to the hook file, on the session's
    host: "off" when there is none (no guard), "deny" when it cannot be read (fails closed)."""
    try:
        data = host.read_bytes(ownership_hook.ownership_file_for(status_file))
    except FileNotFoundError:
        return "off"
    except OSError:
        return "deny"
    return ownership_hook.mode_in(data)


def guarded(status_file: Path, mode: str | None) -> bool:
    """Whether a session's hooks include the ownership hook: `mode` as the launch wrote it on
    the session's host, or (None) as the file next to `status_file` on this machine says."""
    return (guard_mode(status_file) if mode is None else mode) != "off"


def hook_payload(status_file: Path, kit: Kit = LOCAL_KIT,
                 mode: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The `hooks` of a session's settings: every EVENTS hook appends a line to `status_file`;
    when the launch wrote an ownership file next to it (`mode`, read here from this machine's
    disk when None), edits also go through the ownership hook."""
    handler = {"type": "command", "command": hook_command(status_file, kit), "timeout": HOOK_TIMEOUT_S}
    hooks: dict[str, list[dict[str, Any]]] = {}
    for event in EVENTS:
        entry: dict[str, Any] = {"hooks": [handler]}
        if event in TOOL_EVENTS:
            entry = {"matcher": "*", **entry}
        hooks[event] = [entry]
    if guarded(status_file, mode):
        owners = ownership_hook.ownership_file_for(status_file)
        guard = {"type": "command", "command": ownership_command(owners, kit), "timeout": OWNERSHIP_TIMEOUT_S}
        hooks["PreToolUse"].append({"matcher": ownership_hook.MATCHER, "hooks": [guard]})
    return hooks


def hook_settings(status_file: Path) -> str:
    """JSON for `claude --settings` with the hooks only (sessions use `settings.session_settings`)."""
    return json.dumps({"hooks": hook_payload(status_file)}, separators=(",", ":"))


def _is_rate_limit(line: dict[str, Any]) -> bool:
    text = " ".join(str(line.get(k, "")) for k in ("error", "error_details", "last_assistant_message"))
    return _RATE_LIMIT.search(text) is not None


def state_of(line: dict[str, Any]) -> tuple[SessionState, str] | None:
    """The state one status line means, with its detail; None for lines that say nothing."""
    event = str(line.get("event", ""))
    if event == "Notification":
        kind = str(line.get("notification_type", ""))
        state = _BY_NOTIFICATION.get(kind)
        return (state, f"Notification {kind}") if state else None
    if event == "StopFailure":
        error = str(line.get("error") or line.get("last_assistant_message") or "error")
        state = SessionState.RATE_LIMITED if _is_rate_limit(line) else SessionState.FAILED
        return state, f"StopFailure {error}"
    state = _BY_EVENT.get(event)
    if state is None:
        return None
    tool = line.get("tool_name")
    return state, f"{event} {tool}" if tool else event


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusedEdit:
    """An edit the ownership hook refused (or, in `warn` mode, let through and flagged)."""

    path: str
    at: float
    decision: str
    """deny | ask | warn"""
    owner: str
    """The subtask the path belongs to; "" when it is simply not this session's."""


def refused_edits(status_file: Path, host: Host = LOCAL) -> tuple[RefusedEdit, ...]:
    """The ownership hook's lines in the session's hook file, oldest first. The whole file,
    not the tail the state reader uses: every refusal must show, however long the session;
    only lines that name the event are parsed."""
    data = read_or_empty(host, status_file)
    marker = ownership_hook.REFUSED_EVENT.encode()
    out = []
    for raw in data.splitlines():
        if marker not in raw:
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and line.get("event") == ownership_hook.REFUSED_EVENT:
            at = line.get("at")
            out.append(RefusedEdit(path=str(line.get("path", "")), decision=str(line.get("decision", "")),
                                   at=float(at) if isinstance(at, int | float) else 0.0,
                                   owner=str(line.get("owner", ""))))
    return tuple(out)


def _lines_newest_first(status_file: Path, host: Host) -> list[str]:
    return tail(host, status_file, TAIL_BYTES).decode("utf-8", errors="replace").splitlines()[::-1]


def _meaningful(status_file: Path, host: Host) -> list[tuple[SessionState, str, dict[str, Any]]]:
    """Lines that say something about the state, newest first."""
    found: list[tuple[SessionState, str, dict[str, Any]]] = []
    for raw in _lines_newest_first(status_file, host):
        try:
            line = json.loads(raw)
        except ValueError:
            continue  # a torn first line of the tail, or a write in progress
        if isinstance(line, dict) and (state := state_of(line)) is not None:
            found.append((state[0], state[1], line))
            if len(found) == 2:
                break
    return found


def read_hook_state(status_file: Path, host: Host = LOCAL) -> HookState | None:
    """The latest meaningful state in the file; None if the file is missing or says nothing yet.

    A session that ends right after a StopFailure keeps the failure: `claude -p` always
    fires SessionEnd last, and "exited" would hide that the API refused the turn.
    """
    found = _meaningful(status_file, host)
    if not found:
        return None
    state, detail, line = found[0]
    if state is SessionState.EXITED and len(found) > 1 and found[1][0] in _FAILURES:
        state, detail = found[1][0], f"{found[1][1]}; then {detail}"
    at = line.get("at")
    return HookState(state=state, at=float(at) if isinstance(at, int | float) else 0.0,
                     detail=detail, session_id=str(line.get("session_id") or ""))
