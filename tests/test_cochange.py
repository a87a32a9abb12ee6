"""Conflict risk from history: coupled files in two subtasks, and hot files, raise it to MEDIUM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.analysis.cochange import coupling_reasons, read_history
from engine.cli.main import main
from engine.core.models import Subtask
from engine.hosts.gitcli import head_sha
from tests.conftest import RepoFactory
from tests.gitrepo import commit

BASE = {f"src/{name}.py": f"{name.upper()} = 0\n" for name in ("models", "views", "forms", "utils_x")}


@pytest.fixture
def coupled_repo(repo_factory: RepoFactory) -> Path:
    """models.py and views.py change together five times (with the first commit); forms.py apart."""
    repo = repo_factory(BASE)
    for i in range(4):
        commit(repo, {"src/models.py": f"MODELS = {i + 1}\n", "src/views.py": f"VIEWS = {i + 1}\n"},
               f"pair {i}")
        commit(repo, {"src/forms.py": f"FORMS = {i + 1}\n"}, f"forms {i}")
    return repo


def validate(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
             owners: dict[str, list[str]]) -> dict[str, Any]:
    plan = {"task": "t", "estimate": {"sequential_minutes": 90}, "repo": {"root": str(repo)},
            "subtasks": [{"name": n, "description": f"do {n}", "files_to_modify": files}
                         for n, files in owners.items()]}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    assert main(["plan", "--validate", str(path), "--repo", str(repo), "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_coupled_files_in_two_subtasks_raise_the_risk_and_name_them(
        coupled_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = validate(coupled_repo, tmp_path, capsys, {"one": ["src/models.py"], "two": ["src/views.py"]})
    assert data["validation"]["conflict_risk"] == "MEDIUM"
    assert ("src/models.py (one) and src/views.py (two) changed together in 5 of the last 9 commits"
            in data["validation"]["risk_reasons"])


def test_files_that_change_apart_stay_low(coupled_repo: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = validate(coupled_repo, tmp_path, capsys, {"one": ["src/models.py"], "two": ["src/forms.py"]})
    assert not [r for r in data["validation"]["risk_reasons"] if "together" in r or "hot" in r]


def test_a_hot_file_raises_the_risk(repo_factory: RepoFactory, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(BASE)
    for i in range(12):
        commit(repo, {"src/utils_x.py": f"U = {i}\n", f"notes/n{i}.txt": "x\n"}, f"u {i}")
    data = validate(repo, tmp_path, capsys, {"one": ["src/utils_x.py"], "two": ["src/forms.py"]})
    assert data["validation"]["conflict_risk"] == "MEDIUM"
    assert "src/utils_x.py (one) is hot: changed in 13 of the last 13 commits" in \
        data["validation"]["risk_reasons"]


def test_coupling_needs_two_subtasks_and_enough_shared_history(coupled_repo: Path) -> None:
    history = read_history(coupled_repo, head_sha(coupled_repo))
    assert history.coupled("src/models.py", "src/views.py") == 5
    assert history.coupled("src/models.py", "src/forms.py") == 0
    assert [(c.subject, c.files) for c in history.past[:2]] == [("forms 3", ("src/forms.py",)),
                                                                ("pair 3", ("src/models.py", "src/views.py"))]
    same = [Subtask(name="one", description="x", files_to_modify=("src/models.py", "src/views.py")),
            Subtask(name="two", description="y", files_to_modify=("src/forms.py",))]
    assert coupling_reasons(same, history) == []
