"""A fake Anthropic Messages API on 127.0.0.1, for tests that drive a real client.

The anthropic SDK 2.x talks through `httpx2`, so `respx` cannot intercept it; the Claude
Code CLI is a separate process that cannot be patched at all. Both honour a base URL
(`base_url=` or `ANTHROPIC_BASE_URL`), so the honest fake is a real HTTP server on
loopback: the client's own retries, timeouts, headers and SSE parsing all run for real.

Usage::

    with FakeMessagesAPI([rate_limited(), tool_use("emit_plan", {...})]) as api:
        client = AsyncAnthropic(api_key="test", base_url=api.url)
        ...
        assert len(api.requests) == 2
        assert api.requests[0].body["tool_choice"] == {...}

Claude Code under `--json-schema` explores, then answers: script
`[tool_use("Grep", {...}), structured_output({...})]` and check `tool_results` of the second
request for what its Grep found.

Replies are served in order, one per `POST /v1/messages` (query strings such as Claude
Code's `?beta=true` are ignored); once the script runs out, `default` answers (a 500 error
unless you pass one). A request with `"stream": true` gets the same message as SSE events
(`message_start` … `message_stop`); an error reply stays a JSON error, as the real API sends
it before any stream starts. Every request is recorded (method, path, headers, JSON body),
including `count_tokens` and other paths, which are answered without using the script.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

JSON = dict[str, Any]
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One scripted answer: a status, a JSON body, extra headers, and a delay before it."""

    status: int = 200
    body: JSON = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (use it to trip a client timeout)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    """What the server received."""

    method: str
    path: str
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: JSON
    """The parsed JSON body ({} when the body was empty or not JSON)."""
    raw: bytes

    @property
    def streamed(self) -> bool:
        return bool(self.body.get("stream"))

    def text(self) -> str:
        """Every string in the request body joined: handy for "the prompt mentions X"."""
        return "\n".join(_strings(self.body))


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --- reply builders -------------------------------------------------------------------

def message(content: Sequence[JSON], *, stop_reason: str = "end_turn", input_tokens: int = 100,
            output_tokens: int = 50, model: str = "claude-sonnet-5-5",
            headers: Mapping[str, str] | None = None, delay: float = 0.0) -> Reply:
    """A successful Messages API answer with the given content blocks."""
    n = next(_ids)
    body: JSON = {
        "id": f"msg_fake{n:04d}", "type": "message", "role": "assistant", "model": model,
        "content": list(content), "stop_reason": stop_reason, "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }
    return Reply(body=body, delay=delay,
                 headers={"request-id": f"req_fake{n:04d}", **(headers or {})})


def text(answer: str, **kwargs: Any) -> Reply:
    """A plain text answer (`stop_reason: end_turn`)."""
    return message([{"type": "text", "text": answer}], **kwargs)


def tool_use(name: str, tool_input: JSON, *, tool_id: str | None = None, preface: str | None = None,
             **kwargs: Any) -> Reply:
    """A tool call, e.g. `tool_use("emit_plan", {...})` or `tool_use("Bash", {"command": "ls"})`."""
    block: JSON = {"type": "tool_use", "id": tool_id or f"toolu_fake{next(_ids):04d}",
                   "name": name, "input": tool_input}
    content = ([{"type": "text", "text": preface}] if preface else []) + [block]
    return message(content, stop_reason="tool_use", **kwargs)


def structured_output(answer: JSON, **kwargs: Any) -> Reply:
    """Claude Code's answer under `--json-schema`: a call of the `StructuredOutput` tool it adds,
    whose input is the structured result (script a `Grep` or `Read` call before it to explore)."""
    return tool_use("StructuredOutput", answer, **kwargs)


def tool_names(record: Recorded) -> list[str]:
    """The names of the tools a request offered the model, sorted."""
    tools = record.body.get("tools")
    return sorted(str(t.get("name")) for t in tools if isinstance(t, dict)) if isinstance(tools, list) else []


def tool_results(record: Recorded) -> list[JSON]:
    """The `tool_result` blocks the client sent back in a request (what its tools returned)."""
    return [block for msg in record.body.get("messages", []) if isinstance(msg, dict)
            and isinstance(msg.get("content"), list)
            for block in msg["content"] if isinstance(block, dict) and block.get("type") == "tool_result"]


_ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
    500: "api_error", 529: "overloaded_error",
}


def error(status: int, msg: str | None = None, *, headers: Mapping[str, str] | None = None,
          delay: float = 0.0) -> Reply:
    """An API error in the real shape: `{"type": "error", "error": {"type", "message"}}`."""
    kind = _ERROR_TYPES.get(status, "api_error")
    n = next(_ids)
    body = {"type": "error", "error": {"type": kind, "message": msg or f"fake {kind}"},
            "request_id": f"req_fake{n:04d}"}
    return Reply(status=status, body=body, delay=delay,
                 headers={"request-id": f"req_fake{n:04d}", **(headers or {})})


def rate_limited(retry_after_ms: int = 10) -> Reply:
    """A 429 that tells the SDK to retry after `retry_after_ms` (keeps tests fast)."""
    return error(429, "rate limited", headers={"retry-after-ms": str(retry_after_ms)})


def server_error(status: int = 500, retry_after_ms: int = 10) -> Reply:
    """A 5xx with a short `retry-after-ms`, so SDK retries do not back off for seconds."""
    return error(status, headers={"retry-after-ms": str(retry_after_ms)})


# --- SSE ------------------------------------------------------------------------------

def sse_events(body: JSON) -> list[tuple[str, JSON]]:
    """The stream the real API sends for a message: start, blocks with deltas, delta, stop."""
    usage = body.get("usage", {})
    start = {**body, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {"input_tokens": usage.get("input_tokens", 0), "output_tokens": 1}}
    events: list[tuple[str, JSON]] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(body.get("content", [])):
        if block["type"] == "tool_use":
            opening = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        elif block["type"] == "text":
            opening = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            opening, delta = block, None
        events.append(("content_block_start",
                       {"type": "content_block_start", "index": index, "content_block": opening}))
        if delta is not None:
            events.append(("content_block_delta",
                           {"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": body.get("stop_reason"), "stop_sequence": None},
        "usage": {"output_tokens": usage.get("output_tokens", 0)}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


# --- the server -----------------------------------------------------------------------

class FakeMessagesAPI:
    """A threaded loopback server answering `/v1/messages` from a script; a context manager."""

    def __init__(self, replies: Sequence[Reply] = (), *, default: Reply | None = None,
                 router: Callable[[Recorded], Reply | None] | None = None) -> None:
        self._router = router
        """Asked first for each `/v1/messages` request; None leaves it to the script. Interactive
        Claude Code sends side requests (a session title, with no tools) between the turns
        a test scripts, and those must not eat the scripted replies."""
        self._script = list(replies)
        self._default = default or error(500, "fake server: no scripted reply left")
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.requests: list[Recorded] = []
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True, name="fake-messages-api")

    @property
    def url(self) -> str:
        """The base URL to give the client (`base_url=` or `ANTHROPIC_BASE_URL`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def message_requests(self) -> list[Recorded]:
        """Only the `POST /v1/messages` requests (not count_tokens or other probes)."""
        return [r for r in self.requests if _is_messages(r.path)]

    def add(self, *replies: Reply) -> None:
        """Append replies to the script (e.g. between two runs of the client)."""
        with self._lock:
            self._script.extend(replies)

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _record_and_pick(self, record: Recorded) -> Reply | None:
        with self._lock:
            self.requests.append(record)
            if not _is_messages(record.path):
                return None
            if self._router is not None and (routed := self._router(record)) is not None:
                return routed
            return self._script.pop(0) if self._script else self._default


def _is_messages(path: str) -> bool:
    return path.split("?", 1)[0].rstrip("/") == "/v1/messages"


class _Server(ThreadingHTTPServer):
    """Carries the fake so each request handler can reach its script and its record."""

    daemon_threads = True

    def __init__(self, api: FakeMessagesAPI) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        """Quiet: tests assert on `api.requests`, not on a log."""

    def do_GET(self) -> None:
        self._other()

    def do_HEAD(self) -> None:
        self._other()

    def do_POST(self) -> None:
        api = self.server.api
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        record = Recorded(method="POST", path=self.path, raw=raw, headers=self._headers(),
                          body=_parse(raw))
        reply = api._record_and_pick(record)
        if reply is None:
            count = {"input_tokens": max(1, len(raw) // 4)}
            self._json(Reply(body=count) if "count_tokens" in self.path else Reply(status=404))
            return
        if reply.delay and api._closing.wait(reply.delay):
            return
        try:
            if reply.status == 200 and record.streamed:
                self._sse(reply)
            else:
                self._json(reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def _other(self) -> None:
        self.server.api._record_and_pick(
            Recorded(method=self.command, path=self.path, headers=self._headers(), body={}, raw=b""))
        self._json(Reply(body={}))

    def _json(self, reply: Reply) -> None:
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _sse(self, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        for event, data in sse_events(reply.body):
            self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True


def _parse(raw: bytes) -> JSON:
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
