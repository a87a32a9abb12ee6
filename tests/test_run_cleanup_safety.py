"""Cleanup never touches another run's live work, and re-checks before it deletes.

Each case was a real loss found in review: window ids reused by a new tmux server, a newer
`--reuse` run on the same worktrees, and commits made between the plan and the confirmation.
"""

from __future__ import annotations

import json
from pathlib import Path

import libtmux
import pytest

from engine.core.models import SessionState
from engine.hosts.host import LOCAL
from engine.hosts.registry import Hosts
from engine.hosts.tmux_sessions import PaneFacts
from engine.run.cleanup import apply_cleanup, find_leftovers
from engine.run.journal import open_journal
from engine.run.observe import is_final
from engine.run.session_status import Observed
from tests.conftest import RepoFactory
from tests.gitrepo import commit, git
from tests.run_helpers import FILES, branches, cli, status_json, windows, worktree_paths

pytestmark = pytest.mark.tmux


def run_id(capsys: pytest.CaptureFixture[str], repo: Path) -> str:
    return str(status_json(capsys, repo)["run_id"])


def finished_then_cleaned(capsys: pytest.CaptureFixture[str], repo: Path, *extra: str) -> str:
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes",
               "--wait", *extra)[0] == 0
    old = run_id(capsys, repo)
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes")[0] == 0  # branches are kept
    return old


def test_old_run_cleanup_spares_a_new_runs_windows_after_a_tmux_restart(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    old = finished_then_cleaned(capsys, repo)
    libtmux.Server(socket_name=tmux_socket).kill()  # the next server hands out @1, @2 again
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "c,d", "--agent", "demo", "--yes")[0] == 0
    assert cli(capsys, "cleanup", "--repo", str(repo), "--run", old, "--yes")[0] == 0
    assert sorted(set(windows(tmux_socket)) - {"parallel-tui"}) == ["c", "d"]
    states = {s["name"]: s["state"] for s in status_json(capsys, repo)["sessions"]}  # type: ignore[attr-defined]
    assert states == {"c": "working", "d": "working"}


def test_old_run_cleanup_spares_worktrees_a_newer_reuse_run_works_in(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    old = finished_then_cleaned(capsys, repo)
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes",
               "--reuse")[0] == 0
    assert cli(capsys, "cleanup", "--repo", str(repo), "--run", old, "--yes")[0] == 0
    assert len(worktree_paths(repo)) == 3
    assert sorted(set(windows(tmux_socket)) - {"parallel-tui"}) == ["a", "b"]


def test_a_commit_made_after_the_plan_was_shown_is_kept(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "m", "--agent", "demo", "--yes",
               "--wait")[0] == 0
    git(repo, "merge", "-q", "--ff-only", "parallel/m")
    worktree = Path(worktree_paths(repo)[1])
    with open_journal() as journal:
        runs = journal.runs(str(repo))
        plan = find_leftovers(journal, runs, force=False, hosts=Hosts(LOCAL))
        assert ("branch", "delete") in {(item.kind, item.action) for item in plan}
        late = commit(worktree, {"late.txt": "written while you were reading the plan\n"}, "late")
        apply_cleanup(journal, runs, plan, hosts=Hosts(LOCAL))
    assert branches(repo) == ["parallel/m"]
    assert git(repo, "rev-parse", "parallel/m").strip() == late


def test_uncommitted_work_that_appeared_after_the_plan_is_kept(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "m", "--agent", "demo", "--yes",
               "--wait")[0] == 0
    worktree = Path(worktree_paths(repo)[1])
    with open_journal() as journal:
        runs = journal.runs(str(repo))
        plan = find_leftovers(journal, runs, force=False, hosts=Hosts(LOCAL))
        (worktree / "draft.txt").write_text("not committed yet\n")
        apply_cleanup(journal, runs, plan, hosts=Hosts(LOCAL))
    assert (worktree / "draft.txt").read_text() == "not committed yet\n"
    assert branches(repo) == ["parallel/m"], "its branch stays with its worktree"
    code, _, err = cli(capsys, "cleanup", "--repo", str(repo), "--dry-run")
    assert code == 0
    assert f"keep           worktree {worktree}" in capsys.readouterr().out + err or worktree.exists()
    with open_journal() as journal:
        again = find_leftovers(journal, journal.runs(str(repo)), force=False, hosts=Hosts(LOCAL))
    assert ("worktree", "keep") in {(i.kind, i.action) for i in again}, "found again next time"


def test_a_hook_failure_on_a_live_pane_is_not_final() -> None:
    pane = PaneFacts(window_id="@1", window_name="w", dead=False, exit_status=None, signal=None,
                     pid=1, command="claude", activity_at=0.0, dead_at=0.0)
    failed = Observed(state=SessionState.FAILED, source="hook", detail="StopFailure")
    assert not is_final(failed, pane)
    assert is_final(Observed(state=SessionState.FAILED, source="stream"), pane)
    dead = PaneFacts(**json.loads(json.dumps({"window_id": "@1", "window_name": "w", "dead": True,
                                                 "exit_status": 1, "signal": None, "pid": 1,
                                                 "command": "claude", "activity_at": 0.0,
                                                 "dead_at": 0.0})))
    assert is_final(failed, dead)


def test_cleanup_after_a_reuse_run_leaves_no_window_of_either_run(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b,c", "--agent", "demo", "--yes",
               "--wait")[0] == 0
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes",
               "--wait", "--reuse")[0] == 0
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes")[0] == 0
    assert windows(tmux_socket) == []
    assert worktree_paths(repo) == [str(repo)]


def test_send_and_stop_refuse_a_finished_session(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "a", "--agent", "demo", "--yes",
               "--wait")[0] == 0
    for argv in (("send", "a", "hello"), ("stop", "a")):
        code, out, err = cli(capsys, *argv, "--repo", str(repo))
        assert code == 2 and out == ""
        assert err.startswith("error: session 'a' has already ended — "), err
    [session] = status_json(capsys, repo)["sessions"]  # type: ignore[misc]
    assert session["state"] == "done", "history is not rewritten"


def newline_repo(tmp_path: Path) -> Path:
    """A repo whose path holds a newline: git's line-based lists split it in two."""
    from tests.gitrepo import make_repo  # noqa: PLC0415
    return make_repo(tmp_path / "my\nrepo", FILES)


def test_cleanup_sees_the_worktrees_of_a_repo_whose_path_holds_a_newline(
        tmp_path: Path, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = newline_repo(tmp_path)
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes",
               "--wait")[0] == 0
    git(repo, "merge", "-q", "--ff-only", "parallel/b")
    dirty = Path(f"{repo}.parallel") / "a" / "notes.txt"
    dirty.write_text("not committed\n", encoding="utf-8")
    code, out, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert "does not list it" not in out + err
    assert dirty.read_text(encoding="utf-8") == "not committed\n"
    assert branches(repo) == ["parallel/a"]  # b was merged: its branch and clean worktree went
    assert not Path(f"{repo}.parallel", "b").exists()


def test_force_never_deletes_the_branch_a_kept_worktree_has_checked_out(
        tmp_path: Path, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = newline_repo(tmp_path)
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes",
               "--wait")[0] == 0
    worktree = Path(f"{repo}.parallel") / "a"
    (worktree / ".git").unlink()  # unreadable: unknown, kept even with --force
    code, out, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--force")
    assert worktree.is_dir()
    assert branches(repo) == ["parallel/a"]  # b's went, behind its backup ref
    assert "removed branch parallel/a" not in out + err
    assert code == 0, err


def test_cleanup_waits_for_a_dead_runs_git_before_judging_its_worktree(
        repo_factory: RepoFactory, tmp_path: Path, tmux_socket: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A run killed mid-checkout leaves its `git reset --hard` writing: stood in for by a
    process named git, working in the worktree under its index.lock, that writes late."""
    import subprocess  # noqa: PLC0415

    repo = repo_factory(FILES)
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "m", "--agent", "demo", "--yes",
               "--wait")[0] == 0
    git(repo, "merge", "-q", "--ff-only", "parallel/m")
    worktree = Path(worktree_paths(repo)[1])
    lock = repo / ".git" / "worktrees" / "m" / "index.lock"
    lock.write_text("", encoding="utf-8")
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nsleep 1.5\nmkdir -p '{worktree}/src'\n"
                    f"echo late > '{worktree}/src/late.txt'\nrm -f '{lock}'\n", encoding="utf-8")
    fake.chmod(0o755)
    writer = subprocess.Popen([str(fake)], cwd=worktree)
    try:
        code, _out, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    finally:
        writer.wait(timeout=10)
    assert code == 0, err
    assert (worktree / "src" / "late.txt").is_file()
    assert str(worktree) in worktree_paths(repo)  # kept as a worktree with changes, not a stray folder


def test_a_checkouts_git_dies_with_the_run_that_started_it(repo_factory: RepoFactory) -> None:
    import signal  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import time  # noqa: PLC0415

    from engine.hosts.inflight import git_processes_in  # noqa: PLC0415

    if not sys.platform.startswith("linux"):
        pytest.skip("the tie is Linux's PR_SET_PDEATHSIG")
    repo = repo_factory(FILES)
    script = ("import sys; from engine.hosts.gitcli import git_tied; from engine.hosts.host import LOCAL; "
              "git_tied(sys.argv[1], '-c', 'alias.slow=!sleep 6', 'slow', host=LOCAL)")
    parent = subprocess.Popen([sys.executable, "-c", script, str(repo)],
                              cwd=Path(__file__).resolve().parent.parent)
    deadline = time.monotonic() + 10
    while not git_processes_in(repo, LOCAL) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert git_processes_in(repo, LOCAL), "the git never started"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 3  # untied, git waits out its 6 s alias
    while git_processes_in(repo, LOCAL) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert git_processes_in(repo, LOCAL) == []


def test_orphans_of_a_lost_journal_are_found_adopted_and_then_cleaned_by_the_rules(
        repo_factory: RepoFactory, isolated_env: Path, tmux_socket: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes",
               "--wait")[0] == 0
    edit = Path(f"{repo}.parallel") / "a" / "notes.txt"
    edit.write_text("not committed\n", encoding="utf-8")
    for journal_file in (isolated_env / "ptui").glob("journal.sqlite3*"):
        journal_file.unlink()  # the journal is lost: its runs' leftovers are out of sight
    code, out, _ = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0 and "nothing to clean up" in out

    code, out, err = cli(capsys, "cleanup", "--repo", str(repo), "--orphans", "--dry-run")
    assert code == 0, err
    assert "orphan a: branch parallel/a (1 commit(s) not in main); worktree" in out
    assert "(uncommitted edits); window @" in out and "orphan b:" in out
    code, out, err = cli(capsys, "cleanup", "--repo", str(repo), "--orphans", "--yes")
    assert code == 0 and "adopted 2 orphan(s) into run" in out, err
    assert "no orphans" in cli(capsys, "cleanup", "--repo", str(repo), "--orphans", "--dry-run")[1]

    code, out, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert edit.read_text(encoding="utf-8") == "not committed\n"  # uncommitted edits are kept
    assert not Path(f"{repo}.parallel", "b").exists()  # holds nothing uncommitted: removed
    assert branches(repo) == ["parallel/a", "parallel/b"]  # unmerged: kept without --force
    assert set(windows(tmux_socket)) <= {"parallel-tui"}
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--force")[0] == 0
    backups = git(repo, "for-each-ref", "--format=%(refname)", "refs/parallel-backup").split()
    assert any(b.endswith("/parallel/b") for b in backups)  # §7: a backup ref before a forced delete
