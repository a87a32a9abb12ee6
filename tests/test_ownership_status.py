"""Truer status for Claude Code: its registry file ranked with the hooks, guarded against
reused PIDs, and `stalled` for a `working` session that went quiet."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from engine.claude.registry import proc_start, read_registry
from engine.core.models import SessionState
from engine.hosts.host import LOCAL
from engine.hosts.tmux_sessions import PaneFacts
from engine.run.session_status import SessionFiles, StatusReaders, observe

NOW = 1_800_000_000.0


@dataclass(frozen=True)
class Signal:
    state: SessionState
    at: float
    detail: str = ""
    session_id: str = "s1"


def pane(activity_at: float = NOW - 1) -> PaneFacts:
    return PaneFacts(window_id="@1", window_name="w", dead=False, exit_status=None, signal=None, pid=1,
                     command="claude", activity_at=activity_at, dead_at=0.0)


def seen(hook: Signal | None, registry: Signal | None, *, activity_at: float = NOW - 1,
         stall_after_s: float = 300.0, agent: str = "claude") -> tuple[SessionState, str]:
    readers = StatusReaders(read_hook_state=lambda _f, _h: hook, read_registry=lambda _w, _sid, _h: registry,
                            stall_after_s=stall_after_s)
    files = SessionFiles(agent=agent, hook_file=Path("/h"), stream_file=Path("/s"), exit_file=Path("/e"),
                         started_at=NOW - 1000, worktree=Path("/w"), host=LOCAL)
    got = observe(pane(activity_at), files, lambda: "", readers, NOW)
    return got.state, got.source


def test_a_newer_registry_status_catches_what_hooks_miss() -> None:
    # Esc during a turn fires no hook: the hooks still say working, the registry says idle
    assert seen(Signal(SessionState.WORKING, NOW - 10), Signal(SessionState.IDLE, NOW - 5)) \
        == (SessionState.IDLE, "registry")
    assert seen(Signal(SessionState.WORKING, NOW - 5), Signal(SessionState.IDLE, NOW - 10)) \
        == (SessionState.WORKING, "hook")


def test_the_registry_never_hides_a_failure_nor_speaks_before_the_hooks() -> None:
    assert seen(Signal(SessionState.FAILED, NOW - 10), Signal(SessionState.IDLE, NOW - 5)) \
        == (SessionState.FAILED, "hook")
    # before its first prompt is submitted Claude's registry says idle: not "finished"
    assert seen(None, Signal(SessionState.IDLE, NOW - 5)) == (SessionState.UNKNOWN, "none")


def test_working_with_no_signal_and_a_still_pane_is_stalled() -> None:
    quiet = Signal(SessionState.WORKING, NOW - 400)
    assert seen(quiet, None, activity_at=NOW - 400) == (SessionState.STALLED, "hook")
    assert seen(quiet, None, activity_at=NOW - 2)[0] is SessionState.WORKING  # the spinner still moves
    assert seen(quiet, None, activity_at=NOW - 400, stall_after_s=600)[0] is SessionState.WORKING
    assert seen(Signal(SessionState.IDLE, NOW - 400), None, activity_at=NOW - 400)[0] is SessionState.IDLE
    # agents without hooks: the pane alone (the demo agent always "works")
    assert seen(None, None, activity_at=NOW - 400, agent="demo")[0] is SessionState.STALLED


def entry(folder: Path, worktree: Path, *, pid: int | None = None, proc: str | None = None,
          status: str = "busy", sid: str = "s1", at_ms: int = 1_000) -> None:
    pid = os.getpid() if pid is None else pid
    data = {"pid": pid, "sessionId": sid, "cwd": str(worktree), "procStart": proc or proc_start(pid),
            "status": status, "statusUpdatedAt": at_ms, "kind": "interactive"}
    (folder / f"{pid}-{sid}.json").write_text(json.dumps(data))


def test_the_registry_reader_guards_reused_pids_and_other_folders(tmp_path: Path) -> None:
    folder, wt = tmp_path / "sessions", tmp_path / "wt"
    folder.mkdir()
    wt.mkdir()
    assert read_registry(wt, folder=folder) is None
    entry(folder, wt, proc="1", sid="reused")  # our PID, but another process's start time
    entry(folder, tmp_path, sid="elsewhere")
    assert read_registry(wt, folder=folder) is None
    entry(folder, wt, status="waiting", sid="live", at_ms=2_000)
    got = read_registry(wt, folder=folder)
    assert got is not None and (got.state, got.session_id, got.at) == (SessionState.NEEDS_INPUT, "live", 2.0)


def test_the_registry_reader_prefers_the_session_the_hooks_named(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    entry(folder, tmp_path, sid="ours", status="idle", at_ms=1_000)
    entry(folder, tmp_path, sid="newer", status="busy", at_ms=9_000)
    assert read_registry(tmp_path, "ours", folder=folder).state is SessionState.IDLE  # type: ignore[union-attr]
    assert read_registry(tmp_path, folder=folder).state is SessionState.WORKING  # type: ignore[union-attr]


def test_proc_start_is_what_claude_code_writes() -> None:
    start = proc_start(os.getpid())
    assert start is not None and start.isdigit()
    assert proc_start(2**22 + 12345) is None
