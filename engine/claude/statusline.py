"""Interactive Claude Code's cost, tokens and rate limits, through its statusline command.

Why the statusline: it is the one place an interactive session hands out its running cost
(`cost.total_cost_usd`), its tokens (`context_window`) and, for a subscription login, its
rate-limit use (`rate_limits`) — verified on 2.1.197 (facts §9). The command
(`engine/claude/statusline_writer.py`, from the session's kit) keeps the latest values in a file next to the
session's hook file; the supervisor reads it (`read_usage`) and journals what changed as a
SessionProgress, so every face shows the same numbers. A `statusLine` in `--settings`
replaces the person's own, so theirs is chained: it still draws the line.
"""

from __future__ import annotations

import json
import math
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.kit import LOCAL_KIT, Kit
from engine.hosts.host import LOCAL, Host


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """What the latest statusline payload said; None where it said nothing."""

    cost_usd: float | None = None
    tokens: int | None = None
    rate_limit_pct: float | None = None
    """The highest rate-limit window's use in % (`rate_limits` is sent for subscription
    logins only: then this, not the notional cost, is what the person pays attention to)."""
    at: float = 0.0


def usage_file_for(hook_file: Path) -> Path:
    """`<slug>.usage.json` beside `<slug>.hook.jsonl`."""
    return hook_file.with_name(hook_file.name.removesuffix(".hook.jsonl") + ".usage.json")


def own_statusline(home: Path | None = None) -> str:
    """The person's own statusline command from their user settings ("" if none)."""
    base = Path(os.environ["CLAUDE_CONFIG_DIR"]) if os.environ.get("CLAUDE_CONFIG_DIR") else \
        (home or Path.home()) / ".claude"
    try:
        settings = json.loads((base / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    line = settings.get("statusLine") if isinstance(settings, dict) else None
    command = line.get("command") if isinstance(line, dict) else None
    return command if isinstance(command, str) else ""


def statusline_settings(usage_file: Path, own_command: str = "", kit: Kit = LOCAL_KIT) -> dict[str, Any]:
    """The `statusLine` fragment of a session's `--settings` JSON: the kit's writer keeps
    `usage_file`, then runs `own_command` (the person's, chained) for the line itself."""
    argv = [kit.python, "-I", kit.statusline_writer, kit.path(usage_file)]
    if own_command:
        argv.append(own_command)
    return {"statusLine": {"type": "command", "command": shlex.join(argv), "padding": 0}}


def read_usage(usage_file: Path, host: Host = LOCAL) -> Usage | None:
    """The latest usage the statusline wrote on the session's `host`; None before its first run
    (or unreadable)."""
    try:
        data = json.loads(host.read_bytes(usage_file).decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    limits = data.get("rate_limits")
    found = limits.values() if isinstance(limits, dict) else ()
    pcts = [float(v) for v in found if isinstance(v, int | float)]
    cost, tokens, at = data.get("cost_usd"), data.get("tokens"), data.get("at")
    return Usage(cost_usd=float(cost) if isinstance(cost, int | float) and math.isfinite(cost) else None,
                 tokens=int(tokens) if isinstance(tokens, int | float) else None,
                 rate_limit_pct=max(pcts) if pcts else None,
                 at=float(at) if isinstance(at, int | float) else 0.0)
