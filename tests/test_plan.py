"""`plan`: the offline planner end to end on real repos, JSON shape, checklist, -o/--validate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import main
from engine.planning.task_text import read_task
from tests.conftest import RepoFactory

AUTH = "Implement user authentication with frontend and backend"


def plan_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["plan", *args, "--json", "--planner", "offline"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_auth_task_splits_into_the_spec_example(web_repo: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = plan_json(capsys, AUTH, "--repo", str(web_repo), "--minutes", "45")
    names = [s["name"] for s in data["subtasks"]]
    # the spec's three: no docs part, as nothing in the repo's docs/ is about authentication
    assert names == ["auth-backend", "auth-frontend", "auth-tests"]
    assert data["overhead"]["optimal_splits"] == 4
    agents = {s["name"]: s["agent"]["name"] for s in data["subtasks"]}
    assert agents == {"auth-backend": "security-engineer", "auth-frontend": "frontend-architect",
                      "auth-tests": "quality-engineer"}
    backend = data["subtasks"][0]
    assert backend["files_to_modify"] == ["api/auth_routes.py"]  # existing file, named exactly
    assert backend["files_to_create"] == []  # it changes the file it found; no module invented
    assert data["subtasks"][2]["files_to_create"] == ["tests/test_auth_routes.py"]  # the repo's naming
    assert data["subtasks"][1]["files_to_create"] == ["components/Auth.tsx"]
    assert data["validation"]["overlaps"] == []
    assert data["planner"] == "offline"
    assert data["assignments"]["security-engineer"] == ["auth-backend"]


def test_json_has_every_documented_key(web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = plan_json(capsys, AUTH, "--repo", str(web_repo))
    for key in ("task", "repo", "estimate", "overhead", "subtasks", "validation", "checklist",
                "planner"):
        assert key in data
    assert set(data["estimate"]) >= {"scope", "sequential_minutes"}
    assert set(data["validation"]) >= {"overlaps", "conflict_risk", "problems"}
    for s in data["subtasks"]:
        assert set(s) >= {"name", "description", "files_to_modify", "files_to_create",
                          "depends_on", "estimated_minutes", "agent"}
        assert set(s["agent"]) == {"name", "skill", "confidence", "why"}
    assert len(data["checklist"]) == 11
    assert all(set(c) >= {"item", "ok"} for c in data["checklist"])
    assert data["overhead"]["rows"][0] == {"splits": 1, "parallel_minutes": data["estimate"][
        "sequential_minutes"], "overhead_minutes": 0.0, "total_minutes": data["estimate"][
        "sequential_minutes"], "savings_pct": 0.0}


def test_splits_flag_sets_the_count_and_the_checklist_says_it_was_chosen(
        web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A count asked for is not a failure of the plan: the checklist says it was chosen."""
    data = plan_json(capsys, AUTH, "--repo", str(web_repo), "--minutes", "45", "--splits", "2")
    assert len(data["subtasks"]) == 2
    item = next(c for c in data["checklist"] if c["item"].startswith("Optimal splits"))
    assert item["ok"] is True and item["detail"].endswith("the plan has 2: re-split to 2 on purpose"), item


def test_list_of_features_becomes_one_subtask_each(web_repo: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = plan_json(capsys, "Add login page, password reset and email verification",
                     "--repo", str(web_repo), "--minutes", "60", "--splits", "3")
    assert [s["name"] for s in data["subtasks"]] == ["login-page", "password-reset",
                                                     "email-verification"]


def test_refactor_splits_across_modules_by_folder(repo_factory: RepoFactory,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    files = {f"{m}/f{i}.py": "x\n" for m in ("billing", "orders", "users") for i in range(4)}
    repo = repo_factory(files)
    data = plan_json(capsys, "Refactor logging across the codebase", "--repo", str(repo),
                     "--minutes", "90", "--splits", "3")
    owned = [s["files_to_modify"] for s in data["subtasks"]]
    assert owned == [["billing/"], ["orders/"], ["users/"]]
    assert data["validation"]["overlaps"] == []


def test_small_task_is_not_worth_parallelising(web_repo: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    data = plan_json(capsys, "fix typo in README", "--repo", str(web_repo), "--minutes", "3")
    assert data["overhead"]["is_worth_parallelizing"] is False
    assert data["validation"]["verdict"]["parallelize"] is False
    assert "min_task_time_for_2_splits" in data["validation"]["verdict"]["reason"]


def test_scope_sets_the_estimate(web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    large = plan_json(capsys, AUTH, "--repo", str(web_repo), "--task-scope", "large")
    small = plan_json(capsys, AUTH, "--repo", str(web_repo), "--task-scope", "small")
    assert large["estimate"]["sequential_minutes"] >= 60
    assert small["estimate"]["sequential_minutes"] < large["estimate"]["sequential_minutes"]


def test_human_output_has_table_chart_and_spec_layout(web_repo: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", AUTH, "--repo", str(web_repo), "--minutes", "45", "--planner", "offline"]) == 0
    out = capsys.readouterr().out
    assert "← OPTIMAL" in out
    assert "SUBTASKS WITH AGENT RECOMMENDATIONS" in out
    assert "AGENT ASSIGNMENT SUMMARY" in out
    assert "splits" in out  # the chart's axis label
    assert "Verdict: parallelise" in out


def test_output_file_round_trips_through_validate(web_repo: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    plan_json(capsys, AUTH, "--repo", str(web_repo), "-o", str(out))
    assert main(["plan", "--validate", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in again["subtasks"]] == [s["name"] for s in json.loads(
        out.read_text())["subtasks"]]


def test_validate_names_each_overlap_and_fails(web_repo: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    plan_json(capsys, AUTH, "--repo", str(web_repo), "--minutes", "45", "-o", str(out))
    data = json.loads(out.read_text())
    data["subtasks"][1]["files_to_modify"].append("api/auth_routes.py")
    data["subtasks"][2]["files_to_create"].append("components/Auth.tsx")
    out.write_text(json.dumps(data))
    assert main(["plan", "--validate", str(out), "--repo", str(web_repo)]) == 6
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "api/auth_routes.py (auth-backend, auth-frontend)" in err
    assert "components/Auth.tsx (auth-frontend, auth-tests)" in err


def test_task_reading() -> None:
    shape = read_task(AUTH)
    assert (shape.verb, shape.stem, shape.facets) == ("implement", "auth", ("backend", "frontend"))
    assert read_task("Refactor the entire billing module").stem == "billing"


def test_named_tests_never_crowd_out_the_main_work(repo_factory: RepoFactory,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    files = {f"{m}/f{i}.py": "x\n" for m in ("engine", "tui") for i in range(3)}
    repo = repo_factory({**files, "tests/test_tui.py": "x\n", "tests/test_engine.py": "x\n"})
    data = plan_json(capsys, "Refactor logging across the engine and tui with tests",
                     "--repo", str(repo), "--minutes", "90", "--splits", "3")
    owned = {s["name"]: s["files_to_modify"] for s in data["subtasks"]}
    assert ["engine/"] in owned.values()
    assert ["tui/"] in owned.values()
    assert any(name.endswith("-tests") for name in owned)
    assert data["validation"]["overlaps"] == []


def test_features_named_after_with_are_kept(web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = plan_json(capsys, "Add a merge command with conflict review and tests", "--repo",
                     str(web_repo), "--minutes", "60", "--splits", "3")
    assert [s["name"] for s in data["subtasks"]] == ["merge-command", "conflict-review", "merge-tests"]
