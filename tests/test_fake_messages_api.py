"""The fake Messages API answers the real SDK the way the real API does (JSON and SSE)."""

from __future__ import annotations

import anthropic
import pytest

from tests.fake_messages_api import FakeMessagesAPI, error, rate_limited, text, tool_use


def _client(api: FakeMessagesAPI, retries: int = 0) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key="sk-test", base_url=api.url, max_retries=retries,
                                    timeout=5)


async def test_tool_use_answer_round_trips_and_is_recorded() -> None:
    with FakeMessagesAPI([tool_use("Write", {"file_path": "a.txt", "content": "hi"})]) as api:
        reply = await _client(api).messages.create(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "go"}])
    block = reply.content[0]
    assert block.type == "tool_use"
    assert block.name == "Write"
    assert block.input == {"file_path": "a.txt", "content": "hi"}
    assert reply._request_id and reply._request_id.startswith("req_fake")
    (req,) = api.requests
    assert req.path == "/v1/messages"
    assert "sk-test" in (req.headers.get("x-api-key", "") + req.headers.get("authorization", ""))
    assert req.body["messages"][0]["content"] == "go"


async def test_streaming_text_and_tool_use() -> None:
    script = [text("hello there"), tool_use("Bash", {"command": "ls"}, preface="listing")]
    with FakeMessagesAPI(script) as api:
        client = _client(api)
        async with client.messages.stream(model="m", max_tokens=10,
                                          messages=[{"role": "user", "content": "hi"}]) as stream:
            first = await stream.get_final_message()
        async with client.messages.stream(model="m", max_tokens=10,
                                          messages=[{"role": "user", "content": "hi"}]) as stream:
            second = await stream.get_final_message()
    assert first.content[0].type == "text"
    assert first.content[0].text == "hello there"
    assert [b.type for b in second.content] == ["text", "tool_use"]
    assert second.content[1].input == {"command": "ls"}
    assert second.stop_reason == "tool_use"
    assert second.usage.output_tokens == 50
    assert all(r.streamed for r in api.requests)


async def test_errors_and_retries_follow_the_script() -> None:
    with FakeMessagesAPI([rate_limited(), text("ok")]) as api:
        reply = await _client(api, retries=1).messages.create(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert reply.content[0].type == "text"
    assert len(api.requests) == 2
    with FakeMessagesAPI([error(401)]) as api, pytest.raises(anthropic.AuthenticationError):
        await _client(api).messages.create(model="m", max_tokens=10,
                                           messages=[{"role": "user", "content": "x"}])


async def test_exhausted_script_uses_the_default_and_count_tokens_is_free() -> None:
    with FakeMessagesAPI(default=text("again")) as api:
        client = _client(api)
        count = await client.messages.count_tokens(model="m",
                                                   messages=[{"role": "user", "content": "x"}])
        a = await client.messages.create(model="m", max_tokens=5,
                                         messages=[{"role": "user", "content": "x"}])
        b = await client.messages.create(model="m", max_tokens=5,
                                         messages=[{"role": "user", "content": "x"}])
    assert count.input_tokens >= 1
    assert a.content[0].type == b.content[0].type == "text"
    assert len(api.message_requests) == 2
    assert len(api.requests) == 3
