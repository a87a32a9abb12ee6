"""Dependency waves at run time: a subtask starts only when its dependencies are complete, on
a branch with their branches merged in; independent ones start at once. The supervisor drives
it. Real git, a private tmux server, the demo agent (which commits and exits 0: complete)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import pytest

from engine.core.models import Subtask
from engine.run.journal import open_journal
from engine.service import build_engine
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES, cli, status_json

pytestmark = pytest.mark.tmux


def _by_name(status: dict[str, object]) -> dict[str, dict[str, str]]:
    return {s["name"]: s for s in status["sessions"]}  # type: ignore[attr-defined]


def _wait_all_ended(capsys: pytest.CaptureFixture[str], repo: Path, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        status = status_json(capsys, repo)
        if status["orchestrator"] == "gone":
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.2)


def test_b_starts_after_a_on_a_branch_with_its_commit_and_c_at_once(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "1.5")
    repo = repo_factory(FILES)
    subtasks = (Subtask(name="A", description="a", files_to_modify=("src/a.py",)),
                Subtask(name="B", description="b", files_to_modify=("src/b.py",), depends_on=("A",)),
                Subtask(name="C", description="c", files_to_modify=("README.md",)))
    engine = build_engine(repo, planner="offline", agent="demo")
    started_run = asyncio.run(engine.start_run(subtasks, "waves", "demo"))
    b_prompt = Path(next(s.prompt_file for s in started_run.sessions if s.name == "B")).read_text()
    assert "This builds on: A (already done and merged into this branch's base" in b_prompt
    early = _by_name(status_json(capsys, repo))
    assert early["B"]["state"] == "waiting" and "A" in early["B"]["detail"], early["B"]
    assert early["B"]["started_at"] == ""
    assert early["C"]["started_at"], "an independent subtask starts at once"
    assert status_json(capsys, repo)["orchestrator"] == "running"

    final = _by_name(_wait_all_ended(capsys, repo))
    assert [final[n]["state"] for n in "ABC"] == ["done", "done", "done"], final
    started = {n: datetime.fromisoformat(final[n]["started_at"]) for n in "ABC"}
    ended_a = datetime.fromisoformat(final["A"]["ended_at"])
    assert started["B"] >= ended_a.replace(microsecond=0), "B starts after A is done"
    assert started["C"] < ended_a, "C did not wait"
    a_tip = git(repo, "rev-parse", "refs/heads/parallel/a").strip()
    assert a_tip in git(repo, "rev-list", "refs/heads/parallel/b").split(), "B's branch contains A's commit"
    assert a_tip not in git(repo, "rev-list", "refs/heads/parallel/c").split()


def test_a_dependent_whose_dependencies_conflict_is_blocked_naming_the_files(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "1.5")
    monkeypatch.setenv("PARALLEL_TUI_OWNERSHIP", "warn")  # D's stray edit is flagged, not stopped
    repo = repo_factory(FILES)
    subtasks = (Subtask(name="A", description="a", files_to_modify=("src/a.py",)),
                Subtask(name="D", description="d", files_to_modify=("src/b.py",)),
                Subtask(name="B", description="b", files_to_modify=("README.md",), depends_on=("A", "D")))
    engine = build_engine(repo, planner="offline", agent="demo")
    started = asyncio.run(engine.start_run(subtasks, "waves", "demo"))
    d_worktree = Path(next(s.worktree for s in started.sessions if s.name == "D"))
    with (d_worktree / "src" / "a.py").open("a") as handle:
        handle.write("# D's own line\n")
    git(d_worktree, "commit", "-qam", "D strays into src/a.py")
    final = _by_name(_wait_all_ended(capsys, repo))
    assert final["A"]["state"] == "done" and final["D"]["state"] == "done", final
    assert final["B"]["state"] == "failed" and final["B"]["started_at"] == ""
    with open_journal() as journal:
        errors = [p.get("error", "") for _at, kind, p in journal.events(started.run_id)
                  if kind == "session_launch_failed"]
    assert errors and "src/a.py" in str(errors[-1]) and "conflicts" in str(errors[-1]), errors


def test_a_wave_that_cannot_start_is_journaled_once_and_shown_blocked(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """B's worktree path is taken (a folder with a file in it) while B waits for A: when A is
    done, B cannot start. The supervisor says so once (though it tries again and again), and
    status shows B blocked with why. C, independent, waits for an answer: its end, journaled
    by the supervisor after B's block, proves the supervisor kept ticking meanwhile."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "1")
    monkeypatch.setenv("PARALLEL_TUI_RETRY_WAVE_S", "0.2")
    repo = repo_factory(FILES)
    subtasks = (Subtask(name="A", description="a", files_to_modify=("src/a.py",)),
                Subtask(name="B", description="b", files_to_modify=("src/b.py",), depends_on=("A",)),
                Subtask(name="C", description="demo:ask go on?", files_to_modify=("README.md",)))
    engine = build_engine(repo, planner="offline", agent="demo")
    started = asyncio.run(engine.start_run(subtasks, "waves", "demo"))
    taken = Path(next(s.worktree for s in started.sessions if s.name == "B"))
    taken.mkdir(parents=True)
    (taken / "mine.txt").write_text("someone else's\n")

    def blocked() -> list[dict[str, object]]:
        with open_journal() as journal:
            return [p for _at, kind, p in journal.events(started.run_id) if kind == "session_blocked"]
    deadline = time.monotonic() + 30
    while not blocked():
        assert time.monotonic() < deadline, "B's failed start was never journaled"
        time.sleep(0.2)
    code, _, err = cli(capsys, "send", "c", "yes", "--repo", str(repo))
    assert code == 0, err

    def c_ended() -> bool:
        with open_journal() as journal:
            return any(kind == "session_state_changed" and p["name"] == "C" and p["new"] == "done"
                       for _at, kind, p in journal.events(started.run_id))
    while not c_ended():
        assert time.monotonic() < deadline, "the supervisor stopped following after B's block"
        time.sleep(0.2)
    assert len(blocked()) == 1 and blocked()[0]["name"] == "B", blocked()
    b = _by_name(status_json(capsys, repo))["B"]
    assert b["blocked"] and str(taken) in b["blocked"] and b["state"] == "waiting", b
    assert b["detail"].startswith("blocked: ") and b["started_at"] == ""
    assert (taken / "mine.txt").read_text() == "someone else's\n", "nothing of theirs is touched"


def test_a_wave_blocked_part_way_is_retried_once_the_path_is_free(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """C and D wait for A; D's worktree path is taken, so the wave fails after C was registered
    (C stays `registered`, D `planned`). Once the folder is gone both start at the next retry."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "1")
    monkeypatch.setenv("PARALLEL_TUI_RETRY_WAVE_S", "1")
    repo = repo_factory(FILES)
    subtasks = (Subtask(name="A", description="a", files_to_modify=("src/a.py",)),
                Subtask(name="C", description="c", files_to_modify=("src/b.py",), depends_on=("A",)),
                Subtask(name="D", description="d", files_to_modify=("README.md",), depends_on=("A",)))
    engine = build_engine(repo, planner="offline", agent="demo")
    started = asyncio.run(engine.start_run(subtasks, "waves", "demo"))
    taken = Path(next(s.worktree for s in started.sessions if s.name == "D"))
    taken.mkdir(parents=True)
    (taken / "mine.txt").write_text("someone else's\n")

    def blocked() -> set[str]:
        with open_journal() as journal:
            events = journal.events(started.run_id)
        return {str(p["name"]) for _at, kind, p in events if kind == "session_blocked"}
    deadline = time.monotonic() + 30
    while blocked() != {"C", "D"}:
        assert time.monotonic() < deadline, blocked()
        time.sleep(0.2)
    with open_journal() as journal:
        phases = {s.name: s.phase for s in journal.sessions(started.run_id)}
    assert phases["C"] == "registered" and phases["D"] == "planned", phases
    (taken / "mine.txt").unlink()
    taken.rmdir()
    final = _by_name(_wait_all_ended(capsys, repo, timeout=30))
    assert [final[n]["state"] for n in "ACD"] == ["done", "done", "done"], final
