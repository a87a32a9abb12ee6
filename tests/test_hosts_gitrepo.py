"""History through GitPython (`engine.hosts.gitrepo`): a branch's commits and diffstat, one
`Repo` per operation, and the report's per-session figures that come from it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.core.errors import GitError
from engine.hosts.gitrepo import open_repo
from engine.hosts.worktrees import branch_history
from tests.conftest import RepoFactory
from tests.gitrepo import commit, git
from tests.run_helpers import FILES, cli


def _children() -> list[str]:
    """Command lines of this process's children (GitPython keeps `cat-file --batch` ones)."""
    out = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return out


def test_a_branch_history_reads_commits_and_diffstat(repo_factory: RepoFactory) -> None:
    repo = repo_factory(FILES)
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "parallel/api")
    commit(repo, {"src/a.py": "A = 1\nA2 = 2\nA3 = 3\n"}, "grow a")
    commit(repo, {"src/new.py": "N = 1\n", "logo.bin": b"\x00\x01\x02"}, "add new")
    git(repo, "checkout", "-q", "-")
    with open_repo(repo) as g:
        history = branch_history(g, base, "parallel/api")
        assert branch_history(g, base, "parallel/gone") is None
    assert history is not None
    assert [c.summary for c in history.commits] == ["add new", "grow a"], "newest first"
    assert {c.author for c in history.commits} == {"parallel-tui tests"}
    assert history.commits[0].sha == git(repo, "rev-parse", "parallel/api").strip()
    assert history.stat.files == ("logo.bin", "src/a.py", "src/new.py")
    assert (history.stat.insertions, history.stat.deletions) == (3, 0), "a binary file adds no lines"
    assert not any("cat-file" in c for c in _children()), "the Repo was closed with the operation"


def test_an_unknown_base_is_one_git_error(repo_factory: RepoFactory) -> None:
    repo = repo_factory(FILES)
    git(repo, "branch", "parallel/x")
    with open_repo(repo) as g, pytest.raises(GitError, match="cannot read the commits"):
        branch_history(g, "0" * 40, "parallel/x")


@pytest.mark.tmux
def test_the_report_counts_each_sessions_commits_through_git(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--prompt", "go",
                       "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    git(repo, "worktree", "remove", "--force", str(repo.parent / f"{repo.name}.parallel" / "b"))
    git(repo, "branch", "-D", "parallel/b")
    code, out, err = cli(capsys, "report", "--repo", str(repo), "--json")
    assert code == 0, err
    lines = {s["name"]: s for s in json.loads(out)["sessions"]}
    assert (lines["a"]["commits"], lines["a"]["files_changed"]) == (1, 1)
    assert lines["a"]["lines_added"] > 0 and lines["a"]["lines_removed"] == 0
    assert lines["b"]["commits"] is None, "a deleted branch is unknown, not zero"
