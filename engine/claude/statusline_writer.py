"""The Claude Code statusline command: keep the session's usage in a file, then chain.

Claude Code runs `<python> -I <this file> <usage file> [<the person's own command>]` with the
statusline JSON on stdin (facts §9: `cost.total_cost_usd`, `context_window`, `rate_limits`)
and shows what it prints. A `statusLine` passed in `--settings` replaces the person's own, so
their command runs next with the same stdin and its output is what the line shows. Standard
library only and python 3.9+ (so `-I` is safe, and it runs from a kit shipped to a host); the
file is replaced atomically, so a reader never sees half of it; it never fails the line (exit 0
whatever happens).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO

OWN_TIMEOUT_S = 5.0


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def usage(payload: Mapping[str, object], now: float) -> dict[str, object]:
    """The fields the board shows, from one statusline payload (missing ones left out)."""
    out: dict[str, object] = {"at": now}
    cost = payload.get("cost")
    if isinstance(cost, dict) and (usd := _number(cost.get("total_cost_usd"))) is not None:
        out["cost_usd"] = usd
    window = payload.get("context_window")
    if isinstance(window, dict):
        tokens = [n for k in ("total_input_tokens", "total_output_tokens")
                  if (n := _number(window.get(k))) is not None]
        if tokens:
            out["tokens"] = int(sum(tokens))
    limits = payload.get("rate_limits")
    if isinstance(limits, dict):
        used = {name: pct for name, entry in limits.items() if isinstance(entry, dict)
                and (pct := _number(entry.get("used_percentage"))) is not None}
        if used:
            out["rate_limits"] = used
    return out


def write_atomic(path: str, data: Mapping[str, object]) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)  # noqa: PTH103, PTH120 - str paths, cheap start
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:  # noqa: PTH123
        json.dump(data, handle)
    os.replace(tmp, path)  # noqa: PTH105


def chain(command: str, raw: str) -> str:
    """The person's own statusline command (a shell command, as Claude Code runs it), fed the
    same JSON; its stdout is the line."""
    try:
        done = subprocess.run(command, shell=True, input=raw, capture_output=True, text=True,
                              timeout=OWN_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout


def main(argv: Sequence[str], stdin: IO[str], stdout: IO[str]) -> int:
    if len(argv) < 2:
        return 0
    raw = stdin.read()
    try:
        payload = json.loads(raw or "{}")
    except ValueError:
        payload = {}
    with contextlib.suppress(OSError):  # the board shows no cost; the line itself must still work
        write_atomic(argv[1], usage(payload if isinstance(payload, dict) else {}, time.time()))
    if len(argv) > 2 and argv[2]:
        stdout.write(chain(argv[2], raw))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv, sys.stdin, sys.stdout))
