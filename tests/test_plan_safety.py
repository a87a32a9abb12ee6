"""Plans that leave the repo, name one file twice, or hide problems: refused by `plan --validate`
and by `run` alike (issue 7 items 7, 8, 10; issue 14's estimate-less plan). Real git repos with
real symlinks and a real submodule; `run` is refused before anything is created."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RepoFactory
from tests.gitrepo import IDENTITY, git, make_repo
from tests.run_helpers import FILES, branches, cli, worktree_paths


@pytest.fixture(autouse=True)
def _private_tmux(tmux_socket: str) -> str:
    """A `run` that wrongly starts must start on a private server, never the user's."""
    return tmux_socket


def write_plan(path: Path, subtasks: list[dict[str, Any]], **top: Any) -> Path:
    data: dict[str, Any] = {"task": "t", "estimate": {"sequential_minutes": 60}, "subtasks": subtasks}
    data.update(top)
    path.write_text(json.dumps(data))
    return path


def linked_repo(repo_factory: RepoFactory, outside: Path) -> Path:
    """A repo with two tracked symlinks: `escape` leaves it, `alias` names src/auth."""
    repo = repo_factory({"src/auth/x.py": "X = 1\n", "src/auth/y.py": "Y = 1\n", "a.py": "1\n"})
    outside.mkdir(exist_ok=True)
    (repo / "escape").symlink_to(outside)
    (repo / "alias").symlink_to("src/auth")
    git(repo, "add", "escape", "alias")
    git(repo, "commit", "-q", "-m", "links")
    return repo


def refused_by_both(capsys: pytest.CaptureFixture[str], repo: Path, plan: Path, code: int) -> str:
    """`plan --validate` and `run --plan` give the same one-line refusal and code; run creates nothing."""
    got, _, err = cli(capsys, "plan", "--validate", str(plan), "--repo", str(repo))
    assert got == code, err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    got, out, run_err = cli(capsys, "run", "--plan", str(plan), "--repo", str(repo), "--agent", "demo",
                            "--yes")
    assert got == code, run_err
    assert run_err.count("\n") == 1 and out == "", run_err
    assert branches(repo) == [] and worktree_paths(repo) == [str(repo)]
    return err


def test_a_path_through_a_symlink_out_of_the_repo_is_refused(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside"
    repo = linked_repo(repo_factory, outside)
    plan = write_plan(tmp_path / "p.json", [{"name": "a", "files_to_create": ["escape/pwn.txt"]},
                                            {"name": "b", "files_to_modify": ["a.py"]}])
    err = refused_by_both(capsys, repo, plan, 7)
    assert "escape/pwn.txt" in err and "symlink" in err
    assert not (outside / "pwn.txt").exists()


def test_an_absolute_symlink_into_the_repo_is_refused(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inner -> /abs/repo/src` stays inside the repo, but from a worktree it leads back into the
    main checkout: an agent writing `inner/x.py` would write outside its worktree."""
    repo = repo_factory({"src/a.py": "1\n", "b.py": "2\n"})
    (repo / "inner").symlink_to(repo / "src")
    git(repo, "add", "inner")
    git(repo, "commit", "-q", "-m", "absolute link")
    plan = write_plan(tmp_path / "p.json", [{"name": "a", "files_to_create": ["inner/x.py"]},
                                            {"name": "b", "files_to_modify": ["b.py"]}])
    err = refused_by_both(capsys, repo, plan, 7)
    assert "inner/x.py" in err and "symlink inner -> " in err


def test_two_names_for_one_file_through_a_symlink_overlap(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = linked_repo(repo_factory, tmp_path / "outside")
    plan = write_plan(tmp_path / "p.json", [{"name": "a", "files_to_modify": ["alias/x.py"]},
                                            {"name": "b", "files_to_modify": ["src/auth/x.py"]}])
    err = refused_by_both(capsys, repo, plan, 6)
    assert "src/auth/x.py" in err and "alias/x.py" in err and "(a, b)" in err


def test_a_file_and_a_folder_of_the_same_name_overlap(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n"})
    plan = write_plan(tmp_path / "p.json", [{"name": "a", "files_to_create": ["file"]},
                                            {"name": "b", "files_to_create": ["file/x.py"]}])
    err = refused_by_both(capsys, repo, plan, 6)
    assert "file/x.py" in err and "(a, b)" in err


def test_a_submodule_and_a_file_inside_it_overlap(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lib = make_repo(tmp_path / "lib", {"x.py": "1\n"})
    repo = repo_factory({"a.py": "1\n"})
    subprocess.run(["git", *IDENTITY, "-c", "protocol.file.allow=always", "-C", str(repo), "submodule",
                    "add", "-q", str(lib), "vendor/lib"], check=True, capture_output=True)
    git(repo, "commit", "-q", "-m", "submodule")
    assert "160000" in git(repo, "ls-files", "-s", "vendor/lib")
    plan = write_plan(tmp_path / "p.json", [{"name": "a", "files_to_modify": ["vendor/lib"]},
                                            {"name": "b", "files_to_modify": ["vendor/lib/x.py"]}])
    err = refused_by_both(capsys, repo, plan, 6)
    assert "vendor/lib/x.py" in err and "(a, b)" in err


def test_every_problem_is_named_at_once(repo_factory: RepoFactory, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n", "b.py": "2\n"})
    plan = write_plan(tmp_path / "p.json", [
        {"name": "a", "files_to_modify": ["../x", "a.py"], "depends_on": ["ghost"]},
        {"name": "b", "files_to_modify": ["a.py"], "depends_on": ["c"]},
        {"name": "c", "files_to_modify": ["b.py"], "depends_on": ["b"]}])
    err = refused_by_both(capsys, repo, plan, 6)
    for says in ("../x (leaves the repository", "a.py (a, b)", "unknown subtask 'ghost'",
                 "dependency cycle among b, c"):
        assert says in err, (says, err)


def test_run_refuses_more_subtasks_than_the_caps_allow(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n"})
    plan = write_plan(tmp_path / "p.json", [{"name": f"s{i}", "files_to_create": [f"f{i}.py"]}
                                            for i in range(50)])
    err = refused_by_both(capsys, repo, plan, 7)
    assert "50 subtasks exceed max_concurrent_sessions=8" in err
    assert "max_worktrees=15" in err


def test_unknown_keys_are_named_in_a_warning(repo_factory: RepoFactory, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n", "b.py": "2\n"})
    plan = write_plan(tmp_path / "p.json", [{"name": "a", "files_to_modify": ["a.py"],
                                             "files_to_delete": ["b.py"]},
                                            {"name": "b", "files_to_modify": ["b.py"]}],
                      files_to_delete=["a.py"])
    code, out, err = cli(capsys, "plan", "--validate", str(plan), "--repo", str(repo), "--json")
    assert code == 0, err
    warnings = json.loads(out)["validation"]["warnings"]
    assert any("files_to_delete" in w and "subtask 'a'" in w for w in warnings), warnings
    assert any("files_to_delete" in w and "top level" in w for w in warnings), warnings
    assert err.count("warning: ") == 2 and "files_to_delete" in err


def test_a_plan_without_an_estimate_takes_it_from_the_subtasks(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n", "b.py": "2\n"})
    plan = tmp_path / "p.json"
    plan.write_text(json.dumps({"task": "t", "subtasks": [
        {"name": "a", "files_to_modify": ["a.py"], "estimated_minutes": 25},
        {"name": "b", "files_to_modify": ["b.py"], "estimated_minutes": 35}]}))
    code, out, err = cli(capsys, "plan", "--validate", str(plan), "--repo", str(repo), "--json")
    assert code == 0, err
    estimate = json.loads(out)["estimate"]
    assert (estimate["sequential_minutes"], estimate["source"]) == (60.0, "subtasks")
    plan.write_text(json.dumps({"task": "Add a login page", "subtasks": [
        {"name": "a", "files_to_modify": ["a.py"]}]}))
    code, out, err = cli(capsys, "plan", "--validate", str(plan), "--repo", str(repo), "--json")
    assert code == 0, err
    assert json.loads(out)["estimate"]["source"] == "scope"


@pytest.mark.tmux
def test_run_accepts_a_plan_without_an_estimate(repo_factory: RepoFactory, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    plan = tmp_path / "p.json"
    plan.write_text(json.dumps({"task": "t", "subtasks": [
        {"name": "a", "files_to_modify": ["src/a.py"], "estimated_minutes": 20},
        {"name": "b", "files_to_modify": ["src/b.py"], "estimated_minutes": 20}]}))
    code, _, err = cli(capsys, "run", "--plan", str(plan), "--repo", str(repo), "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    assert branches(repo) == ["parallel/a", "parallel/b"]


def test_a_symlink_only_the_worktree_has_stops_the_agent_before_it_writes(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`escape` is deleted from the main checkout (not committed), so validation, which reads
    the checkout on disk, sees no symlink; the worktree is HEAD's tree and has it. The run
    resolves the paths again in the worktree: the session is not started and nothing is
    written outside."""
    outside = tmp_path / "outside"
    repo = linked_repo(repo_factory, outside)
    (repo / "escape").unlink()
    plan = write_plan(tmp_path / "p.json", [{"name": "a", "files_to_create": ["escape/pwn.txt"]},
                                            {"name": "b", "files_to_modify": ["a.py"]}])
    code, _, err = cli(capsys, "run", "--plan", str(plan), "--repo", str(repo), "--agent", "demo",
                       "--yes", "--wait")
    assert code != 0
    assert "not started: in its worktree, escape/pwn.txt (leaves the repository through symlink" in err
    assert not (outside / "pwn.txt").exists()


# --- issue 18's probe: input that reached the crash handler, or passed when it must not --------


def test_a_lone_surrogate_and_a_401_digit_number_are_one_line_each(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n"})
    surrogate = write_plan(tmp_path / "s.json", [{"name": "a\ud800", "files_to_modify": ["a.py"]}])
    assert "\\ud800" in surrogate.read_text()  # JSON's escape: valid JSON, not valid text
    assert "lone surrogate" in refused_by_both(capsys, repo, surrogate, 7)
    huge = write_plan(tmp_path / "n.json", [{"name": "a", "files_to_modify": ["a.py"],
                                             "estimated_minutes": int("9" * 401)}])
    assert "a 401-digit number" in refused_by_both(capsys, repo, huge, 7)


@pytest.mark.parametrize(("key", "value", "says"), [
    ("files_to_modify", {"a.py": 1}, "`files_to_modify` is a JSON object, not a list of strings"),
    ("files_to_create", "new.py", "`files_to_create` is a string, not a list of strings"),
    ("depends_on", "b", "`depends_on` is a string, not a list of strings"),
])
def test_wrong_json_types_are_refused_not_read_as_keys_or_letters(
        key: str, value: object, says: str, repo_factory: RepoFactory, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n"})
    plan = write_plan(tmp_path / "p.json", [{"name": "a", "files_to_modify": ["a.py"], key: value},
                                            {"name": "b", "files_to_create": ["b.py"]}])
    assert says in refused_by_both(capsys, repo, plan, 7)


@pytest.mark.parametrize("path", ["src/.git/hooks/pre-commit", ".git/config", "vendor/.GIT/x"])
def test_a_git_folder_anywhere_in_a_path_is_refused(
        path: str, repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n"})
    plan = write_plan(tmp_path / "p.json", [{"name": "a", "files_to_create": [path]},
                                            {"name": "b", "files_to_modify": ["a.py"]}])
    assert f"{path} (inside a .git folder" in refused_by_both(capsys, repo, plan, 7)


def test_names_that_differ_only_in_case_are_one_name(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n", "b.py": "2\n"})
    plan = write_plan(tmp_path / "p.json", [{"name": "a", "files_to_modify": ["a.py"]},
                                            {"name": "A", "files_to_modify": ["b.py"]}])
    assert "names subtask 'A' more than once (as 'a'" in refused_by_both(capsys, repo, plan, 7)
    code, _, err = cli(capsys, "run", "--tasks", "api,API", "--repo", str(repo), "--agent", "demo", "--yes")
    assert code == 2 and "repeats a name" in err and "differ only in case" in err
    assert branches(repo) == []


def test_plan_output_inside_git_is_refused(repo_factory: RepoFactory, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n"})
    head = (repo / ".git" / "HEAD").read_bytes()
    (tmp_path / "gitlink").symlink_to(repo / ".git")
    for target in (repo / ".git" / "HEAD", tmp_path / "gitlink" / "plan.json"):
        code, _, err = cli(capsys, "plan", "add a thing", "--repo", str(repo), "--planner", "offline",
                           "-o", str(target))
        assert code == 7 and "inside a .git folder" in err, err
    assert (repo / ".git" / "HEAD").read_bytes() == head
    assert not (repo / ".git" / "plan.json").exists()
