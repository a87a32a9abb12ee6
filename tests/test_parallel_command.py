"""`/parallel` drafts the plan in the session it runs in: the real Claude Code CLI runs the
installed command against the fake Messages API, whose model reads `plan --context`, writes
the plan file from it, and checks it with `plan --validate`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.claude.env import claude_environ, prepare_home
from engine.claude.install import install
from engine.cli.main import main
from tests.fake_messages_api import FakeMessagesAPI, Recorded, Reply, text, tool_results, tool_use
from tests.gitrepo import WEB_APP, make_repo
from tests.test_claude_e2e import claude_bin

__all__ = ["claude_bin"]

pytestmark = pytest.mark.e2e

API_KEY = "sk-ant-test-" + "slash000" * 5
TASK = "Add rate limiting to the login route, with tests, and keep the public API"


def _results(record: Recorded) -> list[str]:
    """What each tool returned so far, as text."""
    out = []
    for block in tool_results(record):
        content = block.get("content")
        if isinstance(content, list):
            content = "".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
        out.append(str(content))
    return out


class Session:
    """The fake model's side of `/parallel`: context, then the plan file, then the check."""

    def __init__(self, plan_path: Path) -> None:
        self.plan_path = plan_path
        self.context: dict[str, object] = {}

    def __call__(self, record: Recorded) -> Reply | None:
        if not record.body.get("tools"):
            return text('{"title": "Planning"}')  # Claude Code's own side requests
        done = _results(record)
        if not done:
            command = f"parallel-tui plan --context '{TASK}' --json"
            return tool_use("Bash", {"command": command, "description": "What a planner needs"})
        if len(done) == 1:
            self.context = json.loads(done[0])
            return tool_use("Write", {"file_path": str(self.plan_path),
                                      "content": json.dumps(self._plan(), indent=2)})
        if len(done) == 2:
            command = f"parallel-tui plan --validate {self.plan_path} --json"
            return tool_use("Bash", {"command": command, "description": "Check the plan"})
        return text("The plan is valid: run it with parallel-tui run --plan …")

    def _plan(self) -> dict[str, object]:
        """The skeleton from the context, with one subtask per top candidate (as a model would)."""
        plan = dict(self.context["plan_file"])  # type: ignore[call-overload]
        top = [c["path"] for c in self.context["candidates"]][:2]  # type: ignore[attr-defined]
        plan["subtasks"] = [{"name": f"part-{i}", "description": f"Rate limiting in {path}",
                             "files_to_modify": [path], "files_to_create": [], "depends_on": [],
                             "estimated_minutes": 20} for i, path in enumerate(top, 1)]
        return plan


def test_parallel_drafts_in_its_session_and_validates(claude_bin: str, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", WEB_APP)
    install(repo)
    home = tmp_path / "home"
    home.mkdir()
    prepare_home(home, [repo], API_KEY)
    plan_path = tmp_path / "plan.json"
    model = Session(plan_path)
    with FakeMessagesAPI(router=model) as api:
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        base = {"PATH": path, "LANG": "C.UTF-8", "CLAUDE_CODE_MAX_RETRIES": "0",
                "PARALLEL_TUI_HOME": os.environ["PARALLEL_TUI_HOME"]}
        env = claude_environ(base, home=home, base_url=api.url, api_key=API_KEY)
        proc = subprocess.run([claude_bin, "-p", "--output-format", "json", f"/parallel {TASK}"], cwd=repo,
                              env=env, capture_output=True, text=True, timeout=180, check=False)
        asked = [r for r in api.message_requests if r.body.get("tools")]
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    assert "parallel-tui plan --context" in asked[0].text(), "the installed template was expanded"
    context = model.context
    assert context["task"] == TASK
    assert {"overhead", "optimal_splits", "candidates", "conventions", "schema", "rules"} <= set(context)
    assert context["candidates"][0]["path"] == "api/auth_routes.py"  # type: ignore[index]
    assert "matches" in context["candidates"][0]["why"]  # type: ignore[index]
    written = json.loads(plan_path.read_text(encoding="utf-8"))
    assert written["task"] == TASK
    checked = _results(asked[-1])[-1]
    assert not any(b.get("is_error") for b in tool_results(asked[-1])), checked
    validated = json.loads(checked)
    assert [s["name"] for s in validated["subtasks"]] == ["part-1", "part-2"]
    assert validated["task"] == TASK and validated["validation"]["overlaps"] == []
    assert json.loads(proc.stdout)["result"].startswith("The plan is valid")


def test_plan_context_as_text_is_the_briefing_and_the_file_to_fill(
        web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--context", TASK, "--repo", str(web_repo), "--splits", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("You split one coding task into subtasks")
    assert "Answer only by writing the plan file" in out
    assert "- api/auth_routes.py: rank 1" in out
    assert "Write the plan file with 2 subtask(s)." in out
    assert f'"task": "{TASK}"' in out
