"""A session's commits and files are its own: not the other branches a resolve merged into it,
and not 0 once a merge and its cleanup deleted its branch. Real git, a private tmux server,
the demo agent; what `status` (the board's source) says."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from engine.hosts.host import LOCAL
from engine.hosts.own_work import OwnWork, own_work
from tests.conftest import RepoFactory
from tests.gitrepo import commit, git
from tests.run_helpers import FILES, branches, cli, status_json


def sessions(capsys: pytest.CaptureFixture[str], repo: Path) -> dict[str, dict[str, object]]:
    return {s["name"]: s for s in status_json(capsys, repo)["sessions"]}  # type: ignore[attr-defined]


def resolved(capsys: pytest.CaptureFixture[str], repo: Path) -> dict[str, dict[str, object]]:
    """a and b both edit the title; `merge --resolve b` merges a into b's worktree and the demo
    agent commits the resolution. What status said before the resolve."""
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
    return before


def test_after_a_resolve_each_branch_counts_its_own_work(repo_factory: RepoFactory, tmux_socket: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    before = resolved(capsys, repo)
    after = sessions(capsys, repo)
    for name in "ab":
        assert after[name]["commits"] == before[name]["commits"], (name, after[name], before[name])
        assert after[name]["changed_files"] == before[name]["changed_files"], (name, after[name])
    overlaps: list[dict[str, str]] = status_json(capsys, repo)["overlaps"]  # type: ignore[assignment]
    assert {w["file"] for w in overlaps} == {"README.md"}, \
        f"only the file both really changed; none of a's merged into b: {overlaps}"


def test_after_a_resolve_merge_review_and_the_report_count_what_the_board_counts(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    resolved(capsys, repo)
    board = sessions(capsys, repo)
    by_branch = {str(s["branch"]): s for s in board.values()}
    code, out, err = cli(capsys, "check", "--repo", str(repo), "--json")
    assert code in (0, 6), err
    review = json.loads(out)
    for b in review["branches"]:
        s = by_branch[b["name"]]
        assert (b["commits"], b["files_changed"]) == (s["commits"], s["changed_files"]), (b, s)
    for pair in review["pairs"]:
        assert set(pair["overlapping_files"]) <= {"README.md"}, f"a's files are not b's: {pair}"
    code, out, err = cli(capsys, "report", "--repo", str(repo), "--json")
    assert code == 0, err
    for line in json.loads(out)["sessions"]:
        s = board[line["name"]]
        assert (line["commits"], line["files_changed"]) == (s["commits"], s["files_changed"]), (line, s)


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


def test_own_work_keeps_a_branchs_commits_after_another_merged_it_and_it_moved_on(
        repo_factory: RepoFactory) -> None:
    """b merged a in (a resolve); c was started from a's tip (a later wave); then a moved on.
    Each branch keeps exactly its own commits and files, in two git processes."""
    repo = repo_factory(FILES)
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "a")
    commit(repo, {"a1.md": "1\n"}, "a one")
    git(repo, "checkout", "-q", "-b", "c")
    commit(repo, {"c1.md": "1\n"}, "c one")
    git(repo, "checkout", "-q", "-b", "b", base)
    commit(repo, {"b1.md": "1\n"}, "b one")
    git(repo, "merge", "-q", "--no-edit", "a")
    commit(repo, {"b2.md": "2\n"}, "b two")
    git(repo, "checkout", "-q", "a")
    commit(repo, {"a2.md": "2\n", "README.md": "# moved on\n"}, "a two")
    git(repo, "checkout", "-q", "main")
    tips = {name: git(repo, "rev-parse", name).strip() for name in "abc"}
    work = own_work(repo, base, tips, {"c": ["a"]}, host=LOCAL)
    assert {n: (w.commits, w.files) for n, w in work.items()} == {
        "a": (2, ("README.md", "a1.md", "a2.md")),
        "b": (2, ("b1.md", "b2.md")),
        "c": (1, ("c1.md",)),
    }
    assert work["b"].deleted == 0 and work["a"].deleted == 0
    assert own_work(repo, base, {"gone": "refs/heads/gone", "HEAD": "HEAD"}, host=LOCAL) == \
        {"HEAD": OwnWork(commits=0, files=(), deleted=0)}, "a missing tip counts for no one"
