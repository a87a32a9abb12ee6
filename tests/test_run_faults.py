"""Fault injection: the real CLI is killed (SIGKILL), interrupted (SIGINT to its process
group, as Ctrl-C) or terminated (SIGTERM) at every phase of a run and of a cleanup.

For every phase: `status` tells the truth; `run --resume` reaches the end state of an
uninterrupted run (every session done, one demo commit each, nothing deleted); `cleanup`
then leaves no worktree, branch, window or git lock that holds no work, and keeps every
commit and every uncommitted edit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.core import faults
from engine.core.errors import UsageError
from engine.run.lock import lock_path
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES, branches, cli, status_json, windows, worktree_paths

pytestmark = pytest.mark.tmux

TASKS = ("a", "b", "c")
_MAIN = "import sys; from engine.cli.main import main; sys.exit(main())"
RUN_PHASES = [p for p in faults.PHASES if p not in ("cleanup", "merge")]
HOWS = ("kill", "int", "term")
INTERRUPTED = {"journal": 3, "branch": 3, "worktree": 3, "checkout": 3, "window": 1, "agent": 1}
"""Sessions left without an agent when the fault fires at the 2nd arrival (1st for journal)."""
CREATING = [p for p, n in INTERRUPTED.items() if n == len(TASKS)]


def cli_process(fault: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in its own process group (so Ctrl-C's group signal stays inside it)."""
    env = {**os.environ, faults.ENV: fault}
    return subprocess.run([sys.executable, "-c", _MAIN, *argv], env=env, capture_output=True, text=True,
                          timeout=60, start_new_session=True, check=False)


def check_interrupt_output(proc: subprocess.CompletedProcess[str], how: str) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    if how == "kill":
        assert proc.returncode == -9
        return
    assert proc.returncode == 130, proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("error: interrupted (" if "cleanup" not in proc.args else "error: cleanup"), last
    assert "nothing was left half-done" not in proc.stderr


def start_with_fault(phase: str, how: str, repo: Path) -> subprocess.CompletedProcess[str]:
    return cli_process(f"{phase}:{1 if phase == 'journal' else 2}:{how}", "run", "--repo", str(repo),
                       "--tasks", ",".join(TASKS), "--agent", "demo", "--yes")


def check_what_is_left(stderr: str, repo: Path, socket: str) -> None:
    """The interrupt message counts what really exists."""
    counts = (("window", len(set(windows(socket)) - {"parallel-tui"})),
              ("worktree", len(worktree_paths(repo)) - 1), ("branch", len(branches(repo))))
    parts = [f"{n} {kind}{('es' if kind == 'branch' else 's') if n != 1 else ''}" for kind, n in counts if n]
    left = ", ".join(parts) or "nothing but its journal entry"
    assert f"is half-made ({left} left)" in stderr.splitlines()[-1], (left, stderr)


def check_truthful_status(capsys: pytest.CaptureFixture[str], repo: Path,
                          interrupted: int) -> dict[str, object]:
    status = status_json(capsys, repo)
    assert status["orchestrator"] == ("interrupted" if interrupted else "gone")
    assert status["overlaps"] == [], "a half-made worktree changed nothing"
    for s in status["sessions"]:  # type: ignore[attr-defined]
        assert not s["deletes_most_files"]
        if s["interrupted"]:
            assert s["state"] == "unknown" and "run --resume" in s["problem"]
        else:
            assert s["state"] in ("starting", "working", "done"), s
    assert sum(bool(s["interrupted"]) for s in status["sessions"]) == interrupted  # type: ignore[attr-defined]
    code, out, err = cli(capsys, "status", "--repo", str(repo))
    assert code == 0 and "Traceback" not in out + err
    return status


def check_done(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    """The end state of an uninterrupted run."""
    sessions = status_json(capsys, repo)["sessions"]
    assert [(s["name"], s["state"], s["commits"], s["deletes_most_files"])
            for s in sessions] == [(t, "done", 1, False) for t in TASKS]  # type: ignore[attr-defined]
    for t in TASKS:
        assert git(repo, "diff", "--name-only", "--diff-filter=D", "HEAD", f"parallel/{t}") == ""


def check_cleaned(capsys: pytest.CaptureFixture[str], repo: Path, socket: str, edited: Path) -> None:
    """Empty parts gone; every commit and the uncommitted edit kept; no git lock left."""
    code, _, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert worktree_paths(repo) == [str(repo), str(edited.parent)]
    assert edited.read_text() == "not committed\n"
    assert branches(repo) == [f"parallel/{t}" for t in TASKS], "each holds a demo commit"
    assert windows(socket) == []
    admin = repo / ".git" / "worktrees"
    assert sorted(p.name for p in admin.rglob("*.lock")) == [] and not list(admin.rglob("locked"))
    assert git(repo, "worktree", "prune", "-n", "-v") == ""


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("phase", RUN_PHASES)
def test_interrupted_run_resumes_and_cleans_up(
        phase: str, how: str, repo_factory: RepoFactory, tmux_socket: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    proc = start_with_fault(phase, how, repo)
    check_interrupt_output(proc, how)
    if how != "kill":
        check_what_is_left(proc.stderr, repo, tmux_socket)
    status = check_truthful_status(capsys, repo, INTERRUPTED[phase])
    run_id = str(status["run_id"])
    if how != "kill":
        assert f"parallel-tui run --resume {run_id}" in proc.stderr
    code, _, err = cli(capsys, "run", "--resume", run_id, "--yes", "--wait")
    assert code == 0, err
    check_done(capsys, repo)
    edited = Path(worktree_paths(repo)[1]) / "edit.txt"
    edited.write_text("not committed\n")
    check_cleaned(capsys, repo, tmux_socket, edited)


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("phase", CREATING)
def test_interrupted_creation_cleans_up_to_nothing(
        phase: str, how: str, repo_factory: RepoFactory, tmux_socket: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Before any agent ran, nothing holds work: cleanup (no --force) removes all of it."""
    repo = repo_factory(FILES)
    check_interrupt_output(start_with_fault(phase, how, repo), how)
    run_id = str(status_json(capsys, repo)["run_id"])
    code, _, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert worktree_paths(repo) == [str(repo)] and branches(repo) == [] and windows(tmux_socket) == []
    assert not (repo.parent / f"{repo.name}.parallel").exists()
    assert not (repo / ".git" / "worktrees").exists() or not any((repo / ".git" / "worktrees").iterdir())
    assert not lock_path(f"run:{run_id}").exists(), "the run's lock file goes with the run"
    status = status_json(capsys, repo)
    assert status["orchestrator"] == "gone" and not any(s["interrupted"] for s in status["sessions"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("how", HOWS)
def test_interrupted_cleanup_is_truthful_and_finishes(
        how: str, repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", ",".join(TASKS), "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    edited = Path(worktree_paths(repo)[1]) / "edit.txt"
    edited.write_text("not committed\n")
    proc = cli_process(f"cleanup:2:{how}", "cleanup", "--repo", str(repo), "--yes")
    check_interrupt_output(proc, how)
    run_id = str(check_truthful_status(capsys, repo, 0)["run_id"])
    code, _, err = cli(capsys, "run", "--resume", run_id, "--yes", "--wait")
    assert code == 0, err
    check_done(capsys, repo)
    check_cleaned(capsys, repo, tmux_socket, edited)


def test_a_bad_fault_spec_is_one_line() -> None:
    with pytest.raises(UsageError, match="is not <phase>:<n>"):
        faults.parse("nowhere:1")
    assert faults.parse("checkout") == ("checkout", 1, "kill")
    assert faults.parse("agent:3:term") == ("agent", 3, "term")
