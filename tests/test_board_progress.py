"""The board's progress comes from the run's events, not from git and tmux every second:
the follower journals SessionProgress when a session's commits, files, cost or last line
change (and looks at git only when something moved), the fold keeps it, and the app's bridge
reads the full status only on a state change, at start, and as a slow safety net."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.agents.demo import ASK_MARKER
from engine.core import events as rev
from engine.core.jsonio import to_jsonable
from engine.core.models import SessionState
from engine.run import progress
from engine.run.fold import fold
from engine.run.journal import SessionRecord
from engine.run.session_status import PaneMemo, SessionFiles, StatusReaders, observe
from engine.run.status import RunStatus
from engine.run.tmux_sessions import PaneFacts, Tmux
from engine.service import build_engine
from tests.conftest import RepoFactory
from tests.run_helpers import FILES
from tests.test_tui_merge import demo_run
from tui.app import ParallelApp
from tui.backend import Backend
from tui.bridge import BURST_S, _Bridge
from tui.state import RunStateChanged


def test_progress_events_round_trip_and_fold() -> None:
    event = rev.SessionProgress(run_id="r", name="a", commits=2, changed_files=("x.py", "y.py"),
                                cost_usd=0.25, last_line="edited y.py")
    back = rev.run_event(event.kind, json.loads(json.dumps(to_jsonable(event))))
    assert back == event, "the journal's JSON (lists) comes back as the same event"
    started = rev.RunStarted(run_id="r", repo="/r", base_sha="b", sessions=("a",))
    view = fold("r", [started, event]).session("a")
    assert view is not None and (view.commits, view.changed_files, view.cost_usd, view.last_line) == \
        (2, ("x.py", "y.py"), 0.25, "edited y.py")


def _record(worktree: Path) -> SessionRecord:
    return SessionRecord(run_id="r", slug="a", name="a", branch="b", worktree=str(worktree),
                         window_name="a", agent="demo", owned=(), phase="started", prompt_file="",
                         hook_file="", stream_file="")


def _pane(activity_at: float) -> PaneFacts:
    return PaneFacts(window_id="@1", window_name="a", dead=False, exit_status=None, signal=None, pid=1,
                     command="python", activity_at=activity_at, dead_at=0.0)


def test_an_idle_session_costs_the_follower_no_git(repo_factory: object, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, tmux_socket: str) -> None:
    """Git runs on the first look, again only once the index or HEAD moved (a commit), and not
    for ticks where nothing moved; a commit is journaled on the next tick."""
    repo = repo_factory({"a.py": "x = 1\n"})  # type: ignore[operator]
    base = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    worktree = tmp_path / "wt"
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "-q", "-b", "b", str(worktree)], check=True)
    reads: list[Path] = []
    real = progress.activity

    def counted(path: Path, base_sha: str, exclude: tuple[str, ...] = ()) -> object:
        reads.append(path)
        return real(path, base_sha, exclude)
    monkeypatch.setattr(progress, "activity", counted)
    watch = progress.ProgressWatch(base, Tmux(tmux_socket, "none"))
    sent: list[rev.RunEvent] = []
    now = time.time()
    for tick in range(20):  # ten idle seconds of ticks
        watch(_record(worktree), _pane(now - 5), None, sent.append, now + tick * 0.5)
        if tick == 1:
            watch.moved = False  # the boundary watch looked: nothing moved since
    assert len(reads) == 1 and len(sent) == 1, (reads, sent)
    assert not watch.moved, "an idle session gives the boundary watch nothing to look at"
    (worktree / "a.py").write_text("x = 2\n")
    subprocess.run(["git", "-C", str(worktree), "commit", "-qam", "work"], check=True)
    watch(_record(worktree), _pane(now - 5), None, sent.append, now + 11)
    assert len(reads) == 2 and watch.moved
    assert isinstance(sent[-1], rev.SessionProgress) and sent[-1].commits == 1 \
        and sent[-1].changed_files == ("a.py",)


@pytest.mark.tmux
async def test_the_board_does_not_read_full_status_every_second(web_repo: Path, tmux_socket: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Two demo sessions asleep at work: over 5 s the bridge reads the full status at most once
    (it read it every second before), the footer is not rebuilt each second, the elapsed time
    still counts on, and the commit each makes at the end shows on the board."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "14")
    engine = build_engine(web_repo, planner="offline", agent="demo")
    task, subtasks = engine.quick_subtasks("a,b", "sleep a while")
    await engine.start_run(subtasks, task, "demo")
    app = ParallelApp(build_engine(web_repo, planner="offline", agent="demo"), planner="offline", still=True)
    calls: list[float] = []
    real = app.backend.status

    async def counted(run_id: str) -> object:
        calls.append(time.monotonic())
        return await real(run_id)
    monkeypatch.setattr(app.backend, "status", counted)
    async with app.run_test(size=(100, 30)) as pilot:
        deadline = time.monotonic() + 20
        while not (app.state.run and len(app.state.run.sessions) == 2
                   and all(s.state == SessionState.WORKING for s in app.state.run.sessions)):
            assert time.monotonic() < deadline, app.state.run
            await pilot.pause(0.1)
        await pilot.pause(1.0)
        footers: list[int] = []
        monkeypatch.setattr(app.screen, "refresh_bindings", lambda: footers.append(1))
        before, elapsed = len(calls), app.state.run.sessions[0].elapsed_s
        await pilot.pause(5.0)
        assert len(calls) - before <= 1, f"{len(calls) - before} full status reads in 5 s"
        assert not footers, "the footer is not rebuilt while its keys stay the same"
        assert app.state.run.sessions[0].elapsed_s - elapsed >= 3.5, "elapsed time counts on"
        deadline = time.monotonic() + 30
        while not all(s.state == SessionState.DONE and s.commits == 1 for s in app.state.run.sessions):
            assert time.monotonic() < deadline, app.state.run
            await pilot.pause(0.2)


def test_a_still_demo_pane_is_read_once_and_its_question_at_once(tmp_path: Path) -> None:
    """The follower's pane memo: while tmux says the pane printed nothing, its text is not
    captured again; output (a new activity time) is read, and the demo's question is seen."""
    reads: list[str] = []
    screen = ["demo agent a: 10 bytes of prompt, no files\n"]

    def text() -> str:
        reads.append(screen[0])
        return screen[0]
    readers = StatusReaders(pane_memo=PaneMemo())
    files = SessionFiles(agent="demo", hook_file=tmp_path / "h", stream_file=tmp_path / "s",
                         exit_file=tmp_path / "e", started_at=1.0)
    for tick in range(10):
        assert observe(_pane(50.0), files, text, readers, 100.0 + tick).state is SessionState.WORKING
    assert len(reads) == 1
    screen[0] += f"{ASK_MARKER} Which colour? "
    seen = observe(_pane(120.0), files, text, readers, 120.5)
    assert seen.state is SessionState.NEEDS_INPUT and seen.source == "pane_text"
    observe(_pane(120.0), files, text, readers, 120.8)
    assert len(reads) == 3, "read within the second of its output: not kept (more may follow)"
    observe(_pane(120.0), files, text, readers, 122.0)
    observe(_pane(120.0), files, text, readers, 123.0)
    assert len(reads) == 4


class _CountingApp:
    """What the bridge uses of the app: the real backend's status, counted; the run's events
    from a queue the test fills (as `Engine.follow` would yield them); posts kept."""

    def __init__(self, backend: Backend, events: asyncio.Queue[rev.Event | None]) -> None:
        self.reads = 0
        self.posted: list[RunStateChanged] = []
        self._backend, self._events = backend, events
        self.backend = SimpleNamespace(engine=SimpleNamespace(follow=self._follow), status=self._status)

    async def _status(self, run_id: str) -> RunStatus:
        status = await self._backend.status(run_id)
        self.reads += 1  # counted once read: a slow read (a loaded machine) is not counted early
        return status

    async def _follow(self, _run_id: str) -> AsyncIterator[rev.Event]:
        while (event := await self._events.get()) is not None:
            yield event

    def notify(self, *_args: object, **_kwargs: object) -> None:
        raise AssertionError("the status reads without error")

    def post_message(self, message: RunStateChanged) -> None:
        self.posted.append(message)


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)
    await asyncio.sleep(2 * BURST_S)


@pytest.mark.tmux
async def test_the_bridge_reads_full_status_only_for_what_only_status_tells(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Progress that changes only the last line and cost is posted from the fold, with no full
    read; a refused edit, a new commit (its branch may now delete most files) and an overlap
    conflict each cost exactly one."""
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    events: asyncio.Queue[rev.Event | None] = asyncio.Queue()
    app = _CountingApp(Backend(build_engine(repo, planner="offline", agent="demo")), events)
    bridge = _Bridge(app, run_id)  # type: ignore[arg-type]
    following = asyncio.create_task(bridge.follow_events())
    await _until(lambda: app.reads == 1, "the first full read")
    assert bridge.status is not None
    a = bridge.status.sessions[0]
    await events.put(rev.RunStarted(run_id=run_id, repo=str(repo), base_sha="b", sessions=("a", "b")))
    await _until(lambda: app.reads == 2, "a run event: read again")
    talk = rev.SessionProgress(run_id=run_id, name=a.name, commits=a.commits,
                               changed_files=a.changed_files, cost_usd=1.25, last_line="still going")
    await events.put(talk)
    await _until(lambda: app.posted[-1].status.sessions[0].last_line == "still going", "progress posted")
    assert app.reads == 2 and app.posted[-1].status.sessions[0].cost_usd == 1.25, "no full read"
    refused = rev.EditRefused(run_id=run_id, name=a.name, path="web/x.ts", at=time.time(), decision="deny")
    for event in (refused, dataclasses.replace(talk, commits=a.commits + 1, last_line="committed"),
                  rev.OverlapConflict(run_id=run_id, sessions=("a", "b"), files=("README.md",))):
        before = app.reads
        await events.put(event)
        await _until(lambda before=before: app.reads > before, f"{event.kind}: a full read")
        assert app.reads == before + 1, f"{event.kind}: exactly one full read"
    await events.put(None)
    await asyncio.wait_for(following, 10)
