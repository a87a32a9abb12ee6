"""A session's commits and files are its own: not the other branches a resolve merged into it,
and not 0 once a merge and its cleanup deleted its branch. Real git, a private tmux server,
the demo agent; what `status` (the board's source) says."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES, branches, cli, status_json


def sessions(capsys: pytest.CaptureFixture[str], repo: Path) -> dict[str, dict[str, object]]:
    return {s["name"]: s for s in status_json(capsys, repo)["sessions"]}  # type: ignore[attr-defined]


def test_after_a_resolve_each_branch_counts_its_own_work(repo_factory: RepoFactory, tmux_socket: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    for name in "ab":
        worktree = repo.parent / f"{repo.name}.parallel" / name
        (worktree / "README.md").write_text(f"# demo by {name}\n")
        git(worktree, "commit", "-qam", f"{name} edits the title")
    before = sessions(capsys, repo)
    code, _, err = cli(capsys, "merge", "--repo", str(repo), "--resolve", "b", "--json")
    assert code == 0, err
    worktree = repo.parent / f"{repo.name}.parallel" / "b"
    deadline = time.monotonic() + 20
    while subprocess.run(["git", "-C", str(worktree), "rev-parse", "-q", "--verify", "MERGE_HEAD"],
                         capture_output=True, check=False).returncode == 0:
        assert time.monotonic() < deadline, "the demo agent did not commit the resolution"
        time.sleep(0.2)
    assert int(git(worktree, "rev-list", "--count", f"{status_json(capsys, repo)['base_sha']}..HEAD")) > \
        before["b"]["commits"], "the resolve merged a's commits into b's branch"  # type: ignore[operator]
    after = sessions(capsys, repo)
    for name in "ab":
        assert after[name]["commits"] == before[name]["commits"], (name, after[name], before[name])
        assert after[name]["changed_files"] == before[name]["changed_files"], (name, after[name])
    overlaps: list[dict[str, str]] = status_json(capsys, repo)["overlaps"]  # type: ignore[assignment]
    assert {w["file"] for w in overlaps} == {"README.md"}, \
        f"only the file both really changed; none of a's merged into b: {overlaps}"


def test_after_a_merge_and_cleanup_the_board_keeps_each_sessions_commits(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    before = sessions(capsys, repo)
    assert all(s["commits"] == 1 for s in before.values()), before
    code, _, err = cli(capsys, "merge", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert branches(repo) == [], "the merge cleaned up: the branches are gone"
    after = sessions(capsys, repo)
    for name, s in after.items():
        assert s["cleaned"] is True
        assert s["commits"] == 1 and s["files_changed"] == before[name]["files_changed"], json.dumps(s)
