"""A verify (and a worktree setup) command that outlives its limit, or whose parallel-tui is
stopped, is ended with everything it started, and its scratch worktree goes: at once, or
(after a SIGKILL, which leaves no way out) at the next `check`, `merge` or `cleanup`.

The command `sleep 600 & …; wait` is the probe's case: a child that keeps the pipes open, so
killing only `/bin/sh` left the call blocked and the sleep running."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.merge_helpers import BASE, branch
from tests.run_helpers import cli

ROOT = Path(__file__).resolve().parent.parent
MAIN = "import sys; from engine.cli.main import main; sys.exit(main())"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_for(check: object, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def sleeper(pidfile: Path) -> str:
    return f"sleep 600 & echo $! > '{pidfile}'; wait"


def scratch(repo: Path) -> list[str]:
    return [ln.split(" ", 1)[1] for ln in git(repo, "worktree", "list", "--porcelain").splitlines()
            if ln.startswith("worktree ") and "parallel-tui-verify-" in ln]


def merge_argv(repo: Path, pidfile: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", MAIN, "merge", "--repo", str(repo), "x", "--into", "main", "--yes",
            "--verify", sleeper(pidfile), *extra]


@pytest.fixture
def repo(repo_factory: RepoFactory) -> Path:
    made = repo_factory(BASE)
    branch(made, "x", {"lib/util.py": "def util():\n    return 2\n"})
    return made


def test_a_verify_past_its_limit_is_ended_with_all_it_started(repo: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "sleep.pid"
    old = git(repo, "rev-parse", "main")
    started = time.monotonic()
    proc = subprocess.run(merge_argv(repo, pidfile, "--verify-timeout", "1"), cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert time.monotonic() - started < 30
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "timed out after 1s" in proc.stderr
    assert not alive(int(pidfile.read_text(encoding="utf-8")))
    assert scratch(repo) == [] and git(repo, "rev-parse", "main") == old


def test_verify_timeout_comes_from_the_config_and_a_bad_flag_is_one_line(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".parallel-tui.toml").write_text("verify_timeout = 1\n", encoding="utf-8")
    pidfile = tmp_path / "sleep.pid"
    proc = subprocess.run(merge_argv(repo, pidfile), cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert "timed out after 1s" in proc.stderr
    code, _out, err = cli(capsys, "merge", "--repo", str(repo), "x", "--into", "main", "--yes",
                          "--verify", "true", "--verify-timeout", "soon")
    assert code != 0 and len(err.strip().splitlines()) == 1 and "verify_timeout" in err, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_merge_ends_its_verify_and_removes_the_scratch_worktree(
        repo: Path, tmp_path: Path, sig: signal.Signals) -> None:
    pidfile = tmp_path / "sleep.pid"
    merge = subprocess.Popen(merge_argv(repo, pidfile), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: pidfile.is_file() and pidfile.read_text(encoding="utf-8").strip())
    merge.send_signal(sig)
    _out, err = merge.communicate(timeout=30)
    assert merge.returncode != 0 and "Traceback" not in err, err
    assert wait_for(lambda: not alive(int(pidfile.read_text(encoding="utf-8"))), 5)
    assert scratch(repo) == []


def test_what_a_killed_merges_verify_left_goes_at_the_next_check(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pidfile = tmp_path / "sleep.pid"
    merge = subprocess.Popen(merge_argv(repo, pidfile), cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    assert wait_for(lambda: pidfile.is_file() and pidfile.read_text(encoding="utf-8").strip())
    merge.kill()
    merge.wait()
    sleep_pid = int(pidfile.read_text(encoding="utf-8"))
    assert len(scratch(repo)) == 1 and alive(sleep_pid)  # SIGKILL leaves no way out
    code, _out, err = cli(capsys, "check", "--repo", str(repo), "x", "--into", "main")
    assert code == 0, err
    assert scratch(repo) == []
    assert wait_for(lambda: not alive(sleep_pid), 5)


def test_a_setup_command_past_its_limit_is_ended_with_all_it_started(tmp_path: Path) -> None:
    pidfile = tmp_path / "sleep.pid"
    script = ("import sys; from pathlib import Path\n"
              "from engine.hosts.worktrees import run_setup, SetupFailed\n"
              "from engine.hosts.host import LOCAL\n"
              "try:\n    run_setup(sys.argv[1], Path(sys.argv[2]), 1, host=LOCAL)\n"
              "except SetupFailed as exc:\n    print(exc.one_line())\n")
    command = f"sh -c \"{sleeper(pidfile)}\""
    proc = subprocess.run([sys.executable, "-c", script, command, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=30, check=False)
    assert "did not finish within 1s" in proc.stdout, proc.stdout + proc.stderr
    assert not alive(int(pidfile.read_text(encoding="utf-8")))
