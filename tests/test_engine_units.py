"""The engine's one-place rules, without tmux: recorder, fold, event round trip, quick form,
row marking, the run lock the Engine holds across commands."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from engine.core import events as rev
from engine.core.config import load_config
from engine.core.errors import UsageError
from engine.core.threads import both, thread_map
from engine.hosts.host import LOCAL
from engine.planning.overhead import overhead_table, row_mark
from engine.planning.quick import quick_subtasks
from engine.planning.text_report import overhead_lines
from engine.run.fold import RunState, fold, journaled, reduce
from engine.run.journal import RunRecord, open_journal
from engine.run.lock import LockedError, held
from engine.run.recorder import Recorder, recorder_for
from engine.service import Engine

ENGINE = Path(__file__).resolve().parent.parent / "engine"


def _run(journal_run_id: str = "r1") -> RunRecord:
    return RunRecord(id=journal_run_id, repo="/repo", base_sha="abc", base_ref="main", agent="demo",
                     tmux_socket="s", tmux_session="t", task="x", created_at=1.0, pid=1)


def test_the_recorder_journals_before_any_subscriber_sees_the_event() -> None:
    seen: list[int] = []
    with open_journal() as journal:
        journal.add_run(_run())

        def subscriber(_event: rev.RunEvent) -> None:
            seen.append(len(journal.events("r1")))  # already journaled when shown
            raise BrokenPipeError

        recorder = Recorder(journal, [subscriber])
        with pytest.raises(BrokenPipeError):
            recorder(rev.RunStarted(run_id="r1", repo="/repo", base_sha="abc", sessions=("a",)))
        assert seen == [1]
        assert [kind for _at, kind, _p in journal.events("r1")] == ["run_started"]
        assert recorder_for(journal, recorder) is recorder  # never journaled twice


def test_only_the_recorder_writes_the_events_table() -> None:
    writers = [str(p.relative_to(ENGINE)) for p in ENGINE.rglob("*.py")
               if re.search(r"\bjournal\.record\(|\.record\(event\)", p.read_text(encoding="utf-8"))]
    assert writers == ["run/recorder.py"]


def test_journaled_events_come_back_as_the_same_objects() -> None:
    events: list[rev.RunEvent] = [
        rev.RunStarted(run_id="r1", repo="/repo", base_sha="abc", sessions=("a", "b")),
        rev.MergeBuilt(run_id="r1", target="main", old_sha="1", new_sha="2", branches=("parallel/a",)),
        rev.RunFinished(run_id="r1", seconds=1.5, states={"a": "done"})]
    with open_journal() as journal:
        for event in events:
            journal.record(event)
        rows = journal.events("r1")
    assert journaled([*rows, (0.0, "from_a_newer_version", {})]) == events


def test_the_fold_builds_sessions_counts_and_the_follower_verdict() -> None:
    events: list[rev.RunEvent] = [
        rev.RunStarted(run_id="r1", repo="/repo", base_sha="abc", sessions=("a", "b")),
        rev.WorktreeCreated(run_id="r1", name="a", path="/w/a", branch="parallel/a", seconds=0.1),
        rev.SessionStarted(run_id="r1", name="a", window="@1", agent="demo"),
        rev.SessionLaunchFailed(run_id="r1", name="b", error="no such agent"),
        rev.RunFollowed(run_id="r1"),
        rev.SessionStateChanged(run_id="r1", name="a", old="", new="working", source="pane"),
        rev.SessionStateChanged(run_id="other", name="a", old="", new="failed", source="pane"),
    ]
    state = fold("r1", events)
    assert [(s.name, s.stage, s.state) for s in state.sessions] == [
        ("a", "started", "working"), ("b", "launch_failed", "failed")]
    assert state.counts == {"working": 1, "failed": 1}
    assert state.killed and state.events == 6
    done = reduce(state, rev.RunFinished(run_id="r1", seconds=2.0, states={}))
    assert done.finished and not done.killed
    assert reduce(RunState(run_id="r1"), rev.SessionStopped(run_id="r1", name="c")).session("c") is not None


def test_quick_form_subtasks_are_one_rule() -> None:
    task, subtasks = quick_subtasks(" api, ui ,", "Add login")
    assert task == "Add login"
    assert [s.name for s in subtasks] == ["api", "ui"]
    assert subtasks[0].description == "Add login\n\nYour part: api"
    with pytest.raises(UsageError, match="repeats"):
        quick_subtasks("a,a", "")
    with pytest.raises(UsageError, match="names no subtasks"):
        quick_subtasks(" , ", "")


def test_rows_over_the_cap_are_marked_and_the_optimum_wins() -> None:
    table = overhead_table(120.0, load_config(None), repo_max_splits=3)
    assert row_mark(table, table.optimal_splits) == "optimal"
    assert row_mark(table, 4) == "over_cap"
    assert row_mark(table, 1) in ("", "optimal")
    assert sum("(over the cap)" in line for line in overhead_lines(table)) == 10 - table.split_cap


def test_the_engine_holds_a_run_across_commands_and_refuses_a_stranger(tmp_path: Path) -> None:
    engine = Engine(tmp_path, load_config(None), LOCAL, inline=True)
    # start, then follow: one owner, no gap, and no stranger in between
    with engine.holding("r9"), engine.holding("r9"), pytest.raises(LockedError), held("run:r9", "run r9"):
        pass
    # released: anyone may take it now, and then the engine is the stranger
    with held("run:r9", "run r9"), pytest.raises(LockedError), engine.holding("r9"):
        pass


def test_thread_map_keeps_the_order_and_raises_after_trying_every_item() -> None:
    seen: list[int] = []
    names: set[str] = set()

    def slow_first(x: int) -> int:
        time.sleep(0.05 if x == 0 else 0.0)
        names.add(threading.current_thread().name)
        seen.append(x)
        if x == 3:
            raise ValueError("three")
        return x * 10

    assert thread_map(slow_first, [0, 1, 2], 2) == [0, 10, 20]
    assert len(names) == 2, "two workers"
    seen.clear()
    with pytest.raises(ValueError, match="three"):
        thread_map(slow_first, range(6), 3)
    assert sorted(seen) == list(range(6)), "a failure does not drop the other items"


def test_both_runs_two_calls_at_once_and_raises_once_both_ended() -> None:
    started = threading.Barrier(2, timeout=5)  # each waits for the other: only at once do both pass

    def one() -> int:
        started.wait()
        return 1

    def two() -> str:
        started.wait()
        return "two"

    assert both(one, two) == (1, "two")
    ended: list[str] = []

    def fails() -> str:
        raise ValueError("second")

    def slow() -> int:
        time.sleep(0.05)
        ended.append("first")
        return 1

    with pytest.raises(ValueError, match="second"):
        both(slow, fails)
    assert ended == ["first"], "the second's error waits for the first to end"
