"""A fake OpenAI Responses API on 127.0.0.1, for the real Codex CLI.

Codex (0.171.0) speaks only `POST <base_url>/responses` with `stream: true` (facts §10,
"Verified here"): the fake streams the `response.*` server-sent events Codex accepted there —
`response.created`, one `response.output_item.added` / `.done` pair per output item (with the
argument and text deltas between), then `response.completed` carrying the usage — and closes.

Codex is pointed at it through a provider in its config (`provider_config`): in a temp
`CODEX_HOME` for tests, or as `-c` overrides. Replies are served in order; a `router` answers
side requests first (the TUI asks for a thread title with only `apply_patch` as a tool).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.fake_messages_api import Recorded
from tests.loopback import Answer, LoopbackServer, json_answer

JSON = dict[str, Any]
MODEL = "gpt-5.5"
"""A slug of Codex 0.171.0's bundled catalogue: it gets `apply_patch` and `exec_command`."""
KEY_ENV = "FAKE_OPENAI_KEY"
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    """One scripted response: its output items and the usage `response.completed` reports."""

    items: tuple[JSON, ...]
    input_tokens: int = 1200
    output_tokens: int = 80
    delay: float = 0.0
    """Seconds before the stream starts (keeps a session visibly working)."""


def function_call(name: str, arguments: JSON, **usage: int) -> Turn:
    """A tool call: `exec_command {"cmd": …}` (run as `bash -lc`) or `apply_patch {"input": …}`."""
    n = next(_ids)
    item = {"type": "function_call", "id": f"fc_{n}", "call_id": f"call_{n}", "name": name,
            "arguments": json.dumps(arguments)}
    return Turn(items=(item,), **usage)


def patch(text: str, **usage: int) -> Turn:
    """An `apply_patch` call: a *custom* (freeform) tool in 0.171.0, so a `custom_tool_call`
    item whose `input` is the patch text (`*** Begin Patch` … `*** End Patch`)."""
    n = next(_ids)
    item = {"type": "custom_tool_call", "id": f"ctc_{n}", "call_id": f"call_{n}", "name": "apply_patch",
            "input": text}
    return Turn(items=(item,), **usage)


def add_file(path: str, content: str, **usage: int) -> Turn:
    lines = "".join(f"+{line}\n" for line in content.splitlines())
    return patch(f"*** Begin Patch\n*** Add File: {path}\n{lines}*** End Patch\n", **usage)


def shell(cmd: str, **usage: int) -> Turn:
    return function_call("exec_command", {"cmd": cmd, "yield_time_ms": 10000}, **usage)


def say(text: str, delay: float = 0.0, **usage: int) -> Turn:
    """A final assistant message: the turn ends."""
    item = {"type": "message", "id": f"msg_{next(_ids)}", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}
    return Turn(items=(item,), delay=delay, **usage)


def provider_config(url: str) -> dict[str, object]:
    """The `-c` keys (or config.toml entries) that send Codex to the fake."""
    return {"model": MODEL, "model_provider": "fake",
            "model_providers.fake.name": "fake", "model_providers.fake.base_url": f"{url}/v1",
            "model_providers.fake.wire_api": "responses", "model_providers.fake.env_key": KEY_ENV}


def config_toml(url: str, model: str = MODEL) -> str:
    """The same as a `config.toml` for a test's CODEX_HOME."""
    return (f'model = "{model}"\nmodel_provider = "fake"\n\n[model_providers.fake]\nname = "fake"\n'
            f'base_url = "{url}/v1"\nwire_api = "responses"\nenv_key = "{KEY_ENV}"\n')


def sse(turn: Turn) -> Iterator[bytes]:
    """The events of one streamed response, as Codex reads them."""
    rid = f"resp_{next(_ids)}"
    base: JSON = {"id": rid, "object": "response", "model": MODEL, "output": []}
    yield _event("response.created", {"response": {**base, "status": "in_progress"}})
    for index, item in enumerate(turn.items):
        if item["type"] == "function_call":
            yield _event("response.output_item.added", {"output_index": index,
                                                        "item": {**item, "arguments": ""}})
            yield _event("response.function_call_arguments.delta",
                         {"output_index": index, "item_id": item["id"], "delta": item["arguments"]})
            yield _event("response.function_call_arguments.done",
                         {"output_index": index, "item_id": item["id"], "arguments": item["arguments"]})
        elif item["type"] == "custom_tool_call":
            yield _event("response.output_item.added", {"output_index": index, "item": {**item, "input": ""}})
            yield _event("response.custom_tool_call_input.delta",
                         {"output_index": index, "item_id": item["id"], "delta": item["input"]})
            yield _event("response.custom_tool_call_input.done",
                         {"output_index": index, "item_id": item["id"], "input": item["input"]})
        else:
            text = item["content"][0]["text"]
            yield _event("response.output_item.added",
                         {"output_index": index, "item": {**item, "content": [], "status": "in_progress"}})
            yield _event("response.output_text.delta", {"output_index": index, "item_id": item["id"],
                                                        "content_index": 0, "delta": text})
            yield _event("response.output_text.done", {"output_index": index, "item_id": item["id"],
                                                       "content_index": 0, "text": text})
        yield _event("response.output_item.done", {"output_index": index, "item": item})
    usage = {"input_tokens": turn.input_tokens, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": turn.output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": turn.input_tokens + turn.output_tokens}
    yield _event("response.completed", {"response": {**base, "status": "completed",
                                                     "output": list(turn.items), "usage": usage}})


def _event(kind: str, data: JSON) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


@dataclass(slots=True)
class _Script:
    turns: list[Turn]
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeResponsesAPI(LoopbackServer):
    """Serves scripted `Turn`s, one per `POST /v1/responses`; a context manager.

    `script_for(record)` may pick a per-session script (a 2-session run: each session's
    prompt names its own file); by default every request takes the next turn of `turns`.
    Once a script runs out, the turn ends with a plain "done." message.
    """

    def __init__(self, turns: Sequence[Turn] = (), *,
                 script_for: Callable[[Recorded], list[Turn] | None] | None = None,
                 router: Callable[[Recorded], Turn | None] | None = None) -> None:
        self._script = _Script(list(turns))
        self._script_for = script_for
        self._router = router
        super().__init__(self._reply, "fake-responses-api")

    @property
    def response_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.split("?", 1)[0].rstrip("/").endswith("/responses")]

    def _reply(self, record: Recorded) -> Answer:
        if not record.path.split("?", 1)[0].rstrip("/").endswith("/responses"):
            return json_answer({"error": {"message": f"fake: no {record.path}"}}, 404)
        turn = self._router(record) if self._router else None
        if turn is None:
            turns = (self._script_for(record) if self._script_for else None)
            with self._script.lock:
                queue = turns if turns is not None else self._script.turns
                turn = queue.pop(0) if queue else say("done.")
        if turn.delay:
            time.sleep(turn.delay)
        return 200, {"content-type": "text/event-stream"}, list(sse(turn))


def input_text(record: Recorded) -> str:
    """Every string of the request's `input`: what the model was shown."""
    return json.dumps(record.body.get("input", []))
