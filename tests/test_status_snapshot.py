"""`status --json` from the supervisor's snapshot prints exactly what the normal path (argparse,
the Engine, the fold and the overlay) prints, on a real demo run at several moments: sessions
working and one ended, after a write to the journal, after a session's window was killed,
and never once the supervisor is dead (the normal path then says it observed the run itself).

Both paths run through `engine.cli.main.main` in this process with the clock stopped, so the
times since each session started agree to the digit; which path answered is seen by wrapping
the snapshot reader.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.cli.fast import plain_call
from engine.core import events as rev
from engine.run import snapshot_read
from engine.run.journal import open_journal
from engine.run.lock import is_held
from engine.run.lookup import find_run
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli

pytestmark = pytest.mark.tmux

PLAN = ('{"task": "t", "estimate": {"sequential_minutes": 10}, "subtasks": ['
        '{"name": "A", "description": "edit", "files_to_modify": ["src/a.py"]},'
        '{"name": "B", "description": "edit too", "files_to_modify": ["src/b.py"]},'
        '{"name": "C", "description": "demo:fail"}]}')
"""A and B work for a minute; C fails at once (an ended session while the supervisor lives)."""


def _wait(what: str, check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class Paths:
    """Runs `status --json` through `main` both ways, with the clock stopped."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                 repo: Path) -> None:
        self.capsys, self.monkeypatch, self.repo = capsys, monkeypatch, repo
        self.read = snapshot_read.status_json

    def snapshot(self, *extra: str) -> str | None:
        """What the snapshot path prints, or None when it left the call to the normal path."""
        answered: list[str | None] = []

        def spy(repo: str, run_id: str | None) -> str | None:
            answered.append(self.read(repo, run_id))
            return answered[-1]
        with self.monkeypatch.context() as m:
            m.setattr(snapshot_read, "status_json", spy)
            out = self._main(*extra)
        assert answered, "the snapshot path was asked first"
        return out if answered[0] is not None else None

    def normal(self, *extra: str) -> str:
        with self.monkeypatch.context() as m:
            m.setattr(snapshot_read, "status_json", lambda _repo, _run: None)
            return self._main(*extra)

    def both(self, *extra: str) -> tuple[str | None, str]:
        now = time.time()
        with self.monkeypatch.context() as m:
            m.setattr(time, "time", lambda: now)
            return self.snapshot(*extra), self.normal(*extra)

    def settled(self, *extra: str) -> tuple[str | None, str] | None:
        """Both, when the journal did not change in between (else they may rightly differ). The
        snapshot answering, then the journal's signature unchanged after the normal path, also
        shows that the normal path leaves it as it was (else this would never settle)."""
        before = snapshot_read.journal_signature(snapshot_read.journal_file())
        both = self.both(*extra)
        return both if snapshot_read.journal_signature(snapshot_read.journal_file()) == before else None

    def equal_when_answered(self, *extra: str) -> dict[str, object]:
        """Once the snapshot is current, both paths print the same; that status."""
        seen: list[tuple[str | None, str] | None] = []
        _wait("the snapshot path answers",
              lambda: seen.append(self.settled(*extra)) or (seen[-1] is not None and seen[-1][0] is not None))
        fast, normal = seen[-1]  # type: ignore[misc]
        assert fast == normal
        status: dict[str, object] = json.loads(normal)
        return status

    def _main(self, *extra: str) -> str:
        code, out, err = cli(self.capsys, "status", "--repo", str(self.repo), "--json", *extra)
        assert code == 0, err
        return out


def _sessions(status: dict[str, object]) -> dict[str, dict[str, object]]:
    return {str(s["name"]): s for s in status["sessions"]}  # type: ignore[attr-defined]


def _closed(run_id: str) -> list[str]:
    with open_journal() as journal:
        return [str(p["name"]) for _at, kind, p in journal.events(run_id) if kind == "window_closed"]


def _supervisor_pid(socket: str) -> int:
    panes = ["tmux", "-L", socket, "list-panes", "-a", "-F", "#{pane_pid}\t#{pane_start_command}"]
    out = subprocess.run(panes, capture_output=True, text=True, check=True).stdout
    (pid,) = [int(line.split("\t")[0]) for line in out.splitlines() if "engine.run.supervisor" in line]
    return pid


def test_the_snapshot_prints_what_the_normal_path_prints(
        repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "60")
    repo = repo_factory(FILES)
    plan = tmp_path / "plan.json"
    plan.write_text(PLAN, encoding="utf-8")
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "demo", "--yes")
    assert code == 0, err
    with open_journal() as journal:
        run = find_run(journal, repo, None)
    paths = Paths(capsys, monkeypatch, repo)

    # running, and one session ended
    _wait("A and B work, C failed", lambda: {n: s["state"] for n, s in _sessions(
        json.loads(paths.normal())).items()} == {"A": "working", "B": "working", "C": "failed"})
    status = paths.equal_when_answered()
    assert status["observed_by"] == "supervisor" and status["orchestrator"] == "running"
    assert paths.equal_when_answered("--run", run.id)["run_id"] == run.id

    # a write to the journal: never shown older than the journal
    with open_journal() as journal:
        journal.record(rev.EditRefused(run_id=run.id, name="A", path="src/b.py", at=time.time(),
                                       decision="deny"))
    right_after = paths.snapshot()
    assert right_after is None or "refused 1 edit" in right_after
    assert "refused 1 edit" in str(_sessions(paths.equal_when_answered())["A"]["problem"])

    # a session's window killed: the overlay, then what the supervisor journals
    b_window = str(_sessions(status)["B"]["window"])
    subprocess.run(["tmux", "-L", tmux_socket, "kill-window", "-t", b_window], check=True)
    gone = _sessions(paths.equal_when_answered())["B"]
    assert not gone["has_window"] and gone["problem"]
    _wait("the supervisor journals it", lambda: _closed(run.id) == ["B"])
    after = _sessions(paths.equal_when_answered())
    assert not after["B"]["has_window"] and after["A"]["state"] == "working"

    # the supervisor killed: its last snapshot is left behind, and never read
    left = Path(snapshot_read.snapshot_file(run.id))
    paths.equal_when_answered()
    os.kill(_supervisor_pid(tmux_socket), signal.SIGKILL)
    _wait("the kill frees the run", lambda: not is_held(f"run:{run.id}"))
    assert left.is_file()
    fast, normal = paths.both()
    assert fast is None, "a dead supervisor's snapshot is not used"
    status = json.loads(normal)
    assert status["observed_by"] == "status" and status["orchestrator"] == "killed"


@pytest.mark.parametrize(("argv", "found"), [
    (["status", "--json"], {}), (["status", "--repo", "x", "--json"], {"--repo": "x"}),
    (["status", "--json", "--run=r1", "--repo=x"], {"--run": "r1", "--repo": "x"}),
    (["status", "--json", "--list"], None), (["status", "--repo", "x"], None),
    (["status", "--jso"], None), (["status", "--json", "--run", "-r"], None),
    (["status", "--json", "--run", "a", "--run", "b"], None), (["status", "--json", "--run"], None),
    (["status", "--json", "x"], None), (["analyze", "--json"], None), (["status", "--json", "--run="], None),
])
def test_only_a_plain_status_json_takes_the_snapshot_path(argv: list[str],
                                                          found: dict[str, str] | None) -> None:
    assert plain_call(argv, "status", ("--repo", "--run")) == found


PROBE = """
import sys
from engine.cli.main import main
code = main(sys.argv[1:])
sys.stdout.flush()
print("\\n@@" + " ".join(sorted(sys.modules)))
sys.exit(code)
"""


def test_the_snapshot_path_loads_no_argparse_sqlite_dataclasses_or_subprocess(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "60")
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes")
    assert code == 0, err
    _wait("the supervisor took the run and wrote its snapshot",
          lambda: snapshot_read.status_json(str(repo), None) is not None)
    root = Path(__file__).resolve().parent.parent
    answers: list[set[str]] = []

    def probe() -> bool:
        """One `status --json` in a fresh interpreter; True once the snapshot answered it (a
        supervisor's write just before it sends it the normal path, which loads the parser)."""
        proc = subprocess.run([sys.executable, "-c", PROBE, "status", "--repo", str(repo), "--json"],
                              cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True,
                              text=True, check=False, timeout=60)
        assert proc.returncode == 0, proc.stderr
        out, _, modules = proc.stdout.rpartition("\n@@")
        assert json.loads(out)["observed_by"] == "supervisor"
        answers.append(set(modules.split()))
        return "engine.cli.parser" not in answers[-1]
    _wait("the snapshot answers a fresh interpreter", probe)
    loaded = answers[-1]
    heavy = {"argparse", "sqlite3", "dataclasses", "subprocess", "typing", "pathlib", "engine.run.journal",
             "engine.service", "engine.core.models"}
    assert loaded & heavy == set()
