"""The Claude planner against a fake Messages API: the real SDK, retries, timeouts and CLI.

No mocks of the SDK: `anthropic.AsyncAnthropic` talks HTTP to a loopback server
(`tests/fake_messages_api.py`) through ANTHROPIC_BASE_URL, so its retries, backoff headers,
timeouts and error classes run for real, and the tests assert on what the server received.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.claude.answer import IncompleteAnswer, UnusableAnswer, read_answer
from engine.cli.main import main
from engine.core.errors import ExitCode
from tests.conftest import RepoFactory
from tests.fake_messages_api import (
    FakeMessagesAPI,
    Reply,
    error,
    rate_limited,
    server_error,
    text,
    tool_use,
)
from tests.gitrepo import commit

KEY = "sk-ant-test-NEVER-PRINT-ME-0123456789"
TASK = "Add login with frontend and backend"


def sub(name: str, modify: list[str] | None = None, create: list[str] | None = None,
        depends_on: list[str] | None = None, minutes: float = 10) -> dict[str, Any]:
    return {"name": name, "description": f"do the {name} part", "files_to_modify": modify or [],
            "files_to_create": create or [], "depends_on": depends_on or [],
            "estimated_minutes": minutes}


CLEAN = {"subtasks": [
    sub("login-backend", ["api/auth_routes.py"], ["api/session.py"]),
    sub("login-frontend", ["components/Login.tsx"]),
    sub("login-tests", create=["tests/test_login.py"], depends_on=["login-backend"]),
]}
OVERLAPPING = {"subtasks": [
    sub("login-backend", ["api/auth_routes.py"]),
    sub("login-frontend", ["components/Login.tsx", "api/auth_routes.py"]),
    sub("login-tests", create=["tests/test_login.py"]),
]}


def plan_reply(plan: dict[str, Any], **kwargs: Any) -> Reply:
    return tool_use("emit_plan", plan, **kwargs)


@pytest.fixture
def claude_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A key and fast SDK settings: one retry, a short timeout."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("PARALLEL_TUI_PLANNER_MAX_RETRIES", "1")
    monkeypatch.setenv("PARALLEL_TUI_PLANNER_TIMEOUT_S", "10")
    yield monkeypatch


@pytest.fixture
def api(claude_env: pytest.MonkeyPatch) -> Iterator[FakeMessagesAPI]:
    with FakeMessagesAPI() as fake:
        claude_env.setenv("ANTHROPIC_BASE_URL", fake.url)
        yield fake


def plan(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str,
         code: int = 0) -> tuple[dict[str, Any], str]:
    """Run `parallel-tui plan --json` in-process; return the JSON and stderr."""
    rc = main(["plan", TASK, "--repo", str(repo), "--json", "--minutes", "45", *extra])
    out, err = capsys.readouterr()
    assert KEY not in out
    assert KEY not in err
    assert rc == code, err
    return (json.loads(out) if out.strip() else {}), err


def names(result: dict[str, Any]) -> list[str]:
    return [s["name"] for s in result["subtasks"]]


def test_clean_plan_uses_a_forced_tool_and_the_analysis(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(plan_reply(CLEAN, input_tokens=1200, output_tokens=300))
    result, _ = plan(web_repo, capsys, "--planner", "claude", "--model", "claude-haiku-5-5")
    assert result["planner"] == "claude"
    assert result["fallback_reason"] is None
    assert names(result) == ["login-backend", "login-frontend", "login-tests"]
    assert result["validation"]["overlaps"] == []
    usage = result["planner_usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["requests"]) == (1200, 300, 1)
    assert usage["request_ids"][0].startswith("req_fake")
    (req,) = api.message_requests
    body = req.body
    assert body["model"] == "claude-haiku-5-5"
    assert body["tool_choice"]["type"] == "tool"
    assert body["tool_choice"]["name"] == "emit_plan"
    schema = body["tools"][0]["input_schema"]["properties"]["subtasks"]["items"]["properties"]
    assert {"name", "description", "files_to_modify", "files_to_create", "depends_on",
            "estimated_minutes"} <= set(schema)
    prompt = req.text()
    assert f"optimal split count: {result['overhead']['optimal_splits']}" in prompt
    assert f"Requested number of subtasks: {result['overhead']['optimal_splits']}" in prompt
    assert "break-even split count:" in prompt
    for module in result["repo"]["modules"]:
        assert module["path"] in prompt
    assert "No file in two subtasks" in prompt
    assert KEY not in req.text()


def test_splits_flag_is_the_requested_count(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(plan_reply(CLEAN))
    plan(web_repo, capsys, "--planner", "claude", "--splits", "3")
    assert "Requested number of subtasks: 3" in api.message_requests[0].text()


def test_overlap_is_repaired_by_asking_once_more(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(plan_reply(OVERLAPPING, input_tokens=1000, output_tokens=200),
            plan_reply(CLEAN, input_tokens=1500, output_tokens=250))
    result, _ = plan(web_repo, capsys, "--planner", "claude")
    assert result["planner"] == "claude"
    assert result["validation"]["overlaps"] == []
    assert names(result) == ["login-backend", "login-frontend", "login-tests"]
    first, second = api.message_requests
    assistant, answer = second.body["messages"][1:]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0]["type"] == "tool_use"
    assert assistant["content"][0]["input"] == OVERLAPPING
    assert answer["role"] == "user"
    assert answer["content"][0]["type"] == "tool_result"
    assert answer["content"][0]["tool_use_id"] == assistant["content"][0]["id"]
    assert "api/auth_routes.py" in answer["content"][0]["content"]
    assert "login-backend, login-frontend" in answer["content"][0]["content"]
    assert second.body["tool_choice"] == first.body["tool_choice"]
    usage = result["planner_usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["requests"]) == (2500, 450, 2)
    assert len(set(usage["request_ids"])) == 2
    assert any("asked Claude again" in n for n in result["planner_notes"])


def test_overlap_twice_merges_the_subtasks_and_says_so(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(plan_reply(OVERLAPPING), plan_reply(OVERLAPPING))
    result, _ = plan(web_repo, capsys, "--planner", "claude")
    assert len(api.message_requests) == 2
    assert result["planner"] == "claude"
    assert names(result) == ["login-backend", "login-tests"]
    merged = result["subtasks"][0]
    assert merged["files_to_modify"] == ["api/auth_routes.py", "components/Login.tsx"]
    # the merge adds the two parts' minutes (20 against the tests' 10); every subtask's minutes are
    # then its share of the one sequential estimate, so they add up to it
    tests_minutes = result["subtasks"][1]["estimated_minutes"]
    assert merged["estimated_minutes"] == pytest.approx(2 * tests_minutes, abs=0.1)
    assert sum(s["estimated_minutes"] for s in result["subtasks"]) == pytest.approx(
        result["estimate"]["sequential_minutes"], abs=0.05)
    assert result["validation"]["overlaps"] == []
    notes = " ".join(result["planner_notes"])
    assert "merged login-backend, login-frontend into login-backend" in notes
    assert "api/auth_routes.py" in notes


@pytest.mark.parametrize("repair", [text("Sorry, I cannot."), server_error()],
                         ids=["unusable", "server-error"])
def test_failed_repair_keeps_the_first_answer_merged(
        api: FakeMessagesAPI, claude_env: pytest.MonkeyPatch, web_repo: Path,
        capsys: pytest.CaptureFixture[str], repair: Reply) -> None:
    claude_env.setenv("PARALLEL_TUI_PLANNER_MAX_RETRIES", "0")
    api.add(plan_reply(OVERLAPPING), repair)
    result, _ = plan(web_repo, capsys, "--planner", "claude")
    assert len(api.message_requests) == 2
    assert result["planner"] == "claude"
    assert names(result) == ["login-backend", "login-tests"]
    notes = " ".join(result["planner_notes"])
    assert "kept the first answer" in notes
    assert "merged login-backend, login-frontend" in notes


def test_paths_outside_the_repo_are_dropped_with_a_note(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = {"subtasks": [sub("login-backend", ["api/auth_routes.py", "../outside.py"]),
                        sub("login-frontend", ["components/Login.tsx"], ["/etc/passwd"])]}
    api.add(plan_reply(bad))
    result, _ = plan(web_repo, capsys, "--planner", "claude")
    files = [f for s in result["subtasks"] for f in s["files_to_modify"] + s["files_to_create"]]
    assert files == ["api/auth_routes.py", "components/Login.tsx"]
    notes = " ".join(result["planner_notes"])
    assert "'../outside.py'" in notes
    assert "leaves the repository" in notes
    assert "'/etc/passwd'" in notes
    assert "absolute path" in notes
    assert not [p for p in result["validation"]["problems"] if ".." in p or "/etc" in p]


def test_rate_limit_is_retried_by_the_sdk(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(rate_limited(retry_after_ms=10), plan_reply(CLEAN))
    result, _ = plan(web_repo, capsys, "--planner", "claude")
    assert len(api.message_requests) == 2
    assert result["planner"] == "claude"
    assert api.message_requests[1].headers["x-stainless-retry-count"] == "1"


def test_server_errors_until_retries_run_out_fall_back_under_auto(
        api: FakeMessagesAPI, claude_env: pytest.MonkeyPatch, web_repo: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    claude_env.setenv("PARALLEL_TUI_PLANNER_MAX_RETRIES", "2")
    api.add(server_error(), server_error(), server_error(), plan_reply(CLEAN))
    result, _ = plan(web_repo, capsys)
    assert len(api.message_requests) == 3
    assert result["planner"] == "offline"
    reason = result["fallback_reason"]
    assert "500" in reason
    assert "after 2 retries" in reason
    assert "\n" not in reason
    assert result["subtasks"]


def test_slow_server_past_the_timeout_falls_back(
        api: FakeMessagesAPI, claude_env: pytest.MonkeyPatch, web_repo: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    claude_env.setenv("PARALLEL_TUI_PLANNER_TIMEOUT_S", "0.5")
    claude_env.setenv("PARALLEL_TUI_PLANNER_MAX_RETRIES", "0")
    api.add(plan_reply(CLEAN, delay=5))
    result, _ = plan(web_repo, capsys, "--planner", "auto")
    assert len(api.message_requests) == 1
    assert result["planner"] == "offline"
    assert "within 0.5s" in result["fallback_reason"]


@pytest.mark.parametrize("answer", [
    plan_reply({"subtasks": "login, then tests"}),
    plan_reply({"subtasks": [{"name": 3, "description": "x"}]}),
    plan_reply({"plan": []}),
    text("Here is my plan: split it in three."),
], ids=["subtasks-not-a-list", "name-not-a-string", "no-subtasks", "text-not-tool"])
def test_malformed_answer_falls_back_and_keeps_its_usage(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str],
        answer: Reply) -> None:
    api.add(answer)
    result, _ = plan(web_repo, capsys)
    assert len(api.message_requests) == 1
    assert result["planner"] == "offline"
    assert result["fallback_reason"].startswith("Claude's answer was unusable")
    assert result["planner_usage"]["requests"] == 1


def test_malformed_answer_is_an_error_under_planner_claude(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(plan_reply({"subtasks": "nope"}))
    _, err = plan(web_repo, capsys, "--planner", "claude", code=ExitCode.API)
    assert err.startswith("error: Claude's answer was unusable")


def test_bad_key_is_one_clear_line_and_never_printed(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(error(401, f"invalid x-api-key: {KEY}"))
    result, err = plan(web_repo, capsys, "--planner", "claude", code=ExitCode.API)
    assert result == {}
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: the Anthropic API refused the key (401 authentication_error")
    assert "ANTHROPIC_API_KEY" in lines[-1]
    assert len([line for line in lines if line.startswith("error:")]) == 1
    assert len(api.message_requests) == 1


@pytest.mark.parametrize("body", ["<html>login portal</html>", {"hello": "world"}, [1, 2]])
def test_a_200_that_is_not_a_message_falls_back(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str], body: Any) -> None:
    """A proxy or captive portal answering 200: auto falls back, claude says so in one line."""
    api.add(Reply(status=200, body=body))
    result, _ = plan(web_repo, capsys)
    assert result["planner"] == "offline"
    assert "not a message" in result["fallback_reason"]
    api.add(Reply(status=200, body=body))
    _, err = plan(web_repo, capsys, "--planner", "claude", code=ExitCode.API)
    assert err.strip().startswith("error: the Anthropic API answered with")


def test_a_key_echoed_anywhere_in_an_error_is_masked(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The message, the error type and the request id all come from the wire."""
    api.add(Reply(status=401, body={"type": "error", "error": {"type": f"auth {KEY[:20]}",
                                                                "message": f"bad: Bearer {KEY[3:]}"}},
                  headers={"request-id": f"req_{KEY}"}))
    _, err = plan(web_repo, capsys, "--planner", "claude", code=ExitCode.API)
    assert KEY[3:] not in err and KEY[:20] not in err and "sk-ant-" not in err


def test_bad_key_under_auto_falls_back(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(error(401, f"invalid x-api-key: {KEY}"))
    result, _ = plan(web_repo, capsys)
    assert result["planner"] == "offline"
    assert "refused the key" in result["fallback_reason"]
    assert KEY not in json.dumps(result)


def test_unknown_model_names_the_setting(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(error(404, "model: claude-nope"))
    _, err = plan(web_repo, capsys, "--planner", "claude", "--model", "claude-nope",
                  code=ExitCode.API)
    assert "model 'claude-nope' was not found" in err
    assert "--model" in err


def test_model_comes_from_config(api: FakeMessagesAPI, claude_env: pytest.MonkeyPatch,
                                 web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (web_repo / ".parallel-tui.toml").write_text('planner_model = "claude-opus-5-5"\n')
    api.add(plan_reply(CLEAN))
    plan(web_repo, capsys, "--planner", "claude")
    assert api.message_requests[0].body["model"] == "claude-opus-5-5"


def test_no_key_means_offline_under_auto_and_an_error_under_claude(
        web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result, _ = plan(web_repo, capsys)
    assert result["planner"] == "offline"
    assert result["fallback_reason"] is None
    _, err = plan(web_repo, capsys, "--planner", "claude", code=ExitCode.API)
    assert "ANTHROPIC_API_KEY is not set" in err


def test_cli_import_does_not_load_anthropic() -> None:
    code = "import engine.cli.main, sys; assert 'anthropic' not in sys.modules"
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_offline_plan_does_not_load_anthropic(web_repo: Path) -> None:
    code = ("import sys; from engine.cli.main import main; "
            f"rc = main(['plan', 'Add login', '--repo', {str(web_repo)!r}, '--json', "
            "'--planner', 'offline']); assert rc == 0; assert 'anthropic' not in sys.modules")
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, capture_output=True)


def test_fallback_is_said_in_the_text_report(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(error(401, f"invalid x-api-key: {KEY}"))
    rc = main(["plan", TASK, "--repo", str(web_repo), "--minutes", "45"])
    out, err = capsys.readouterr()
    assert rc == 0
    assert "Planner fell back to offline: the Anthropic API refused the key" in out
    assert KEY not in out + err


# --- the answer reader on its own -----------------------------------------------------

def test_more_than_ten_subtasks_are_folded_to_ten() -> None:
    raw = {"subtasks": [sub(f"part-{i}", [f"f{i}.py"]) for i in range(1, 14)]}
    read = read_answer(raw, task="t", default_minutes=5)
    assert len(read.subtasks) == 10
    assert read.subtasks[-1].files_to_modify == ("f10.py", "f11.py", "f12.py", "f13.py")
    assert "clamped to 10" in read.notes[0]


def test_zero_subtasks_become_one_for_the_whole_task() -> None:
    read = read_answer({"subtasks": []}, task="Add login", default_minutes=5)
    assert [s.description for s in read.subtasks] == ["Add login"]
    assert "clamped to 1" in read.notes[0]


def test_repeated_names_get_a_suffix() -> None:
    read = read_answer({"subtasks": [sub("a", ["x.py"]), sub("a", ["y.py"])]}, task="t",
                       default_minutes=5)
    assert [s.name for s in read.subtasks] == ["a", "a-2"]


def test_wrong_types_are_unusable() -> None:
    with pytest.raises(UnusableAnswer, match="files_to_modify"):
        read_answer({"subtasks": [{"name": "a", "description": "b", "files_to_modify": "x.py"}]},
                    task="t", default_minutes=5)


# --- localization in the prompt, and stricter answers (issue 14) -----------------------

INCOMPLETE = {"subtasks": [{"title": "x"}]}
UNKNOWN = {"subtasks": [
    sub("login-backend", ["api/auth_routes.py", "api/sessions_store.py"]),
    sub("login-frontend", ["components/Login.tsx"]),
]}


def test_prompt_carries_the_ranked_candidates_not_the_first_paths(
        api: FakeMessagesAPI, repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    filler = {f"aaa/f{i:03}.py": f"X{i} = {i}\n" for i in range(200)}
    repo = repo_factory({**filler, "plugins/cache/store.py": "class CacheStore:\n    pass\n",
                         "plugins/auth/login.py": "def login():\n    pass\n",
                         "tests/test_store.py": "def test_store():\n    pass\n"})
    api.add(plan_reply({"subtasks": [sub("cache", ["plugins/cache/store.py"])]}))
    rc = main(["plan", "Add a plugin caching layer", "--repo", str(repo), "--json",
               "--planner", "claude", "--minutes", "45"])
    assert rc == 0, capsys.readouterr().err
    prompt = api.message_requests[0].text()
    section = prompt.split("Files this task most likely touches")[1]
    first = section.splitlines()[1]
    assert first.startswith("- plugins/cache/store.py: rank 1; matches ")
    assert first.endswith("; defines CacheStore; tested by tests/test_store.py")
    assert "aaa/f150.py" not in prompt  # the old prompt listed the first 400 paths
    assert "All tracked files" not in prompt


def test_prompt_and_context_carry_the_past_commits_like_the_task(
        api: FakeMessagesAPI, repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """A change like one the repo made before touched files the task's words do not name
    (the template, the changelog): the model is shown that commit and its files."""
    repo = repo_factory({"site/render.py": "def render():\n    pass\n", "site/page.html": "<p></p>\n",
                         "CHANGES.md": "# changes\n", "site/other.py": "X = 0\n"})
    commit(repo, {"site/render.py": "def render():\n    return 1\n", "site/page.html": "<p>1</p>\n",
                  "CHANGES.md": "# changes\n- dark\n"}, "Support dark mode in rendered pages")
    commit(repo, {"site/other.py": "X = 1\n"}, "Speed up the other thing")
    api.add(plan_reply({"subtasks": [sub("dark", ["site/render.py"])]}))
    task = "Fix dark mode contrast when rendering"
    assert main(["plan", task, "--repo", str(repo), "--json", "--planner", "claude"]) == 0
    capsys.readouterr()
    section = api.message_requests[0].text().split("Past commits in this repo most like the task")[1]
    assert section.splitlines()[1] == \
        "- Support dark mode in rendered pages: CHANGES.md, site/page.html, site/render.py"
    assert "Speed up the other thing" not in section
    assert main(["plan", "--context", task, "--repo", str(repo), "--json"]) == 0
    context = json.loads(capsys.readouterr().out)
    assert context["past_changes"] == [{"subject": "Support dark mode in rendered pages",
                                        "files": ["CHANGES.md", "site/page.html", "site/render.py"]}]


def test_a_file_to_modify_that_does_not_exist_is_a_repair_item(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(plan_reply(UNKNOWN), plan_reply(CLEAN))
    result, _ = plan(web_repo, capsys, "--planner", "claude")
    assert len(api.message_requests) == 2
    answer = api.message_requests[1].body["messages"][2]["content"][0]
    assert answer["type"] == "tool_result"
    assert "- api/sessions_store.py (login-backend)" in answer["content"]
    assert "do not exist" in answer["content"]
    assert names(result) == ["login-backend", "login-frontend", "login-tests"]
    assert any("1 file(s) to modify do not exist (api/sessions_store.py)" in n
               for n in result["planner_notes"])


def test_a_file_still_unknown_after_the_repair_is_dropped_with_a_note(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(plan_reply(UNKNOWN), plan_reply(UNKNOWN))
    result, _ = plan(web_repo, capsys, "--planner", "claude")
    assert result["planner"] == "claude"
    assert result["subtasks"][0]["files_to_modify"] == ["api/auth_routes.py"]
    assert "dropped api/sessions_store.py from login-backend: not in the repository" in \
        result["planner_notes"]


def test_an_incomplete_answer_is_repaired_once(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(plan_reply(INCOMPLETE), plan_reply(CLEAN))
    result, _ = plan(web_repo, capsys, "--planner", "claude")
    assert len(api.message_requests) == 2
    ask = api.message_requests[1].body["messages"][2]["content"][0]["content"]
    assert "The plan is incomplete: subtask 1 (part-1) has no description" in ask
    assert result["planner"] == "claude"
    assert names(result) == ["login-backend", "login-frontend", "login-tests"]


def test_an_incomplete_answer_twice_falls_back_under_auto(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(plan_reply(INCOMPLETE), plan_reply(INCOMPLETE))
    result, _ = plan(web_repo, capsys)
    assert len(api.message_requests) == 2
    assert result["planner"] == "offline"
    assert result["fallback_reason"] == ("Claude's answer was unusable after one repair request: "
                                         "subtask 1 (part-1) has no description")
    assert result["planner_usage"]["requests"] == 2
    assert all(s["files_to_modify"] or s["files_to_create"] for s in result["subtasks"])


def test_an_incomplete_answer_twice_is_one_line_under_planner_claude(
        api: FakeMessagesAPI, web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(plan_reply(INCOMPLETE), plan_reply(INCOMPLETE))
    result, err = plan(web_repo, capsys, "--planner", "claude", code=ExitCode.API)
    assert result == {}
    assert err.strip().splitlines() == [err.strip()]
    assert err.startswith("error: Claude's answer was unusable after one repair request")


@pytest.mark.parametrize(("answer", "problem"), [
    (INCOMPLETE, "subtask 1 (part-1) has no description"),
    ({"subtasks": [{"name": "a", "description": "do a"}]}, "subtask 1 (a) names no files"),
    ({"subtasks": [{"name": "a", "description": "do a", "files_to_modify": ["../x"]}]},
     "subtask 1 (a) names no files"),
])
def test_subtasks_without_a_description_or_files_are_incomplete(answer: dict[str, Any],
                                                                problem: str) -> None:
    with pytest.raises(IncompleteAnswer, match=re.escape(problem)):
        read_answer(answer, task="t", default_minutes=5)
