"""Claude Code's own per-session registry file: `~/.claude/sessions/<pid>.json`.

Seen on 2.1.197 (docs/ownership.md, "Truer status"): an interactive session writes
`{"pid", "sessionId", "cwd", "startedAt", "procStart", "version", "kind": "interactive",
"status": "busy" | "idle" | "waiting", "waitingFor": "permission prompt", "statusUpdatedAt"
(ms), …}` and removes it when it exits. It catches what hooks miss: Esc during a turn fires
no hook but sets `idle`.

Guards: the file must be for this worktree (`cwd`, symlinks resolved); its `pid` must be
alive *and* started when the file says (`procStart` is field 22 of `/proc/<pid>/stat`, as
Claude Code itself reads it), so a file left by a crashed session whose PID was reused is
ignored; with several candidates the one whose `sessionId` the hooks reported wins, then
the newest.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.core.models import SessionState
from engine.hosts.host import LOCAL, Host

_BY_STATUS = {"busy": SessionState.WORKING, "idle": SessionState.IDLE, "waiting": SessionState.NEEDS_INPUT}


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryState:
    state: SessionState
    at: float
    """Unix time of the status (`statusUpdatedAt`, ms in the file)."""
    detail: str
    session_id: str


def sessions_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    config = env.get("CLAUDE_CONFIG_DIR")
    return (Path(config) if config else Path(env.get("HOME") or Path.home()) / ".claude") / "sessions"


def proc_start(pid: int, host: Host = LOCAL) -> str | None:
    """What Claude Code writes as `procStart` for `pid` on `host`; None when the process is gone."""
    try:
        stat = host.read_bytes(Path(f"/proc/{pid}/stat")).decode("utf-8")
        return stat[stat.rindex(")") + 2:].split(" ")[19]
    except FileNotFoundError:
        if host.exists(Path("/proc/self/stat")):
            return None  # Linux, and the process is gone
    except (OSError, ValueError, IndexError):
        return None
    try:  # no /proc (macOS): Claude Code uses `ps -o lstart=` there
        done = host.run(["ps", "-o", "lstart=", "-p", str(pid)], timeout=2,
                        env={**os.environ, "LC_ALL": "C", "TZ": "UTC"})
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "replace").strip() or None if done.returncode == 0 else None


def _entry(path: Path, worktree: str, host: Host) -> dict[str, object] | None:
    try:
        data = json.loads(host.read_bytes(path).decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("cwd"), str) \
            or os.path.realpath(str(data["cwd"])) != worktree or data.get("status") not in _BY_STATUS:
        return None
    pid = data.get("pid")
    if not isinstance(pid, int) or proc_start(pid, host) != str(data.get("procStart")):
        return None  # gone, or its PID now belongs to another process
    return data


def read_registry(worktree: Path, session_id: str = "", host: Host = LOCAL,
                  folder: Path | None = None) -> RegistryState | None:
    """The live Claude session of `worktree` as its registry file on `host` says, or None."""
    where = folder or sessions_dir()
    real = os.path.realpath(worktree)
    try:
        candidates = [e for name in host.listdir(where) if name.endswith(".json")
                      and (e := _entry(where / name, real, host)) is not None]
    except OSError:
        return None
    if not candidates:
        return None
    best = max(candidates, key=lambda e: (bool(session_id) and e.get("sessionId") == session_id,
                                          _number(e.get("statusUpdatedAt"))))
    status = str(best["status"])
    waiting = best.get("waitingFor")
    detail = f"registry {status}" + (f" ({waiting})" if isinstance(waiting, str) and waiting else "")
    return RegistryState(state=_BY_STATUS[status], at=_number(best.get("statusUpdatedAt")) / 1000.0,
                         detail=detail, session_id=str(best.get("sessionId") or ""))


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
