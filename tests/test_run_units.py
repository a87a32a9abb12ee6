"""Pure parts of the run engine: slugs, boundary watch, status layering, journal, lock, agents."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.agents.descriptors import LaunchContext, agent_spec, build_argv
from engine.core.config import ParallelConfig
from engine.core.errors import UsageError
from engine.core.models import SessionState
from engine.hosts.host import LOCAL
from engine.hosts.tmux_sessions import PaneFacts, session_name
from engine.hosts.worktrees import slugify
from engine.run.boundary import boundary_warnings
from engine.run.journal import Journal, RunRecord, SessionRecord
from engine.run.lock import LockedError, held, is_held
from engine.run.session_status import SessionFiles, StatusReaders, observe


def test_slugify_sanitises_and_dedupes() -> None:
    assert slugify(["API: Users!", "api users", "", "Ünïcode ✓"]) == ["api-users", "api-users-2", "task",
                                                                     "n-code"]


def test_session_name_is_tmux_safe_and_unique_per_repo() -> None:
    name = session_name(Path("/x/my.repo:v2"))
    assert re.fullmatch(r"claude-parallel-my-repo-v2-[0-9a-f]{6}", name), name
    assert session_name(Path("/y/my.repo:v2")) != name  # one folder name, two repos: two sessions
    assert session_name(Path("/x/my.repo:v2")) == name


def test_boundary_warnings() -> None:
    warnings = boundary_warnings({"A": ("a.py", "shared.py", "x.md"), "B": ("shared.py",), "C": ("z",)},
                                 {"A": ("a.py", "shared.py"), "B": ("shared.py",), "C": ()})
    assert {(w.session, w.file, w.reason) for w in warnings} == {
        ("A", "shared.py", "also changed by B"), ("B", "shared.py", "also changed by A"),
        ("A", "x.md", "outside its files")}


def _pane(dead: bool, status: int | None = None) -> PaneFacts:
    return PaneFacts(window_id="@1", window_name="w", dead=dead, exit_status=status, signal=None,
                     pid=1, command="x", activity_at=0.0, dead_at=0.0)


@dataclass(frozen=True)
class Hook:
    state: SessionState
    at: float = 0.0
    detail: str = "hook"


@dataclass(frozen=True)
class Result:
    is_error: bool
    cost_usd: float | None = 0.25
    result: str = "r"
    session_id: str = "sid"


def _files(tmp_path: Path, agent: str = "claude") -> SessionFiles:
    return SessionFiles(agent=agent, hook_file=tmp_path / "h", stream_file=tmp_path / "s",
                        exit_file=tmp_path / "e", started_at=0.0, host=LOCAL)


def test_layering_best_signal_first(tmp_path: Path) -> None:
    files = _files(tmp_path)
    readers = StatusReaders(read_hook_state=lambda _p, _h: Hook(SessionState.NEEDS_INPUT),
                            read_result=lambda _p, _h: Result(is_error=True),
                            state_from_pane=lambda _a, _t: SessionState.WORKING)
    assert observe(_pane(True, 0), files, lambda: "", readers, 100).state == SessionState.FAILED
    alive = observe(_pane(False), files, lambda: "", readers, 100)
    assert (alive.state, alive.source, alive.cost_usd) == (SessionState.NEEDS_INPUT, "hook", 0.25)
    no_hook = StatusReaders(read_result=lambda _p, _h: Result(is_error=False))
    assert observe(_pane(False), files, lambda: "", no_hook, 100).state == SessionState.DONE
    text_only = StatusReaders(state_from_pane=lambda _a, t: SessionState.WORKING if "esc" in t else None)
    assert observe(_pane(False), files, lambda: "esc to interrupt", text_only, 100).source == "pane_text"
    assert observe(_pane(False), files, lambda: "", StatusReaders(), 100).state == SessionState.UNKNOWN
    assert observe(_pane(False), files, lambda: "", StatusReaders(), 1).state == SessionState.STARTING
    assert observe(None, files, lambda: "", StatusReaders(), 1).state == SessionState.UNKNOWN


def test_dead_pane_exit_codes_and_exit_file(tmp_path: Path) -> None:
    files = _files(tmp_path)
    assert observe(_pane(True, 0), files, lambda: "", StatusReaders(), 9).state == SessionState.DONE
    assert observe(_pane(True, 7), files, lambda: "", StatusReaders(), 9).state == SessionState.FAILED
    assert observe(_pane(True), files, lambda: "", StatusReaders(), 9).state == SessionState.EXITED
    files.exit_file.write_text("3\n")
    assert observe(_pane(True), files, lambda: "", StatusReaders(), 9).detail == "exit 3"


def test_journal_round_trip(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    run = RunRecord(id="r1", repo="/r", base_sha="abc", base_ref="main", agent="demo", tmux_socket="",
                    tmux_session="s", task="t", created_at=1.0, pid=1)
    journal.add_run(run)
    journal.add_session(SessionRecord(run_id="r1", slug="a", name="A", branch="parallel/a", worktree="/w",
                                      window_name="a", agent="demo", owned=("x.py",), phase="planned",
                                      prompt_file="/p", hook_file="/h", stream_file="/s"))
    journal.update_session("r1", "a", phase="started", window_id="@3")
    assert journal.run("r1") == run and journal.runs("/r") == [run]
    (session,) = journal.sessions("r1")
    assert (session.phase, session.window_id, session.owned) == ("started", "@3", ("x.py",))
    with pytest.raises(ValueError, match="unknown session fields"):
        journal.update_session("r1", "a", bogus=1)
    journal.close()


def test_lock_keeps_a_second_holder_out() -> None:
    with held("run:x", "run x"):
        assert is_held("run:x")
        with pytest.raises(LockedError, match="another parallel-tui"), held("run:x", "run x"):
            pass
    assert not is_held("run:x")


def test_agent_templates(tmp_path: Path) -> None:
    ctx = LaunchContext(name="n", worktree=tmp_path, prompt_file=tmp_path / "p", files=("a", "b"),
                        specialist="", hook_file=tmp_path / "h", stream_file=tmp_path / "s",
                        exit_file=tmp_path / "e")
    config = ParallelConfig(permission_mode="plan")
    claude = build_argv(agent_spec("claude", config), ctx, config, lambda p: '{"hooks": "x y"}')
    assert claude == ["claude", "--permission-mode", "plan", '--settings={"hooks": "x y"}']
    assert "--settings" not in " ".join(build_argv(agent_spec("claude", config), ctx, config, None))
    custom = ParallelConfig(custom_agent_command="tool --in {prompt_file} --at '{worktree}' {name}")
    assert build_argv(agent_spec("custom", custom), ctx, custom, None) == [
        "tool", "--in", str(tmp_path / "p"), "--at", str(tmp_path), "n"]
    with pytest.raises(UsageError, match="unknown agent"):
        agent_spec("nope", config)


def test_claude_screen_is_not_trusted_before_its_first_hook(tmp_path: Path) -> None:
    """Claude's UI looks idle until the prompt is submitted: with hooks wired, say starting."""
    files = _files(tmp_path)
    pane_idle = StatusReaders(state_from_pane=lambda _a, _t: SessionState.IDLE,
                              hook_settings=lambda _p: "{}")
    assert observe(_pane(False), files, lambda: "", pane_idle, 3).state == SessionState.STARTING
    dialog = StatusReaders(state_from_pane=lambda _a, _t: SessionState.NEEDS_INPUT,
                           hook_settings=lambda _p: "{}")
    assert observe(_pane(False), files, lambda: "", dialog, 3).state == SessionState.NEEDS_INPUT
    late = observe(_pane(False), files, lambda: "", pane_idle, 600)
    assert (late.state, late.source) == (SessionState.IDLE, "pane_text")
    hooked = StatusReaders(read_hook_state=lambda _p, _h: Hook(SessionState.WORKING),
                           state_from_pane=lambda _a, _t: SessionState.IDLE, hook_settings=lambda _p: "{}")
    assert observe(_pane(False), files, lambda: "", hooked, 3).state == SessionState.WORKING
