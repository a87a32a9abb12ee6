"""A demo run merged end to end: check by run, merge, and what is cleaned up after."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import libtmux
import pytest

from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.merge_helpers import chain_plan
from tests.run_helpers import FILES, branches, cli, windows, worktree_paths

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


def test_resolve_hands_the_conflict_to_the_subtasks_agent_and_the_merge_then_completes(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Two demo sessions whose branches change the same line: `--resolve b` merges the target
    so far (main + a) into b's worktree with markers and starts b's agent again, which (the
    demo agent) keeps both sides and commits; then everything merges."""
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    for name in "ab":
        worktree = repo.parent / f"{repo.name}.parallel" / name
        (worktree / "README.md").write_text(f"# demo by {name}\n")
        git(worktree, "commit", "-qam", f"{name} edits the title")
    code, _, err = cli(capsys, "merge", "--repo", str(repo), "--yes")
    assert code == 6 and "parallel/b conflict(s)" in err
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--resolve", "b", "--json")
    assert code == 0, err
    started = json.loads(out)
    assert started["files"] == ["README.md"] and started["how"] == "started a new session"
    prompt = Path(started["prompt_file"])
    assert "<<<<<<< " in prompt.read_text() and "your subtask 'b'" in prompt.read_text()
    worktree = repo.parent / f"{repo.name}.parallel" / "b"
    deadline = time.monotonic() + 20
    while subprocess.run(["git", "-C", str(worktree), "rev-parse", "-q", "--verify", "MERGE_HEAD"],
                         capture_output=True, check=False).returncode == 0:
        assert time.monotonic() < deadline, "the demo agent did not commit the resolution"
        time.sleep(0.2)
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert (repo / "README.md").read_text() == "# demo by b\n# demo by a\n", "both sides, the branch's first"


def test_resolve_sends_to_a_running_agent_and_refuses_a_dirty_worktree(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_factory(FILES)
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "60")  # b's agent is still at work
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes")
    assert code == 0, err
    for name in "ab":
        worktree = repo.parent / f"{repo.name}.parallel" / name
        (worktree / "README.md").write_text(f"# demo by {name}\n")
        git(worktree, "commit", "-qam", f"{name} edits the title")
    worktree_b = repo.parent / f"{repo.name}.parallel" / "b"
    (worktree_b / "notes.txt").write_text("uncommitted\n")
    code, _, err = cli(capsys, "merge", "--repo", str(repo), "--resolve", "b")
    assert code == 2 and "has uncommitted changes" in err and err.count("\n") == 1
    (worktree_b / "notes.txt").unlink()
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--resolve", "b", "--json")
    assert code == 0, err
    assert json.loads(out)["how"] == "sent to its running agent"
    server = libtmux.Server(socket_name=tmux_socket)
    deadline = time.monotonic() + 10
    while "Merge conflicts to resolve" not in "\n".join(server.cmd("capture-pane", "-p", "-t", "b").stdout):
        assert time.monotonic() < deadline, "the line never reached b's pane"
        time.sleep(0.2)
    text = (worktree_b / "README.md").read_text()
    # a's side reached b's worktree: its markers wait there, or b's demo agent (it resolves
    # conflicts the moment it reads the line) already kept both sides
    assert "<<<<<<<" in text or text == "# demo by b\n# demo by a\n", text
    assert "# demo by a" in text


def test_dependencies_merge_first_and_skipping_one_skips_its_dependents(
        repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A plan where `api` builds on `models`: the merge order puts models first even though the
    plan lists api first, and `--skip models` leaves api out too, saying why."""
    repo = repo_factory(FILES)
    plan = chain_plan(tmp_path)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    code, out, err = cli(capsys, "check", "--repo", str(repo), "--json")
    assert code == 0, err
    order = json.loads(out)["merge_order"]
    assert order.index("parallel/models") < order.index("parallel/api")
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--yes", "--skip", "models")
    assert code == 0, err
    assert "merged parallel/docs into main" in out
    assert "parallel/api (builds on parallel/models): skipped" in out


def test_skipping_what_the_rest_builds_on_says_why_nothing_is_left(
        repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(chain_plan(tmp_path)),
                       "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    code, _, err = cli(capsys, "merge", "--repo", str(repo), "--yes", "--skip", "models", "--skip", "docs")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "nothing left to merge" in err and "parallel/api (builds on parallel/models)" in err
    assert "no branch has commits" not in err
