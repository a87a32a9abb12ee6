"""The end of a headless run, read from the agent's own JSON lines, whichever agent it is.

Each headless agent's stdout is tee'd to the session's stream file; the formats differ:
- Claude Code `-p --output-format stream-json`: a final `{"type": "result", "is_error", …}`;
- Codex `exec --json` (0.171.0): `turn.completed {usage}` or `turn.failed {error}`, the answer in
  `item.completed` items of type `agent_message`; no dollar cost, tokens only. Codex exits 0
  whenever the turn completes, even when its commands failed, so the result says only that
  the turn ended (the worktree shows what it did);
- Gemini CLI `--output-format stream-json` (0.61.0): a final `{"type": "result", "status":
  "success"|"error", "stats": {"input_tokens", "output_tokens", …}}`; tokens only.
- aider (0.86.2): text only, and no end marker: its result is read once the window's wrapper
  wrote its exit status (`<slug>.exit` next to the stream file), tokens and cost from its
  `Tokens: … sent, … received. Cost: $…` lines.
The reader tells them apart by their lines, so one status reader serves every agent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.agents import aider, stream_json
from engine.agents.stream_json import StreamResult, usage_tokens
from engine.hosts.host import LOCAL, Host


def read_result(path: Path, host: Host = LOCAL) -> StreamResult | None:
    """The run's result, or None while it has not ended (or the file says nothing we know);
    the file is read on the session's `host`."""
    codex = _Codex()
    found: StreamResult | None = None
    for obj in stream_json.objects(path, host):
        kind = obj.get("type")
        if kind == "result":
            gemini = "status" in obj and "is_error" not in obj
            found = _gemini(obj) if gemini else stream_json.parse_result(obj)
        elif isinstance(kind, str) and (kind.startswith(("turn.", "thread.", "item.")) or kind == "error"):
            found = codex.feed(obj) or found
    return found if found is not None else _aider(path, host)


def _aider(path: Path, host: Host) -> StreamResult | None:
    exit_file = path.with_name(path.name.removesuffix(".stream.jsonl") + ".exit")
    try:
        status = host.read_bytes(exit_file).decode("ascii").strip()
        text = host.read_bytes(path).decode("utf-8", errors="replace")
    except (OSError, UnicodeDecodeError):
        return None
    used = aider.usage(text)
    if used is None or not status.isdigit():
        return None
    return StreamResult(is_error=status != "0", cost_usd=used[1], result=f"exit {status}", session_id="",
                        api_error_status=None, tokens=used[0])


def _gemini(obj: dict[str, Any]) -> StreamResult:
    error = obj.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    return StreamResult(is_error=obj.get("status") != "success", cost_usd=None,
                        result=str(message or obj.get("status") or ""), session_id="",
                        api_error_status=None,
                        tokens=usage_tokens(obj.get("stats"), "input_tokens", "output_tokens"))


class _Codex:
    """Folds `codex exec --json` lines: the thread id, the last answer, tokens of every turn."""

    def __init__(self) -> None:
        self.thread_id = ""
        self.answer = ""
        self.error = ""
        self.tokens: int | None = None

    def feed(self, obj: dict[str, Any]) -> StreamResult | None:
        kind = obj.get("type")
        if kind == "thread.started":
            self.thread_id = str(obj.get("thread_id") or "")
        elif kind == "item.completed" and isinstance(item := obj.get("item"), dict) \
                and item.get("type") == "agent_message":
            self.answer = str(item.get("text") or "")
        elif kind == "error":
            self.error = str(obj.get("message") or "")
        elif kind == "turn.completed":
            used = usage_tokens(obj.get("usage"), "input_tokens", "output_tokens")
            self.tokens = (self.tokens or 0) + used if used is not None else self.tokens
            return self._result(is_error=False, text=self.answer)
        elif kind == "turn.failed":
            error = obj.get("error")
            text = str(error.get("message") if isinstance(error, dict) else "") or self.error or "turn failed"
            return self._result(is_error=True, text=text)
        return None

    def _result(self, *, is_error: bool, text: str) -> StreamResult:
        return StreamResult(is_error=is_error, cost_usd=None, result=text, session_id=self.thread_id,
                            api_error_status=None, tokens=self.tokens)
