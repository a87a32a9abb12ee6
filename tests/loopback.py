"""A loopback HTTP server that records every request and lets a fake answer it.

The Codex and Gemini fakes (`fake_responses_api`, `fake_gemini_api`) speak different
protocols over the same kind of server: a real socket on 127.0.0.1 the real CLI connects to,
so its own HTTP client, retries and SSE parsing all run. Each fake supplies `answer`, which
returns a status, headers and the body as one or more chunks (an SSE stream is a list of
event chunks, flushed one by one).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from tests.fake_messages_api import Recorded

Answer = tuple[int, dict[str, str], Iterable[bytes]]
"""Status, headers, body chunks."""


class LoopbackServer:
    """A threaded server on 127.0.0.1; `answer(record)` decides each reply; a context manager."""

    def __init__(self, answer: Callable[[Recorded], Answer], name: str) -> None:
        self._answer = answer
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True, name=name)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _handle(self, record: Recorded) -> Answer:
        with self._lock:
            self.requests.append(record)
        return self._answer(record)


def json_answer(body: object, status: int = 200) -> Answer:
    return status, {"content-type": "application/json"}, [json.dumps(body).encode()]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: LoopbackServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        """Quiet: tests assert on the recorded requests."""

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self._serve(self.rfile.read(length) if length else b"")

    def _serve(self, raw: bytes) -> None:
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        record = Recorded(method=self.command, path=self.path, raw=raw,
                          headers={k.lower(): v for k, v in self.headers.items()},
                          body=body if isinstance(body, dict) else {})
        status, headers, chunks = self.server.owner._handle(record)
        streamed = headers.get("content-type", "").startswith("text/event-stream")
        data = [] if streamed else [b"".join(chunks)]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if streamed:
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
        else:
            self.send_header("content-length", str(len(data[0])))
        self.end_headers()
        try:
            for chunk in (chunks if streamed else data):
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        if streamed:
            self.close_connection = True
