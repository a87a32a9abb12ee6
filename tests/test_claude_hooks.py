"""Hook settings, the hook writer run through a real shell, and the state read back."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from engine.agents import hook_writer
from engine.agents.hooks import EVENTS, hook_command, hook_settings, read_hook_state, state_of
from engine.core.models import SessionState


def run_hook(status: Path, payload: dict[str, object] | str) -> subprocess.CompletedProcess[str]:
    """Run the hook command the way Claude Code does: `sh -c <command>`, payload on stdin."""
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return subprocess.run(["/bin/sh", "-c", hook_command(status)], input=data, text=True,
                          capture_output=True, check=False, timeout=30)


def write_lines(path: Path, *lines: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_settings_register_every_event_with_one_quoted_command(tmp_path: Path) -> None:
    status = tmp_path / "it's a dir; rm -rf $HOME" / "status.jsonl"
    settings = json.loads(hook_settings(status))
    assert set(settings["hooks"]) == set(EVENTS)
    assert {"UserPromptSubmit", "PreToolUse", "Notification", "PermissionRequest", "Stop", "StopFailure",
            "SessionEnd"} <= set(EVENTS)
    for event, entries in settings["hooks"].items():
        (entry,) = entries
        (handler,) = entry["hooks"]
        assert handler["type"] == "command"
        argv = shlex.split(handler["command"])
        assert argv[0] == sys.executable
        assert Path(argv[0]).is_absolute()
        assert argv[-1] == str(status.resolve())
        assert entry.get("matcher", "*") == "*", event


def test_writer_appends_one_line_per_event_through_a_shell(tmp_path: Path) -> None:
    status = tmp_path / "odd 'name' $x" / "status.jsonl"
    status.parent.mkdir()
    first = run_hook(status, {"hook_event_name": "UserPromptSubmit", "session_id": "s1",
                              "prompt": "secret prompt text", "cwd": "/w"})
    second = run_hook(status, {"hook_event_name": "Notification", "session_id": "s1",
                               "notification_type": "permission_prompt",
                               "message": "Claude needs your permission"})
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout == ""  # stdout would reach the model's context
    lines = [json.loads(x) for x in status.read_text(encoding="utf-8").splitlines()]
    assert [x["event"] for x in lines] == ["UserPromptSubmit", "Notification"]
    assert lines[0]["session_id"] == "s1"
    assert "prompt" not in lines[0]  # the prompt is not copied
    assert lines[1]["notification_type"] == "permission_prompt"
    assert isinstance(lines[1]["at"], float)
    state = read_hook_state(status)
    assert state is not None
    assert state.state is SessionState.NEEDS_INPUT
    assert state.detail == "Notification permission_prompt"
    assert state.session_id == "s1"


def test_writer_never_fails_the_session(tmp_path: Path) -> None:
    assert run_hook(tmp_path / "s.jsonl", "not json at all").returncode == 0
    assert json.loads((tmp_path / "s.jsonl").read_text())["event"] == "unknown"
    assert run_hook(tmp_path / "new-dir" / "s.jsonl", {"hook_event_name": "Stop"}).returncode == 0
    assert (tmp_path / "new-dir" / "s.jsonl").is_file()
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    unwritable = run_hook(tmp_path / "a-file" / "s.jsonl", {"hook_event_name": "Stop"})
    assert unwritable.returncode == 0
    assert "cannot write" in unwritable.stderr


def test_record_shortens_long_text() -> None:
    line = hook_writer.record({"hook_event_name": "Stop", "last_assistant_message": "x" * 5000,
                               "tool_input": {"big": "y"}}, 1.0)
    assert len(str(line["last_assistant_message"])) == hook_writer.MAX_TEXT
    assert "tool_input" not in line


@pytest.mark.parametrize(("line", "expected"), [
    ({"event": "SessionStart"}, SessionState.STARTING),
    ({"event": "UserPromptSubmit"}, SessionState.WORKING),
    ({"event": "PreToolUse", "tool_name": "Write"}, SessionState.WORKING),
    ({"event": "PostToolUse", "tool_name": "Write"}, SessionState.WORKING),
    ({"event": "PermissionRequest", "tool_name": "Bash"}, SessionState.NEEDS_INPUT),
    ({"event": "Notification", "notification_type": "permission_prompt"}, SessionState.NEEDS_INPUT),
    ({"event": "Notification", "notification_type": "idle_prompt"}, SessionState.IDLE),
    ({"event": "Stop"}, SessionState.IDLE),
    ({"event": "StopFailure", "error": "server_error",
      "last_assistant_message": "API Error: 500 … (127.0.0.1:44291)"}, SessionState.FAILED),
    ({"event": "StopFailure", "error": "rate_limit"}, SessionState.RATE_LIMITED),
    ({"event": "StopFailure", "error": "unknown",
      "last_assistant_message": "API Error: Request rejected (429)"}, SessionState.RATE_LIMITED),
    ({"event": "SessionEnd", "reason": "other"}, SessionState.EXITED),
])
def test_event_mapping(line: dict[str, object], expected: SessionState) -> None:
    found = state_of(line)
    assert found is not None
    assert found[0] is expected


def test_lines_that_say_nothing_are_skipped(tmp_path: Path) -> None:
    status = write_lines(tmp_path / "s.jsonl",
                         {"event": "PreToolUse", "at": 5.0, "session_id": "a", "tool_name": "Edit"},
                         {"event": "Notification", "at": 6.0, "notification_type": "auth_success"},
                         {"event": "SubagentStop", "at": 7.0})
    with status.open("a", encoding="utf-8") as handle:
        handle.write('{"event": "Stop", "at": 8')  # a write in progress
    state = read_hook_state(status)
    assert state is not None
    assert (state.state, state.at, state.detail, state.session_id) == (
        SessionState.WORKING, 5.0, "PreToolUse Edit", "a")


def test_session_end_keeps_a_failure(tmp_path: Path) -> None:
    """`claude -p` always ends with SessionEnd; a StopFailure just before it must stay visible."""
    failed = write_lines(tmp_path / "f.jsonl", {"event": "UserPromptSubmit", "at": 1.0},
                         {"event": "StopFailure", "at": 2.0, "error": "rate_limit"},
                         {"event": "SessionEnd", "at": 3.0, "reason": "other"})
    state = read_hook_state(failed)
    assert state is not None
    assert state.state is SessionState.RATE_LIMITED
    assert state.detail.startswith("StopFailure rate_limit")
    clean = write_lines(tmp_path / "c.jsonl", {"event": "Stop", "at": 2.0},
                        {"event": "SessionEnd", "at": 3.0})
    state = read_hook_state(clean)
    assert state is not None
    assert state.state is SessionState.EXITED


def test_missing_or_empty_file(tmp_path: Path) -> None:
    assert read_hook_state(tmp_path / "nope.jsonl") is None
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    assert read_hook_state(tmp_path / "empty.jsonl") is None
