"""kill -9 of the orchestrator, a window killed by hand, a worktree deleted by hand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import RepoFactory
from tests.gitrepo import commit, git
from tests.run_helpers import FILES, branches, cli, status_json, tmux_socket, windows, worktree_paths

__all__ = ["tmux_socket"]

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
        assert code != 0 and "another parallel-tui" in err, "the run lock keeps cleanup off a live run"
    finally:
        proc.kill()
        proc.wait()
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
