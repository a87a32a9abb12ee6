"""`status` folds a thinned read of the journal (each session's first and last SessionProgress
with every other event): the same state as folding every event, read in a fraction of the time."""

from __future__ import annotations

import random
import time
from pathlib import Path

from engine.core import events as rev
from engine.run.fold import fold, journaled
from engine.run.journal import RunRecord, open_journal
from engine.run.status import recorded


def _run(run_id: str) -> RunRecord:
    return RunRecord(id=run_id, repo="/nowhere", base_sha="0" * 40, base_ref="main", agent="demo",
                     tmux_socket="", tmux_session="", task="t", created_at=time.time(), pid=0)


def _progress(run_id: str, name: str, i: int) -> rev.SessionProgress:
    return rev.SessionProgress(run_id=run_id, name=name, commits=i // 50,
                               changed_files=(f"src/{name}{i % 7}.py",),
                               cost_usd=None if i % 3 else i / 100, last_line=f"line {i}")


def _others(run_id: str, rng: random.Random, names: list[str]) -> rev.RunEvent:
    name = rng.choice(names)
    return rng.choice([
        rev.SessionStateChanged(run_id=run_id, name=name, old="working", new=rng.choice(["working", "idle"]),
                                source="pane", detail=f"d{rng.random():.3f}"),
        rev.SessionBlocked(run_id=run_id, name=name, reason="its path is taken"),
        rev.OverlapConflict(run_id=run_id, sessions=("a", name),
                            files=("README.md",) if rng.random() < 0.5 else ()),
        rev.EditRefused(run_id=run_id, name=name, path="x", at=1.0, decision="deny"),
        rev.RunFollowed(run_id=run_id),
    ])


def test_the_thinned_read_folds_to_what_every_event_does(isolated_env: Path) -> None:
    rng = random.Random(7)
    names = ["a", "b", "c"]
    with open_journal() as journal:
        for run_id in ("r1", "other"):
            journal.add_run_with_sessions(_run(run_id), [])
        journal.record(_progress("r1", "late", 0))  # a session first named by its progress
        journal.record(rev.RunStarted(run_id="r1", repo="/nowhere", base_sha="0" * 40, sessions=tuple(names)))
        for i in range(3000):
            run_id = "other" if i % 10 == 0 else "r1"
            event = _others(run_id, rng, names) if rng.random() < 0.1 else _progress(
                run_id, rng.choice([*names, "late"]), i)
            journal.record(event)
        journal.record(rev.SessionStopped(run_id="r1", name="b"))
        run = journal.run("r1")
        assert run is not None
        every = fold("r1", journaled(journal.events("r1")))
        rows, left_out = journal.events_to_fold("r1")
        assert left_out > 2000 and len(rows) < 500, (left_out, len(rows))
        assert recorded(journal, run) == every
        assert [s.name for s in every.sessions] == ["late", *names] and every.events > 2500
