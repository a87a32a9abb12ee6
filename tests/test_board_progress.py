"""The board's progress comes from the run's events, not from git and tmux every second:
the follower journals SessionProgress when a session's commits, files, cost or last line
change (and looks at git only when something moved), the fold keeps it, and the app's bridge
folds the events it is given and composes the status as `status` does; it reads the full
status only once following ended."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

from engine.agents.demo import ASK_MARKER
from engine.core import events as rev
from engine.core.jsonio import to_jsonable
from engine.core.models import SessionState
from engine.hosts.host import LOCAL, Host
from engine.hosts.tmux_sessions import PaneFacts, Tmux
from engine.run import progress
from engine.run.fold import fold, journaled
from engine.run.journal import Journal, RunRecord, SessionRecord, open_journal
from engine.run.lookup import tmux_of
from engine.run.session_status import PaneMemo, SessionFiles, StatusReaders, observe
from engine.run.status import RunStatus, folded_status, frame_of
from engine.run.tail import Batch
from engine.service import build_engine
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli
from tests.test_tui_merge import demo_run
from tui.app import ParallelApp
from tui.bridge import bridge
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

    def counted(path: Path, base_sha: str, exclude: tuple[str, ...] = (), *, host: Host) -> object:
        reads.append(path)
        return real(path, base_sha, exclude, host=host)
    monkeypatch.setattr(progress, "activity", counted)
    watch = progress.ProgressWatch(base, Tmux(tmux_socket, "none", host=LOCAL))
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
async def test_the_board_reads_no_full_status_while_it_follows(web_repo: Path, tmux_socket: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Two demo sessions asleep at work: while the bridge follows them it reads no full status at
    all (it read one every second, then on every state change), the footer is not rebuilt each
    second, the board's elapsed cells still count on (its own timer over `started_at`), and the
    commit each makes at the end shows on the board; one status has the last word at the end."""
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
        table = app.screen.query_one(DataTable)
        before, elapsed = len(calls), table.get_cell_at(Coordinate(0, 3))
        await pilot.pause(5.0)
        assert len(calls) == before, f"{len(calls) - before} full status reads in 5 s of following"
        assert not footers, "the footer is not rebuilt while its keys stay the same"
        assert _seconds(table.get_cell_at(Coordinate(0, 3))) - _seconds(elapsed) >= 3, "elapsed counts on"
        deadline = time.monotonic() + 30
        while not all(s.state == SessionState.DONE and s.commits == 1 for s in app.state.run.sessions):
            assert time.monotonic() < deadline, app.state.run
            await pilot.pause(0.2)
        deadline = time.monotonic() + 30
        while len(calls) == before:
            assert time.monotonic() < deadline, "the last word: one status once the run finished"
            await pilot.pause(0.2)
        assert app.state.run.orchestrator == "gone"


def _seconds(cell: object) -> int:
    """A board clock cell (`m:ss`) in seconds."""
    minutes, _, seconds = str(cell).partition(":")
    return int(minutes) * 60 + int(seconds)


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
                         exit_file=tmp_path / "e", started_at=1.0, host=LOCAL)
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


class _Posts:
    """What the bridge posts to (the app's message queue): kept."""

    def __init__(self) -> None:
        self.posted: list[RunStateChanged] = []

    def post_message(self, message: Message) -> bool:
        assert isinstance(message, RunStateChanged)
        self.posted.append(message)
        return True


def bridged(journal: Journal, run: RunRecord, split: int = 0) -> list[RunStateChanged]:
    """The real bridge fed the run's recorded events as `Engine.follow` batches them: the fold
    of the first `split` as the first batch's base, then the rest one event per batch."""
    rows = journal.events(run.id)
    frame = frame_of(journal, run, tmux_of(run, LOCAL))
    first = Batch(events=(), frame=frame, base=fold(run.id, journaled(rows[:split])))
    batches = [first, *(Batch(events=tuple(journaled([row])), frame=frame) for row in rows[split:])]

    async def follow() -> AsyncIterator[Batch]:
        for batch in batches:
            yield batch
    posts = _Posts()
    asyncio.run(bridge(follow(), posts, run.id))
    return posts.posted


@pytest.mark.tmux
def test_the_bridge_shows_what_status_shows_from_the_recorded_events(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A finished demo run's events through the real bridge, however they are batched: one post
    per batch, and the last is the status `status` folds (no tmux, no git in the bridge)."""
    repo = repo_factory(FILES)
    run_id = asyncio.run(demo_run(repo, capsys))
    with open_journal() as journal:
        run = journal.run(run_id)
        assert run is not None
        tmux = tmux_of(run, LOCAL)
        folded = dataclasses.replace(folded_status(journal, run, tmux.panes(), tmux), orchestrator="gone")
        for split in (0, 5, len(journal.events(run_id))):
            posted = bridged(journal, run, split)
            assert len(posted) == 1 + len(journal.events(run_id)) - split
            last = posted[-1].status
            assert [s.state for s in last.sessions] == [SessionState.DONE] * 2
            assert _timeless(last) == _timeless(folded), split
            assert posted[-1].folded is not None and posted[-1].folded.finished


def _timeless(status: RunStatus) -> RunStatus:
    return dataclasses.replace(status, sessions=tuple(dataclasses.replace(s, elapsed_s=0.0)
                                                      for s in status.sessions))


@pytest.mark.tmux
def test_a_journaled_change_reaches_the_follower_within_a_tenth_of_a_second(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`Engine.follow` looks at the journal's files every 50 ms and queries only when they
    changed, so a change the supervisor journals is in the next batch at once (it polled the
    journal every 0.5 s: a quarter second on average). Median of ten, at random phases."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "120")
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo", "--yes")
    assert code == 0, err
    engine = build_engine(repo, planner="offline", agent="demo")

    async def delays() -> list[float]:
        follow = engine.follow()
        first = await anext(follow)
        assert first.base is not None and {s.name for s in first.base.sessions} == {"a", "b"}
        out = []
        with open_journal() as journal:
            run_id = first.frame.run.id
            for n in range(10):
                await asyncio.sleep(0.05 + 0.037 * n)
                journal.record(rev.SessionStateChanged(run_id=run_id, name="a", old="", new=f"probe{n}",
                                                       source="test"))
                written = time.monotonic()
                while not any(getattr(e, "new", "") == f"probe{n}" for e in (await anext(follow)).events):
                    pass
                out.append(time.monotonic() - written)
        await follow.aclose()
        return out
    seen = sorted(asyncio.run(delays()))
    assert seen[len(seen) // 2] < 0.1, seen
