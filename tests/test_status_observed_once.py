"""Observed once: while a run's supervisor lives, `status` folds its events and adds a liveness
overlay (the run's lock, one `list-panes`). It starts no git process and at most one tmux one,
however many sessions run; counted here with a PATH of wrapper scripts that log each call.

And the fold says what a full observation says: on a demo run interrupted at each fault phase
(`PARALLEL_TUI_FAULT`) and carried on with `run --resume`, the status folded from the
supervisor's events, and the one the app's bridge shows from the same events, equal the one
`status` observes itself once no supervisor lives.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.core import faults
from engine.hosts.host import LOCAL
from engine.hosts.registry import Hosts
from engine.run import supervision
from engine.run.journal import open_journal
from engine.run.lock import is_held
from engine.run.lookup import Sites, find_run, tmux_of
from engine.run.observe import observed_status
from engine.run.session_status import default_readers
from engine.run.status import folded_status, run_status
from engine.run.views import RunStatus
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli, status_json
from tests.test_board_progress import bridged
from tests.test_run_faults import RUN_PHASES, start_with_fault

pytestmark = pytest.mark.tmux

_MAIN = "import sys; from engine.cli.main import main; sys.exit(main())"
EIGHT = ",".join(f"s{i}" for i in range(8))


def _wait(what: str, check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _logging_path(tmp_path: Path, log: Path) -> str:
    """A PATH whose `git` and `tmux` log each call to `log`, then run the real ones."""
    wrappers = tmp_path / "wrappers"
    wrappers.mkdir()
    for name in ("git", "tmux"):
        real = shutil.which(name)
        assert real is not None
        script = wrappers / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\nexec "{real}" "$@"\n')
        script.chmod(0o755)
    return f"{wrappers}{os.pathsep}{os.environ['PATH']}"


def _kinds(run_id: str) -> list[str]:
    with open_journal() as journal:
        return [kind for _at, kind, _p in journal.events(run_id)]


def _states(run_id: str) -> dict[str, str]:
    with open_journal() as journal:
        return {str(p["name"]): str(p["new"]) for _at, kind, p in journal.events(run_id)
                if kind == "session_state_changed"}


def test_status_with_eight_live_sessions_starts_no_git_and_one_tmux(
        repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "120")
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", EIGHT, "--agent", "demo", "--yes")
    assert code == 0, err
    with open_journal() as journal:
        run = find_run(journal, repo, None)
    _wait("the supervisor follows the run", lambda: is_held(f"run:{run.id}"))
    _wait("it saw all eight work", lambda: len(_states(run.id)) == 8)
    log = tmp_path / "calls.log"
    env = {**os.environ, "PATH": _logging_path(tmp_path, log)}
    proc = subprocess.run([sys.executable, "-c", _MAIN, "status", "--repo", str(repo), "--json"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    calls = log.read_text().splitlines() if log.exists() else []
    assert [c for c in calls if c.startswith("git ")] == [], calls
    assert len([c for c in calls if c.startswith("tmux ")]) <= 1, calls
    assert status["observed_by"] == "supervisor" and status["orchestrator"] == "running"
    assert len(status["sessions"]) == 8
    assert {s["state"] for s in status["sessions"]} == {"working"}, status["sessions"]
    assert all(s["has_window"] and s["started_at"] for s in status["sessions"])


def _comparable(status: RunStatus) -> RunStatus:
    """What both views must agree on: all but who observed and the clock-driven times (elapsed,
    when the pane last printed: the fold keeps the last the supervisor journaled)."""
    sessions = tuple(dataclasses.replace(s, elapsed_s=0.0, output_at=0.0) for s in status.sessions)
    return dataclasses.replace(status, sessions=sessions, observed_by="supervisor")


@pytest.mark.parametrize("phase", RUN_PHASES)
def test_the_fold_equals_a_full_observation_after_each_fault(
        phase: str, repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    proc = start_with_fault(phase, "kill", repo)
    assert proc.returncode == -9, proc.stderr
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--resume", "--yes")
    assert code == 0, err
    with open_journal() as journal:
        run = find_run(journal, repo, None)
    _wait("the supervisor followed every session to its end, and exited",
          lambda: "run_finished" in _kinds(run.id) and not is_held(f"run:{run.id}")
          and not supervision.alive(tmux_of(run, LOCAL), run.id))
    with open_journal() as journal:
        tmux = tmux_of(run, LOCAL)
        panes = tmux.panes()
        observed = observed_status(journal, run, default_readers(), panes,
                                   Sites(run, journal.sessions(run.id), Hosts(LOCAL)), "running")
        folded = folded_status(journal, run, panes, tmux)
        told = run_status(journal, run, default_readers(), Hosts(LOCAL))
        shown = bridged(journal, run)[-1].status
    assert _comparable(folded) == _comparable(observed)
    assert _comparable(dataclasses.replace(shown, orchestrator="running")) == _comparable(observed), \
        "the app's bridge, fed the same events, shows what a full observation finds"
    assert [s.state.value for s in folded.sessions] == ["done"] * 3
    assert told.observed_by == "status" and told.orchestrator == "gone"
    assert status_json(capsys, repo)["observed_by"] == "status"
    assert faults.ENV not in os.environ
