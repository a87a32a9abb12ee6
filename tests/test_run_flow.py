"""The whole run flow with the demo agent: real git, a real private tmux server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RepoFactory
from tests.gitrepo import WEB_APP, git
from tests.run_helpers import FILES, branches, cli, status_json, windows, worktree_paths

pytestmark = pytest.mark.tmux


def test_run_wait_status_cleanup(repo_factory: RepoFactory, tmux_socket: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b,c", "--prompt", "do it",
                       "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    assert branches(repo) == ["parallel/a", "parallel/b", "parallel/c"]
    base = git(repo, "rev-parse", "HEAD").strip()
    for name in "abc":
        assert git(repo, "rev-list", "--count", f"{base}..parallel/{name}").strip() == "1"
        assert (repo.parent / f"{repo.name}.parallel" / name / "demo" / f"{name}.md").is_file()
    status = status_json(capsys, repo)
    sessions = status["sessions"]
    assert isinstance(sessions, list)
    assert [s["state"] for s in sessions] == ["done", "done", "done"]
    assert all(s["commits"] == 1 and s["files_changed"] == 1 for s in sessions)
    assert status["overlaps"] == []

    code, _, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert worktree_paths(repo) == [str(repo)]
    assert not (repo.parent / f"{repo.name}.parallel").exists(), "the folder we made is gone too"
    assert windows(tmux_socket) == []
    assert branches(repo) == ["parallel/a", "parallel/b", "parallel/c"], "unmerged branches are kept"


def test_cleanup_force_keeps_backup_ref(repo_factory: RepoFactory, tmux_socket: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "one", "--agent", "demo",
               "--yes", "--wait")[0] == 0
    tip = git(repo, "rev-parse", "parallel/one").strip()
    code, out, _ = cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--json")
    assert code == 0
    assert '"keep"' in out and branches(repo) == ["parallel/one"]
    code, _, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--force")
    assert code == 0, err
    assert branches(repo) == []
    refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/parallel-backup").split()
    assert refs[1] == tip and refs[0].endswith("/parallel/one")


def test_merged_branch_is_deleted_without_force(repo_factory: RepoFactory, tmux_socket: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "m", "--agent", "demo",
                         "--yes", "--wait")
    assert code == 0, (out, err)
    git(repo, "merge", "-q", "--ff-only", "parallel/m")
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes")[0] == 0
    assert branches(repo) == []


def test_branch_exists_is_one_line_error_and_creates_nothing(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    git(repo, "branch", "parallel/b")
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes")
    assert code == 3
    assert err.startswith("error: branch parallel/b already exists — ") and err.count("\n") == 1
    assert worktree_paths(repo) == [str(repo)] and branches(repo) == ["parallel/b"]
    assert windows(tmux_socket) == []


def test_no_tty_without_yes_asks_for_yes(repo_factory: RepoFactory, tmux_socket: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a", "--agent", "demo")
    assert code == 2 and "pass --yes" in err.splitlines()[-1]
    assert branches(repo) == []


def test_failed_agent_is_failed_and_plan_files_watched(
        repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_OWNERSHIP", "warn")  # watched, not stopped (test_ownership_stop)
    repo = repo_factory(FILES)
    plan = tmp_path / "plan.json"
    plan.write_text('{"task": "t", "estimate": {"sequential_minutes": 10}, "subtasks": ['
                    '{"name": "A", "description": "edit\\ndemo:stray src/b.py",'
                    ' "files_to_modify": ["src/a.py"]},'
                    '{"name": "B", "description": "edit too", "files_to_modify": ["src/b.py"]},'
                    '{"name": "C", "description": "demo:fail"}]}', encoding="utf-8")
    code, _, _ = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "demo",
                     "--yes", "--wait")
    assert code == 1
    status = status_json(capsys, repo)
    states = {s["name"]: s["state"] for s in status["sessions"]}  # type: ignore[attr-defined]
    assert states == {"A": "done", "B": "done", "C": "failed"}
    overlaps = {(o["session"], o["file"]) for o in status["overlaps"]}  # type: ignore[attr-defined]
    assert overlaps == {("A", "src/b.py"), ("B", "src/b.py")}


def test_a_plan_that_shares_a_file_is_refused_before_anything_exists(
        repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    plan = tmp_path / "plan.json"
    plan.write_text('{"task": "t", "estimate": {"sequential_minutes": 10}, "subtasks": ['
                    '{"name": "A", "files_to_modify": ["src/"]},'
                    '{"name": "B", "files_to_modify": ["src/b.py"]}]}', encoding="utf-8")
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "demo", "--yes")
    assert code == 6
    assert err.count("\n") == 1 and "src/b.py (A, B)" in err
    assert branches(repo) == [] and windows(tmux_socket) == []


def test_plan_then_run_the_offline_plan_end_to_end(
        repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(WEB_APP)
    plan = tmp_path / "plan.json"
    code, _, err = cli(capsys, "plan", "Implement user authentication with frontend and backend",
                       "--repo", str(repo), "--minutes", "45", "--planner", "offline", "-o", str(plan),
                       "--json")
    assert code == 0, err
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    # the spec's three parts: nothing in the repo's docs/ is about authentication, so no docs part
    assert branches(repo) == ["parallel/auth-backend", "parallel/auth-frontend", "parallel/auth-tests"]
    assert "api/auth_routes.py" in git(repo, "show", "--stat", "--format=", "parallel/auth-backend")
    status = status_json(capsys, repo)
    assert {s["state"] for s in status["sessions"]} == {"done"}  # type: ignore[attr-defined]
    assert status["overlaps"] == []


def test_status_list_names_every_run_newest_first(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, out, _ = cli(capsys, "status", "--list", "--repo", str(repo))
    assert code == 0 and out.startswith("no runs for ")
    ids = []
    for tasks in ("a", "b"):
        assert cli(capsys, "run", "--repo", str(repo), "--tasks", tasks, "--agent", "demo", "--yes",
                   "--wait")[0] == 0
        ids.append(status_json(capsys, repo)["run_id"])
    code, out, _ = cli(capsys, "status", "--list", "--repo", str(repo), "--json")
    assert [r["run_id"] for r in json.loads(out)] == ids[::-1]
    assert [r["sessions"] for r in json.loads(out)] == [["b"], ["a"]]
