"""A demo run merged end to end: check by run, merge, and what is cleaned up after."""

from __future__ import annotations

import json

import pytest

from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES, branches, cli, tmux_socket, windows, worktree_paths

__all__ = ["tmux_socket"]

pytestmark = pytest.mark.tmux


def test_demo_run_checks_clean_merges_and_is_cleaned_up(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b,c", "--prompt", "do it",
                       "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    code, out, err = cli(capsys, "check", "--repo", str(repo), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["target"] == "main" and data["conflict_risk"] == "LOW"
    assert [b["name"] for b in data["branches"]] == ["parallel/a", "parallel/b", "parallel/c"]
    assert all(b["commits"] == 1 and b["flags"] == [] for b in data["branches"])
    assert len(data["pairs"]) == 3

    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--yes", "--verify", "test -f demo/a.md")
    assert code == 0, err
    for name in "abc":
        assert (repo / "demo" / f"{name}.md").is_file(), "the target's checkout holds the work"
    log = git(repo, "log", "--format=%s", "-3", "main")
    assert "Merge parallel/c into main (subtask c, agent demo, run " in log
    assert branches(repo) == [], "merged branches are deleted"
    assert worktree_paths(repo) == [str(repo)] and windows(tmux_socket) == []


def test_a_branch_deleted_by_hand_is_reported_and_the_rest_merge(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    git(repo, "worktree", "remove", "--force", str(repo.parent / f"{repo.name}.parallel" / "b"))
    git(repo, "branch", "-D", "parallel/b")
    code, out, _ = cli(capsys, "check", "--repo", str(repo))
    assert code == 0 and "parallel/b: branch no longer exists" in out
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert "merged parallel/a into main" in out
    assert branches(repo) == [] and worktree_paths(repo) == [str(repo)], "the merged session is cleaned"


def test_a_skipped_session_is_left_as_it_is(repo_factory: RepoFactory, tmux_socket: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--yes", "--skip", "b")
    assert code == 0, err
    assert "merged parallel/a into main" in out
    assert branches(repo) == ["parallel/b"], "the skipped branch is kept, the merged one deleted"
    assert worktree_paths(repo) == [str(repo), str(repo.parent / f"{repo.name}.parallel" / "b")]
    code, out, _ = cli(capsys, "merge", "--repo", str(repo), "--yes")
    assert code == 0 and "merged parallel/b into main" in out
    assert branches(repo) == [] and worktree_paths(repo) == [str(repo)]
