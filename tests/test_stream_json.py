"""stream-json parsing on the line shapes of agent-cli-facts §1.3/§1.4 and real 2.1.197 output."""

from __future__ import annotations

import json
from pathlib import Path

from engine.agents.stream_json import last_activity, parse_result, read_result

INIT = {"type": "system", "subtype": "init", "cwd": "/w", "session_id": "s-1", "tools": ["Bash"]}
TOOL = {"type": "assistant", "session_id": "s-1", "message": {
    "id": "msg_1", "role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "Write",
         "input": {"file_path": "/w/hello.txt", "content": "hi"}}]}}
TOOL_RESULT = {"type": "user", "message": {"role": "user", "content": [
    {"tool_use_id": "toolu_1", "type": "tool_result", "content": "File created", "is_error": False}]}}
TEXT = {"type": "assistant", "message": {"id": "msg_2", "content": [
    {"type": "text", "text": "\nAll done: wrote hello.txt.\nSecond line."}]}}
SUCCESS = {"type": "result", "subtype": "success", "is_error": False, "num_turns": 2,
           "result": "All done: wrote hello.txt.", "session_id": "s-1", "total_cost_usd": 0.00156,
           "api_error_status": None, "terminal_reason": "completed"}
API_ERROR = {"type": "result", "subtype": "success", "is_error": True,
             "result": "API Error: Request rejected (429) · rate limited", "session_id": "s-2",
             "total_cost_usd": 0, "api_error_status": 429, "terminal_reason": "api_error"}
MAX_TURNS = {"type": "result", "subtype": "error_max_turns", "is_error": True, "session_id": "s-3",
             "errors": ["Reached maximum number of turns (1)"], "terminal_reason": "max_turns"}


def write(path: Path, *objs: object, tail: str = "") -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs) + tail, encoding="utf-8")
    return path


def test_success_result(tmp_path: Path) -> None:
    out = write(tmp_path / "o.jsonl", INIT, TOOL, TOOL_RESULT, TEXT, SUCCESS)
    result = read_result(out)
    assert result is not None
    assert result.is_error is False
    assert result.cost_usd == 0.00156
    assert result.result == "All done: wrote hello.txt."
    assert result.session_id == "s-1"
    assert result.api_error_status is None


def test_api_error_is_an_error_although_subtype_says_success(tmp_path: Path) -> None:
    result = read_result(write(tmp_path / "o.jsonl", INIT, API_ERROR))
    assert result is not None
    assert result.is_error is True
    assert result.api_error_status == 429
    assert result.cost_usd == 0.0
    assert "429" in result.result


def test_max_turns_error_text_comes_from_errors() -> None:
    result = parse_result(MAX_TURNS)
    assert result.is_error is True
    assert result.result == "Reached maximum number of turns (1)"
    assert result.cost_usd is None


def test_running_or_missing_output_has_no_result(tmp_path: Path) -> None:
    assert read_result(tmp_path / "none.jsonl") is None
    running = write(tmp_path / "o.jsonl", INIT, TOOL, tail='{"type": "assistant", "mess')
    assert read_result(running) is None
    noise = write(tmp_path / "n.jsonl", INIT, tail="not json\n[1, 2]\n")
    assert read_result(noise) is None


def test_last_activity_follows_the_stream(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    assert last_activity(out) == ""
    write(out, INIT)
    assert last_activity(out) == ""
    write(out, INIT, TOOL)
    assert last_activity(out) == "Write: /w/hello.txt"
    write(out, INIT, TOOL, TOOL_RESULT, TEXT)
    assert last_activity(out) == "All done: wrote hello.txt."
    write(out, INIT, API_ERROR)
    assert last_activity(out).startswith("API Error: Request rejected (429)")


def test_last_activity_is_one_bounded_line(tmp_path: Path) -> None:
    bash = {"type": "assistant", "message": {"content": [
        {"type": "tool_use", "name": "Bash", "input": {"command": "echo " + "x" * 500 + "\nls"}}]}}
    line = last_activity(write(tmp_path / "o.jsonl", bash))
    assert "\n" not in line
    assert line.startswith("Bash: echo xxx")
    assert len(line) <= 120
