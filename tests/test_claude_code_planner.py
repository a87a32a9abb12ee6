"""Planning through the person's own Claude Code: the real `claude` CLI (pinned, from .tools)
against the fake Messages API, with no API key in the environment and a login Claude Code
itself reports (an `apiKeyHelper` in the temp HOME's settings: `claude auth status` says
loggedIn, authMethod api_key_helper — checked on 2.1.197)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.claude.code_planner import Session, run_session
from engine.claude.login import claude_login, forget, read_status
from engine.claude.planners import resolve_planner
from engine.cli.main import main
from engine.core.models import PlannerUsage
from engine.planning.text_report import planner_cost
from tests.fake_messages_api import (
    FakeMessagesAPI,
    Recorded,
    Reply,
    structured_output,
    text,
    tool_names,
    tool_results,
    tool_use,
)
from tests.gitrepo import make_repo
from tests.test_claude_e2e import claude_bin

__all__ = ["claude_bin"]

pytestmark = pytest.mark.e2e

HELPER_KEY = "sk-ant-test-" + "helper00" * 5
TASK = ("Add a timeout option to the cache store, with unit tests and docs, "
        "and do not break the public API")
PLAN = {"subtasks": [
    {"name": "cache-timeout", "description": "Add the timeout option to CacheStore",
     "files_to_modify": ["plugins/cache/store.py"], "files_to_create": [], "depends_on": [],
     "estimated_minutes": 20},
    {"name": "cache-tests", "description": "Unit tests for the timeout",
     "files_to_modify": ["tests/test_store.py"], "files_to_create": [], "depends_on": ["cache-timeout"],
     "estimated_minutes": 15}],
    "conventions": {"tests": "tests/test_<module>.py (pytest)", "docs": "docs/*.md", "changelog": "",
                    "test_command": "pytest -q"}}


def side_requests(record: Recorded) -> Reply | None:
    """Claude Code's own tool-less requests (a title, a quota probe) do not eat the script."""
    return None if record.body.get("tools") else text('{"title": "Planning"}')


@pytest.fixture
def logged_in(isolated_env: Path, claude_bin: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The temp HOME logged in the way a person's Claude Code can be without an env key."""
    settings = isolated_env / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"apiKeyHelper": f"echo {HELPER_KEY}"}), encoding="utf-8")
    (isolated_env / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True}), encoding="utf-8")
    for name, value in {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
                        "CLAUDE_CODE_MAX_RETRIES": "0"}.items():
        monkeypatch.setenv(name, value)
    forget()
    yield isolated_env
    forget()


@pytest.fixture
def hooked_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A repo whose committed `.claude/settings.json` has a SessionStart hook writing a marker."""
    marker = tmp_path / "hook-ran"
    hook = {"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": f"touch {marker}"}]}]}}
    filler = {f"aaa/f{i:03}.py": f"X{i} = {i}\n" for i in range(30)}
    repo = make_repo(tmp_path / "repo", {
        **filler, "plugins/cache/store.py": "class CacheStore:\n    pass\n",
        "tests/test_store.py": "def test_store():\n    pass\n", "docs/cache.md": "# Cache\n",
        ".claude/settings.json": json.dumps(hook)})
    return repo, marker


def test_claude_auth_status_reports_the_helper_login(logged_in: Path) -> None:
    login = claude_login(fresh=True)
    assert login.logged_in, login
    assert login.auth_method == "api_key_helper"
    assert not login.subscription  # a key helper's use is billed: its cost is real
    choice = resolve_planner("auto")
    assert choice.name == "claude-code"
    assert "Claude Code is logged in (api_key_helper" in choice.reason


def test_logged_out_auto_is_offline_and_says_why(isolated_env: Path, claude_bin: str) -> None:
    forget()
    choice = resolve_planner("auto")
    assert (choice.name, choice.will_fail) == ("offline", False)
    assert "Claude Code is not logged in" in choice.reason
    assert resolve_planner("claude-code").will_fail


def test_auto_plans_through_claude_code_boxed(logged_in: Path, hooked_repo: tuple[Path, Path],
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo, marker = hooked_repo
    script = [tool_use("Grep", {"pattern": "class CacheStore", "path": str(repo)}), structured_output(PLAN)]
    with FakeMessagesAPI(script, router=side_requests) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        rc = main(["plan", TASK, "--repo", str(repo), "--planner", "auto", "--json", "--minutes", "60",
                   "--splits", "2"])
        out, err = capsys.readouterr()
    assert rc == 0, err
    plan = json.loads(out)
    assert plan["planner"] == "claude-code", (plan["fallback_reason"], err)
    assert plan["fallback_reason"] is None
    assert "Claude Code is logged in (api_key_helper" in plan["planner_reason"]
    assert [s["name"] for s in plan["subtasks"]] == ["cache-timeout", "cache-tests"]
    assert plan["conventions"]["test_command"] == "pytest -q"
    asked = [r for r in api.message_requests if r.body.get("tools")]
    assert len(asked) == 2, "one exploring turn, then the answer"
    assert all(tool_names(r) == ["Glob", "Grep", "Read", "StructuredOutput"] for r in asked)
    assert "plugins/cache/store.py" in json.dumps(tool_results(asked[1])), "the Grep really ran"
    prompt = asked[0].text()
    section = prompt.split("Files this task most likely touches")[1]
    assert section.splitlines()[1].startswith("- plugins/cache/store.py: rank 1")
    assert "Call StructuredOutput with 2 subtask(s)" in prompt
    assert asked[0].headers.get("x-api-key") == HELPER_KEY, "the person's own login"
    assert not marker.exists(), "the repo's SessionStart hook ran"
    usage = plan["planner_usage"]
    assert usage["cost_usd"] > 0 and usage["cost_notional"] is False


def test_a_plan_never_given_falls_back_with_the_reason(logged_in: Path, hooked_repo: tuple[Path, Path],
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = hooked_repo
    with FakeMessagesAPI(default=text("I would split it in two."), router=side_requests) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        rc = main(["plan", TASK, "--repo", str(repo), "--planner", "auto", "--json", "--minutes", "60"])
        out, err = capsys.readouterr()
    assert rc == 0, err
    plan = json.loads(out)
    assert plan["planner"] == "offline"
    assert "without calling StructuredOutput" in plan["fallback_reason"], plan["fallback_reason"]
    assert len([r for r in api.message_requests if r.body.get("tools")]) >= 1


def test_claude_code_forced_but_logged_out_is_one_line_and_exit_5(
        isolated_env: Path, claude_bin: str, hooked_repo: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    forget()
    repo, marker = hooked_repo
    rc = main(["plan", TASK, "--repo", str(repo), "--planner", "claude-code", "--minutes", "60"])
    err = capsys.readouterr().err
    assert rc == 5, err
    assert "Claude Code failed: Not logged in" in err
    assert "log in to Claude Code" in err
    assert not marker.exists()


def test_the_login_is_asked_once_then_cached(logged_in: Path) -> None:
    first = claude_login(fresh=True)
    started = time.perf_counter()
    again = claude_login()
    assert again is first
    assert time.perf_counter() - started < 0.05  # `claude auth status` takes ~0.35 s


def test_the_time_limit_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    session = Session(argv=("sh", "-c", script), stdin="", cwd=str(tmp_path), timeout_s=0.5)
    started = time.perf_counter()
    with pytest.raises(Exception, match=r"gave no plan within 0.5s"):
        run_session(session)
    assert time.perf_counter() - started < 5
    child = int(pidfile.read_text())
    for _ in range(50):
        if not Path(f"/proc/{child}").exists() or "Z" in _state(child):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the session's child {child} outlived the time limit")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


@pytest.mark.parametrize(("status", "subscription"), [
    ({"loggedIn": True, "authMethod": "claude.ai", "apiProvider": "firstParty"}, True),
    ({"loggedIn": True, "authMethod": "oauth_token", "apiProvider": "firstParty"}, True),
    ({"loggedIn": True, "authMethod": "api_key", "apiProvider": "firstParty"}, False),
    ({"loggedIn": True, "authMethod": "none", "apiProvider": "bedrock"}, False),
])
def test_cost_is_notional_only_on_a_subscription(status: dict[str, object], subscription: bool) -> None:
    login = read_status(json.dumps(status))
    assert login.logged_in and login.subscription is subscription
    usage = PlannerUsage(input_tokens=1, output_tokens=1, request_ids=(), requests=1, cost_usd=0.0123,
                         cost_notional=login.subscription)
    assert planner_cost(usage).startswith("cost $0.0123")
    assert ("notional" in planner_cost(usage)) is subscription
    if status["apiProvider"] == "bedrock":
        assert "Amazon Bedrock" in login.describe()


def test_an_unreadable_status_is_not_a_login() -> None:
    assert not read_status("Usage: claude auth ...").logged_in
    assert "did not answer with its JSON" in read_status("[]").describe()
