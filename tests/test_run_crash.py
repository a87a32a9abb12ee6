"""kill -9 of the run's supervisor, a window killed by hand, a worktree deleted by hand."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.run.journal import open_journal
from engine.run.lock import is_held
from tests.conftest import RepoFactory
from tests.gitrepo import commit, git
from tests.run_helpers import FILES, branches, cli, status_json, windows, worktree_paths

pytestmark = pytest.mark.tmux


def _wait_started(capsys: pytest.CaptureFixture[str], repo: Path, n: int) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            status = status_json(capsys, repo)
        except AssertionError:
            status = {}
        sessions = status.get("sessions") or []
        if len(sessions) == n and all(s["state"] == "working" for s in sessions):  # type: ignore[union-attr,index]
            return status
        time.sleep(0.1)
    raise AssertionError("sessions did not start")


def _supervisor_pid(socket: str) -> int:
    """The pid of the run's supervisor (`env` execs python, so it is the pane's own)."""
    out = subprocess.run(["tmux", "-L", socket, "list-panes", "-a", "-F",
                          "#{pane_pid}\t#{pane_start_command}"],
                         check=True, capture_output=True, text=True).stdout
    pids = [int(line.split("\t")[0]) for line in out.splitlines() if "engine.run.supervisor" in line]
    assert len(pids) == 1, out
    return pids[0]


def _wait_following(run_id: str) -> None:
    """Until the supervisor holds the run (it takes it once `run` has let go)."""
    deadline = time.monotonic() + 10
    while True:
        with open_journal() as journal:
            followed = any(kind == "run_followed" for _at, kind, _p in journal.events(run_id))
        if followed and is_held(f"run:{run_id}"):
            return
        assert time.monotonic() < deadline, "the supervisor never took the run"
        time.sleep(0.05)


def _wait_unlocked(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    deadline = time.monotonic() + 10
    while status_json(capsys, repo)["orchestrator"] == "running":
        assert time.monotonic() < deadline, "the killed supervisor still holds the run"
        time.sleep(0.1)


def test_orchestrator_killed_then_status_and_cleanup(repo_factory: RepoFactory, tmux_socket: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    env = {**os.environ, "PARALLEL_TUI_DEMO_SECONDS": "60"}
    exe = Path(sys.executable).parent / "parallel-tui"
    proc = subprocess.Popen([str(exe), "run", "--repo", str(repo), "--tasks", "a,b,c", "--agent", "demo",
                             "--yes", "--wait"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        status = _wait_started(capsys, repo, 3)
        assert status["orchestrator"] == "running"
        code, _, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
        assert code != 0 and "another parallel-tui" in err, ("the run lock keeps cleanup off a live run", err)
    finally:
        proc.kill()
        proc.wait()
    assert status_json(capsys, repo)["orchestrator"] == "running", "the run's supervisor goes on alone"
    _wait_following(str(status["run_id"]))
    os.kill(_supervisor_pid(tmux_socket), signal.SIGKILL)
    _wait_unlocked(capsys, repo)
    sessions = {s["name"]: s for s in status["sessions"]}  # type: ignore[attr-defined]
    base = repo.parent / f"{repo.name}.parallel"
    work_sha = commit(base / "a", {"work.txt": "agent work\n"}, "agent work")
    subprocess.run(["tmux", "-L", tmux_socket, "kill-window", "-t", sessions["b"]["window"]], check=True)
    shutil.rmtree(base / "c")

    after = {s["name"]: s for s in status_json(capsys, repo)["sessions"]}  # type: ignore[attr-defined]
    assert status_json(capsys, repo)["orchestrator"] == "killed", "killed while following, and says so"
    assert after["a"]["state"] == "working" and after["a"]["commits"] == 1
    assert "tmux window is gone" in after["b"]["problem"]
    assert "worktree was deleted" in after["c"]["problem"]

    code, _, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert "agent still running" in err, "a live agent is not killed without --force"
    assert worktree_paths(repo) == [str(repo), str(base / "a")]
    for name in ("a", "c"):
        assert cli(capsys, "stop", name, "--repo", str(repo))[0] == 0
    code, _, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert worktree_paths(repo) == [str(repo)]
    assert not any(base.iterdir()) if base.exists() else True
    assert windows(tmux_socket) == []
    assert branches(repo) == ["parallel/a"], "empty branches go, the one with work stays"
    assert git(repo, "rev-parse", "parallel/a").strip() == work_sha
    assert git(repo, "worktree", "prune", "-n", "-v") == ""
