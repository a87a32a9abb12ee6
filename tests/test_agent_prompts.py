"""Every agent hears the whole task: its prompt holds the task verbatim, its part, the other
sessions' parts, its files, the repo's conventions, how to verify and the run's rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.agents.prompt import Brief, prompt_text
from engine.core.config import state_dir
from engine.core.models import Conventions, Subtask
from engine.planning.plan_file import load_plan_file
from tests.run_helpers import cli, status_json

TASK = ("Move sessions to Redis, add CSRF protection to every form, hash passwords with argon2id, "
        "rate-limit the login endpoint, with tests and docs, and do not break the public API")
CONVENTIONS = {"tests": "tests/test_<module>.py (pytest)", "docs": "docs/*.md",
               "changelog": "a line under Unreleased in CHANGELOG.md", "test_command": "pytest -q"}
API = Subtask(name="api", description="Hash passwords with argon2id in the login route",
              files_to_modify=("api/auth_routes.py",))
UI = Subtask(name="ui", description="Add a CSRF token to the login form " + "and more " * 30,
             files_to_modify=("components/Login.tsx",))


def test_the_prompt_carries_task_part_others_conventions_and_rules() -> None:
    brief = Brief(task=TASK, conventions=Conventions(**CONVENTIONS))
    text = prompt_text(API, [UI], brief)
    head = "The whole task (every session of this run shares it; yours is one part):"
    assert text.startswith(f"{head}\n{TASK}\n")
    assert f"Your part (api):\n{API.description}" in text
    assert "Files you own (change only these):\n- api/auth_routes.py" in text
    other = next(ln for ln in text.splitlines() if ln.startswith("- ui: "))
    assert other.endswith("… (owns components/Login.tsx)") and len(other) < 200, other
    assert "- tests: tests/test_<module>.py (pytest)" in text
    assert "- changelog: a line under Unreleased in CHANGELOG.md" in text
    assert "How to verify: run the tests with `pytest -q`" in text
    assert "Rules of this run:" in text
    assert text.endswith("Commit your work on this branch when it is done.\n")


def test_the_configured_test_command_wins_and_an_empty_convention_is_not_shown() -> None:
    brief = Brief(task=TASK, conventions=Conventions(tests="beside the code", test_command="pytest -q"),
                  test_command="make test")
    text = prompt_text(API, [], brief)
    assert "`make test`" in text and "`pytest -q`" not in text
    assert "- docs:" not in text and "The other sessions" not in text


def test_one_session_doing_the_whole_task_hears_it_once() -> None:
    whole = Subtask(name="all", description=TASK, files_to_modify=("api/users.py",))
    text = prompt_text(whole, [], Brief(task=TASK))
    assert text.count(TASK) == 1
    assert "Your part (all):\nall of the task." in text


def test_a_hand_written_plan_without_a_task_joins_its_parts_and_warns(
        web_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plan.json"
    subtasks = [{"name": "a", "description": "Add login", "files_to_modify": ["api/auth_routes.py"]},
                {"name": "b", "description": "Add logout", "files_to_modify": ["components/Nav.tsx"]}]
    path.write_text(json.dumps({"subtasks": subtasks}), encoding="utf-8")
    loaded = load_plan_file(path)
    assert loaded.task == "Add login\n\nAdd logout"
    assert any("no `task`" in w for w in loaded.warnings)
    code, out, err = cli(capsys, "plan", "--repo", str(web_repo), "--validate", str(path), "--json")
    assert code == 0, err
    assert "warning: plan file: no `task`" in err
    assert json.loads(out)["task"] == "Add login\n\nAdd logout"


def test_bad_conventions_in_a_plan_file_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     web_repo: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"task": "x", "conventions": ["tests"], "subtasks": [
        {"name": "a", "description": "x", "files_to_modify": ["api/users.py"]}]}), encoding="utf-8")
    code, _, err = cli(capsys, "plan", "--repo", str(web_repo), "--validate", str(path))
    assert code != 0
    assert "`conventions` is list, not an object" in err


@pytest.mark.tmux
def test_every_session_of_a_real_run_hears_the_whole_task(
        web_repo: Path, tmux_socket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_path = tmp_path / "plan.json"
    code, _, err = cli(capsys, "plan", TASK, "--repo", str(web_repo), "--planner", "offline",
                         "--minutes", "90", "--splits", "3", "--json", "-o", str(plan_path))
    assert code == 0, err
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    assert plan["task"] == TASK
    plan["conventions"] = CONVENTIONS  # as a planner that found them writes them
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    assert load_plan_file(plan_path).conventions == Conventions(**CONVENTIONS)  # round-trips
    names = [s["name"] for s in plan["subtasks"]]
    assert len(names) >= 2
    code, _, err = cli(capsys, "run", "--plan", str(plan_path), "--repo", str(web_repo), "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    [run_id] = [r for r in [status_json(capsys, web_repo)["run_id"]] if isinstance(r, str)]
    prompts = {p.stem: p for p in (state_dir() / "runs" / run_id).glob("*.prompt")}
    assert sorted(prompts) == sorted(names)  # one per session, named by its slug (here its name)
    for sub in plan["subtasks"]:
        text = prompts[sub["name"]].read_text(encoding="utf-8")
        assert f"\n{TASK}\n" in text, sub["name"]  # verbatim
        assert sub["description"] in text
        assert all(f"- {other}: " in text for other in names if other != sub["name"])
        assert "- tests: tests/test_<module>.py (pytest)" in text
        assert "How to verify: run the tests with `pytest -q`" in text

