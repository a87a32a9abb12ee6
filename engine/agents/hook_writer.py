"""The Claude Code hook command: append one JSON line per hook event to a status file.

Run by Claude Code as `<python> -I <this file> <status file>` with the hook payload on
stdin (facts §1.9). It must never get in the session's way: it uses the standard library
only and nothing newer than python 3.9 (so `-I` isolation is safe, no venv is needed, and it
runs from a kit shipped to an SSH host: `engine.agents.kit`), prints nothing on stdout (for
UserPromptSubmit, stdout would be added to the model's context), and always exits 0
(exit 2 would block the tool call or the prompt). Lines are appended with O_APPEND in a
single write, so concurrent hooks of one session do not interleave.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO

KEPT = ("session_id", "notification_type", "error", "error_details", "tool_name", "reason", "source")
"""Payload fields copied verbatim: enough to decide the state, never the whole prompt."""
SHORTENED = ("message", "last_assistant_message")
MAX_TEXT = 300


def record(payload: Mapping[str, object], now: float) -> dict[str, object]:
    """The status line for one hook payload: event, time, and the fields that matter."""
    line: dict[str, object] = {"event": str(payload.get("hook_event_name") or "unknown"), "at": now}
    for key in KEPT:
        value = payload.get(key)
        if isinstance(value, (str, int, float, bool)) and value != "":
            line[key] = value
    for key in SHORTENED:
        value = payload.get(key)
        if isinstance(value, str) and value:
            line[key] = value[:MAX_TEXT]
    return line


def append_line(path: str, line: Mapping[str, object]) -> None:
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)  # noqa: PTH103, PTH120 - str paths, no pathlib import cost
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def main(argv: Sequence[str], stdin: IO[str]) -> int:
    if len(argv) < 2:
        return 0
    try:
        payload = json.loads(stdin.read() or "{}")
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    try:
        append_line(argv[1], record(payload, time.time()))
    except OSError as exc:
        sys.stderr.write(f"parallel-tui hook: cannot write {argv[1]}: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv, sys.stdin))
