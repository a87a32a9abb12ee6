"""A fake Gemini API on 127.0.0.1, for the real Gemini CLI.

Gemini CLI 0.61.0 with `GOOGLE_GEMINI_BASE_URL` and an API key (facts §10, "Verified here")
sends, per prompt, one `POST /v1beta/models/<router model>:generateContent` (its model
router: no tools, wants `{"complexity_reasoning", "complexity_score"}` as JSON text), then one
`POST /v1beta/models/<model>:streamGenerateContent?alt=sse` per turn. The fake answers the
router itself and serves scripted turns as SSE `data: <GenerateContentResponse>` chunks, the
function call or text in `candidates[0].content.parts`, `usageMetadata` on the last chunk.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tests.fake_messages_api import Recorded
from tests.loopback import Answer, LoopbackServer, json_answer

JSON = dict[str, Any]
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    parts: tuple[JSON, ...]
    prompt_tokens: int = 900
    candidates_tokens: int = 60
    delay: float = 0.0


def call(name: str, args: JSON, **kwargs: Any) -> Turn:
    """A function call, e.g. `call("run_shell_command", {"command": …, "description": …})`."""
    return Turn(parts=({"functionCall": {"name": name, "args": args, "id": f"call_{next(_ids)}"}},), **kwargs)


def shell(command: str, **kwargs: Any) -> Turn:
    return call("run_shell_command", {"command": command, "description": "run"}, **kwargs)


def say(text: str, **kwargs: Any) -> Turn:
    return Turn(parts=({"text": text},), **kwargs)


def settings(**extra: object) -> JSON:
    """`~/.gemini/settings.json` for an API-key login (the base URL alone is refused, exit 41)."""
    return {"security": {"auth": {"selectedType": "gemini-api-key"}}, **extra}


def _chunks(turn: Turn) -> Iterator[bytes]:
    usage = {"promptTokenCount": turn.prompt_tokens, "candidatesTokenCount": turn.candidates_tokens,
             "totalTokenCount": turn.prompt_tokens + turn.candidates_tokens}
    body = {"candidates": [{"content": {"role": "model", "parts": list(turn.parts)}, "finishReason": "STOP",
                            "index": 0}], "usageMetadata": usage, "modelVersion": "fake"}
    yield f"data: {json.dumps(body)}\r\n\r\n".encode()


class FakeGeminiAPI(LoopbackServer):
    """Serves scripted turns per `:streamGenerateContent`; answers the router itself."""

    def __init__(self, turns: Sequence[Turn] = (), *,
                 script_for: Callable[[Recorded], list[Turn] | None] | None = None) -> None:
        self._turns = list(turns)
        self._script_for = script_for
        self._lock = threading.Lock()
        super().__init__(self._reply, "fake-gemini-api")

    @property
    def turn_requests(self) -> list[Recorded]:
        return [r for r in self.requests if ":streamGenerateContent" in r.path]

    def _reply(self, record: Recorded) -> Answer:
        if ":generateContent" in record.path:
            answer = {"complexity_reasoning": "a small change", "complexity_score": 10}
            return json_answer({"candidates": [{"content": {"role": "model", "parts": [
                {"text": json.dumps(answer)}]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}})
        if ":streamGenerateContent" not in record.path:
            return json_answer({"error": {"code": 404, "message": f"fake: no {record.path}"}}, 404)
        queue = self._script_for(record) if self._script_for else None
        with self._lock:
            queue = queue if queue is not None else self._turns
            turn = queue.pop(0) if queue else say("done.")
        if turn.delay:
            time.sleep(turn.delay)
        return 200, {"content-type": "text/event-stream"}, list(_chunks(turn))
