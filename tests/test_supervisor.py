"""The run supervisor: a detached process per run follows its sessions to the end.

Real git, a private tmux server (`tmux_socket`), the demo agent; the supervisor is the real
`python -P -m engine.run.supervisor` in the run's first tmux window.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from engine.core import events as rev
from engine.core.config import load_config
from engine.core.errors import ConfigError
from engine.hosts.host import LOCAL
from engine.hosts.tmux_sessions import Tmux
from engine.run.journal import open_journal
from engine.run.lock import is_held
from engine.run.supervisor import StatusLine, summary
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli, status_json
from tests.test_engine_api import _engine, _subtasks

pytestmark = pytest.mark.tmux


def _kinds(run_id: str) -> list[str]:
    with open_journal() as journal:
        return [kind for _at, kind, _p in journal.events(run_id)]


def _panes(socket: str) -> list[tuple[str, str, str]]:
    out = subprocess.run(["tmux", "-L", socket, "list-panes", "-a", "-F",
                          "#{pane_pid}\t#{window_name}\t#{pane_start_command}"],
                         capture_output=True, text=True, check=False).stdout
    return [(p[0], p[1], p[2]) for line in out.splitlines() if len(p := line.split("\t", 2)) == 3]


def _supervisor_pids(socket: str) -> list[int]:
    return [int(pid) for pid, _name, command in _panes(socket) if "engine.run.supervisor" in command]


def _wait(what: str, check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_detached_run_is_followed_to_the_end_with_no_client(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes")
    assert code == 0, err
    assert len(_supervisor_pids(tmux_socket)) == 1, "one supervisor, in the run's own tmux session"
    assert status_json(capsys, repo)["orchestrator"] == "running"
    run_id = str(status_json(capsys, repo)["run_id"])
    _wait("the supervisor exits once every session has ended",
          lambda: not _supervisor_pids(tmux_socket) and not is_held(f"run:{run_id}"))
    status = status_json(capsys, repo)
    assert status["orchestrator"] == "gone"
    assert [s["state"] for s in status["sessions"]] == ["done", "done"]  # type: ignore[attr-defined]
    for s in status["sessions"]:  # type: ignore[attr-defined]
        started, ended = datetime.fromisoformat(s["started_at"]), datetime.fromisoformat(s["ended_at"])
        assert started.tzinfo is not None and started <= ended, s
    kinds = _kinds(run_id)
    assert kinds.count("run_followed") == 1 and kinds[-1] == "run_finished"
    assert [k for k in kinds if k == "session_state_changed"], "the supervisor journaled the states"
    session = str(status["tmux_session"])
    line = subprocess.run(["tmux", "-L", tmux_socket, "show-options", "-v", "-t", session,
                           "@parallel_status"], capture_output=True, text=True, check=True).stdout.strip()
    assert line == "2 done", "the status line summarises the sessions"
    right = subprocess.run(["tmux", "-L", tmux_socket, "show-options", "-v", "-t", session, "status-right"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert right == "#{@parallel_status}"
    glob = subprocess.run(["tmux", "-L", tmux_socket, "show-options", "-gv", "status-right"],
                          capture_output=True, text=True, check=True).stdout
    assert "parallel_status" not in glob, "the user's global options are never touched"


def test_a_client_restarts_a_killed_supervisor_and_follows_the_journal(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "3")
    repo = repo_factory(FILES)
    engine = _engine(repo)
    started = asyncio.run(engine.start_run(_subtasks(2), "two parts", "demo"))
    _wait("the supervisor takes the run",
          lambda: "run_followed" in _kinds(started.run_id) and is_held(f"run:{started.run_id}"))
    (pid,) = _supervisor_pids(tmux_socket)
    os.kill(pid, signal.SIGKILL)
    _wait("the kill frees the run", lambda: not is_held(f"run:{started.run_id}"))
    assert status_json(capsys, repo)["orchestrator"] == "killed"

    async def follow() -> list[rev.Event]:
        return [e async for b in engine.follow(started.run_id, poll_s=0.1) for e in b.events]
    events = asyncio.run(follow())
    assert isinstance(events[-1], rev.RunFinished), "the client saw the run end through the journal"
    assert any(isinstance(e, rev.RunFollowed) for e in events), "… from a supervisor it started again"
    _wait("the new supervisor exits", lambda: not _supervisor_pids(tmux_socket))
    assert status_json(capsys, repo)["orchestrator"] == "gone"


def test_run_wait_reads_the_supervisors_journal(repo_factory: RepoFactory, tmux_socket: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes",
                         "--wait", "--jsonl")
    assert code == 0, err
    kinds = [json.loads(line)["kind"] for line in out.splitlines() if line.startswith("{")]
    assert "run_followed" in kinds and kinds[-1] == "run_finished"
    run_id = str(status_json(capsys, repo)["run_id"])
    assert _kinds(run_id).count("run_finished") == 1, "one follower journaled the end: the supervisor"


def test_supervisor_false_starts_none(repo_factory: RepoFactory, tmux_socket: str,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PARALLEL_TUI_SUPERVISOR", "false")
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes")
    assert code == 0, err
    assert _supervisor_pids(tmux_socket) == []
    assert status_json(capsys, repo)["orchestrator"] == "gone"
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--resume", "--yes", "--wait")
    assert code == 0, err


def test_the_supervisor_switch_is_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_config(tmp_path).supervisor is True
    monkeypatch.setenv("PARALLEL_TUI_SUPERVISOR", "no")
    assert load_config(tmp_path).supervisor is False
    monkeypatch.setenv("PARALLEL_TUI_SUPERVISOR", "maybe")
    with pytest.raises(ConfigError, match="supervisor"):
        load_config(tmp_path)


def test_the_status_line_puts_attention_first() -> None:
    assert summary({"api": "working", "auth": "needs_input", "ui": "done", "db": "working"}) \
        == "auth ! · 2 working · 1 done"
    assert summary({"a": ""}) == "1 starting"


def test_needs_input_sets_the_status_line_and_rings_the_bell(
        tmux_socket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tmux = Tmux(tmux_socket, "claude-parallel-bell", host=LOCAL)
    tmux.ensure_session(tmp_path, 1000)
    line = StatusLine(tmux, ["api", "ui"])
    line(rev.SessionStateChanged(run_id="r", name="ui", old="", new="working", source="hook", detail=""))
    assert capsys.readouterr().out == ""
    line(rev.SessionStateChanged(run_id="r", name="api", old="", new="needs_input", source="hook", detail=""))
    assert capsys.readouterr().out == "\a", "a bell in the supervisor's own window"
    shown = tmux.run("show-options", "-v", "-t", "=claude-parallel-bell:", "@parallel_status").stdout
    assert shown == ["api ! · 1 working"]


def test_the_radar_flags_two_live_sessions_that_start_to_conflict(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "60")
    monkeypatch.setenv("PARALLEL_TUI_OWNERSHIP", "warn")  # the stray edits are flagged, not stopped
    monkeypatch.setenv("PARALLEL_TUI_RADAR_EVERY_S", "0.5")
    repo = repo_factory(FILES)
    started = asyncio.run(_engine(repo).start_run(_subtasks(2), "two parts", "demo"))
    trees = [Path(s.worktree) for s in started.sessions]
    for tree, text in zip(trees, ("one side\n", "the other\n"), strict=True):
        (tree / "README.md").write_text(text)  # uncommitted: only a temporary tree sees it

    def conflict() -> list[dict[str, object]]:
        with open_journal() as journal:
            return [p for _at, kind, p in journal.events(started.run_id) if kind == "overlap_conflict"]
    _wait("the radar flags the pair within its interval", conflict, timeout=10)
    assert conflict()[0]["sessions"] == ["part0", "part1"] and conflict()[0]["files"] == ["README.md"]
    live = status_json(capsys, repo)["conflicts"]
    assert live == [{"sessions": ["part0", "part1"], "files": ["README.md"]}]
    code, out, _ = cli(capsys, "status", "--repo", str(repo))
    assert code == 0 and "part0 and part1 conflict now in README.md (overlap radar)" in out
    (trees[1] / "README.md").write_text("one side\n")  # the same change on both sides: merges
    _wait("the radar clears the pair", lambda: not status_json(capsys, repo)["conflicts"], timeout=10)
    assert conflict()[-1]["files"] == []
    for tree in trees:
        assert subprocess.run(["git", "-C", str(tree), "diff", "--cached", "--name-only"], check=True,
                              capture_output=True, text=True).stdout == "", "its index is never touched"
    for name in ("part0", "part1"):
        asyncio.run(_engine(repo).stop(name))
