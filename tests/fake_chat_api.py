"""A fake OpenAI chat-completions API on 127.0.0.1, for aider.

aider (0.86.2, through litellm) with `--openai-api-base URL --model openai/<name>` posts to
`URL/chat/completions`: once per edit turn, and once more for the commit message of each
commit it makes itself. Edits travel in the reply's text (no tools): with `--edit-format
whole`, a file name line and the whole file in a fence. Streamed requests get
`chat.completion.chunk` SSE lines ending `data: [DONE]`; others one `chat.completion` object.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from tests.fake_messages_api import Recorded
from tests.loopback import Answer, LoopbackServer, json_answer

_ids = itertools.count(1)
COMMIT_MESSAGE = "feat: add the file"


def whole_file(path: str, content: str, preface: str = "Here it is.") -> str:
    """A reply in aider's `whole` edit format."""
    return f"{preface}\n\n{path}\n```\n{content}```\n"


def is_commit_request(record: Recorded) -> bool:
    """aider's commit-message request: its system prompt asks for a commit message."""
    messages = record.body.get("messages") or []
    first = messages[0].get("content") if messages and isinstance(messages[0], dict) else ""
    return "commit message" in json.dumps(first).lower()


class FakeChatAPI(LoopbackServer):
    def __init__(self, replies: Sequence[str] = (), *,
                 script_for: Callable[[Recorded], list[str] | None] | None = None,
                 prompt_tokens: int = 700, completion_tokens: int = 40, commit_delay: float = 0.0) -> None:
        self._replies = list(replies)
        self._commit_delay = commit_delay
        """Seconds before the commit message: the edit sits uncommitted in the worktree meanwhile."""
        self._script_for = script_for
        self._lock = threading.Lock()
        self.usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}
        super().__init__(self._reply, "fake-chat-api")

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    def _reply(self, record: Recorded) -> Answer:
        if not record.path.rstrip("/").endswith("/chat/completions"):
            return json_answer({"error": {"message": f"fake: no {record.path}"}}, 404)
        if is_commit_request(record):
            time.sleep(self._commit_delay)
            text = COMMIT_MESSAGE
        else:
            queue = self._script_for(record) if self._script_for else None
            with self._lock:
                queue = queue if queue is not None else self._replies
                text = queue.pop(0) if queue else "Done."
        model = str(record.body.get("model") or "fake")
        if record.body.get("stream"):
            return 200, {"content-type": "text/event-stream"}, list(self._chunks(model, text))
        return json_answer({"id": f"chatcmpl-{next(_ids)}", "object": "chat.completion", "created": 0,
                            "model": model, "usage": self.usage, "choices": [
                                {"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}]})

    def _chunks(self, model: str, text: str) -> Iterator[bytes]:
        cid = f"chatcmpl-{next(_ids)}"
        base = {"id": cid, "object": "chat.completion.chunk", "created": 0, "model": model}
        for delta, finish in (({"role": "assistant", "content": text}, None), ({}, "stop")):
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        yield f"data: {json.dumps({**base, 'choices': [], 'usage': self.usage})}\n\n".encode()
        yield b"data: [DONE]\n\n"
