"""Read the tee'd output of `claude -p --output-format stream-json --verbose`.

One JSON object per line (facts §1.3). The run is decided by the final `result` line's
`is_error` — an API error (429, 500, …) still says `subtype: "success"` (facts §1.4), so
`subtype` is never read. Cost comes from the result only: usage on the `assistant` lines
is the message-start usage. The file may be mid-write while a session runs, so a torn or
non-JSON line is skipped, never an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.hosts.files import read_or_empty, tail
from engine.hosts.host import LOCAL, Host

TAIL_BYTES = 256 * 1024
"""How much of the end of the file `last_activity` reads: enough for the latest blocks."""
SUMMARY_WIDTH = 120


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamResult:
    """The final `result` line of a headless run."""

    is_error: bool
    cost_usd: float | None
    result: str
    """The final answer, or the error text ("API Error: 429 …", the `errors` list)."""
    session_id: str
    api_error_status: int | None
    tokens: int | None = None
    """Input plus output tokens of the whole run, where the agent reports them."""


def usage_tokens(usage: object, *keys: str) -> int | None:
    """The sum of the integer `keys` of a usage object; None when it has none of them."""
    if not isinstance(usage, dict):
        return None
    found = [v for k in keys if isinstance(v := usage.get(k), int) and not isinstance(v, bool)]
    return sum(found) if found else None


def _objects(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for raw in lines:
        line = raw.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            yield obj


def _read_lines(path: Path, host: Host, limit: int | None = None) -> list[str]:
    data = read_or_empty(host, path) if limit is None else tail(host, path, limit)
    return data.decode("utf-8", errors="replace").splitlines()


def parse_result(obj: dict[str, Any]) -> StreamResult:
    """A StreamResult from one `result` object (also the whole output of `--output-format json`)."""
    text = obj.get("result")
    if not isinstance(text, str):
        errors = obj.get("errors")
        text = "; ".join(str(e) for e in errors) if isinstance(errors, list) else ""
    cost = obj.get("total_cost_usd")
    status = obj.get("api_error_status")
    return StreamResult(
        is_error=obj.get("is_error") is not False,
        cost_usd=float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None,
        result=text,
        session_id=str(obj.get("session_id") or ""),
        api_error_status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        tokens=usage_tokens(obj.get("usage"), "input_tokens", "output_tokens"),
    )


def objects(path: Path, host: Host = LOCAL) -> Iterator[dict[str, Any]]:
    """Every JSON object line of the file on `host` (torn and non-JSON lines skipped)."""
    return _objects(iter(_read_lines(path, host)))


def read_result(path: Path, host: Host = LOCAL) -> StreamResult | None:
    """The run's result, or None while it has not ended (no `result` line yet, or no file)."""
    found: dict[str, Any] | None = None
    for obj in _objects(iter(_read_lines(path, host))):
        if obj.get("type") == "result":
            found = obj
    return parse_result(found) if found is not None else None


def _one_line(text: str) -> str:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return first if len(first) <= SUMMARY_WIDTH else first[: SUMMARY_WIDTH - 1] + "…"


_TOOL_KEYS = ("file_path", "command", "pattern", "path", "url", "description", "prompt")


def _tool_summary(block: dict[str, Any]) -> str:
    name = str(block.get("name") or "tool")
    raw = block.get("input")
    args = raw if isinstance(raw, dict) else {}
    detail = next((str(args[k]) for k in _TOOL_KEYS if isinstance(args.get(k), str) and args[k]), "")
    return _one_line(f"{name}: {detail}" if detail else name)


def _block_summary(block: object) -> str:
    if not isinstance(block, dict):
        return ""
    if block.get("type") == "text" and isinstance(block.get("text"), str):
        return _one_line(block["text"])
    if block.get("type") == "tool_use":
        return _tool_summary(block)
    return ""


def last_activity(path: Path, host: Host = LOCAL) -> str:
    """One line for `status`: the latest assistant text or tool use ("Write: /w/app.py").

    After the run ends, the result's text (or error) is the latest activity. Empty when
    nothing has been said yet.
    """
    summary = ""
    for obj in _objects(iter(_read_lines(path, host, TAIL_BYTES))):
        kind = obj.get("type")
        if kind == "assistant":
            message = obj.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            blocks = content if isinstance(content, list) else []
            for block in blocks:
                summary = _block_summary(block) or summary
        elif kind == "result":
            summary = _one_line(parse_result(obj).result) or summary
    return summary
