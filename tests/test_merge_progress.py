"""The merge and verify stages stream as events, in order, from a real merge (real git, the demo agent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.core import events as rev
from engine.merge.apply import VerifyFailed
from engine.merge.flow import Which
from engine.run.journal import open_journal
from engine.service import Engine, build_engine, run_inline
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.merge_helpers import BASE, branch
from tests.run_helpers import FILES, cli, status_json


def _said(event: rev.Event) -> tuple[str, ...]:
    """The part of an event a test can predict (no shas, no times)."""
    match event:
        case rev.MergeStepStarted():
            return event.kind, event.branch, f"{event.index}/{event.total}"
        case rev.MergeStepFinished():
            return event.kind, event.branch, "commit" if event.commit else f"conflicts {event.files}"
        case rev.VerifyStarted():
            return event.kind, event.upto, "bisect" if event.bisect else "result"
        case rev.VerifyFinished():
            return event.kind, event.upto, "ok" if event.ok else f"exit {event.exit_code}: {event.tail}"
        case rev.VerifyBlamed():
            return event.kind, event.branch, event.tail
        case _:
            return (event.kind,)


def _finished_run(capsys: pytest.CaptureFixture[str], repo: Path) -> tuple[str, Engine]:
    """A finished demo run of a and b, and an inline Engine on its repo."""
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--prompt", "do it",
                       "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    return str(status_json(capsys, repo)["run_id"]), build_engine(repo, inline=True)


@pytest.mark.tmux
def test_a_verified_merge_of_a_run_streams_each_stage_in_order_through_the_journal(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    run_id, engine = _finished_run(capsys, repo)
    heard: list[rev.Event] = []
    engine.subscribe(heard.append)
    summary = run_inline(engine.merge(Which(), verify="test -f demo/a.md && test -f demo/b.md"))
    assert summary is not None and summary.outcome.moved
    expected = [("merge_step_started", "parallel/a", "1/2"), ("merge_step_finished", "parallel/a", "commit"),
                ("merge_step_started", "parallel/b", "2/2"), ("merge_step_finished", "parallel/b", "commit"),
                ("verify_started", "parallel/b", "result"), ("verify_finished", "parallel/b", "ok"),
                ("merge_built",), ("merge_moved",)]
    assert [_said(e) for e in heard] == expected
    built = next(e for e in heard if isinstance(e, rev.MergeBuilt))
    finished = [e for e in heard if isinstance(e, rev.MergeStepFinished)]
    assert finished[-1].commit == built.new_sha == git(repo, "rev-parse", "main").strip()
    assert all(e.run_id == run_id for e in heard if isinstance(e, rev.RunEvent))
    with open_journal() as journal:  # journaled first, in the same order
        kinds = [k for _, k, _ in journal.events(run_id)]
    first = kinds.index("merge_step_started")
    assert kinds[first:first + len(expected)] == [e[0] for e in expected]


def test_a_failing_verify_streams_the_bisect_and_names_the_branch_on_the_terminal(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """Branches of no run: the same events reach the CLI's printer (one line per stage)."""
    repo = repo_factory(BASE)
    for name in ("one", "two", "three"):
        branch(repo, name, {f"{name}.txt": f"{name}\n"})
    before = git(repo, "rev-parse", "main")
    code, _, err = cli(capsys, "merge", "--repo", str(repo), "--branches", "one,two,three", "--yes",
                         "--verify", "echo checking; test ! -f three.txt")
    assert code != 0 and git(repo, "rev-parse", "main") == before, "nothing moved"
    lines = [_plain(line) for line in err.splitlines() if line[:1] in "…✓✗"]
    verify = "verify `echo checking; test ! -f three.txt`"
    assert lines == [
        "… merging one into main (1/3)", "✓ merged one (1/3) as SHA in Ns",
        "… merging two into main (2/3)", "✓ merged two (2/3) as SHA in Ns",
        "… merging three into main (3/3)", "✓ merged three (3/3) as SHA in Ns",
        f"… {verify} on the merge up to three",
        "✗ verify failed (exit 1) on the merge up to three in Ns: checking",
        f"… bisecting: {verify} on the merge up to two", "✓ verify passed on the merge up to two in Ns",
        f"✗ {verify} failed: adding three breaks it",
    ], err
    assert "error: verify `echo checking; test ! -f three.txt` failed on the merged result" in err


def test_the_engine_tells_a_failing_verify_to_its_subscribers_before_it_raises(
        repo_factory: RepoFactory) -> None:
    repo = repo_factory(BASE)
    for name in ("one", "two"):
        branch(repo, name, {f"{name}.txt": f"{name}\n"})
    engine = build_engine(repo, inline=True)
    heard: list[rev.Event] = []
    engine.subscribe(heard.append)
    with pytest.raises(VerifyFailed):
        run_inline(engine.merge(Which(names=("one", "two")), verify="echo broken by one; test ! -f one.txt"))
    assert [_said(e) for e in heard][4:] == [
        ("verify_started", "two", "result"), ("verify_finished", "two", "exit 1: broken by one"),
        ("verify_started", "one", "bisect"), ("verify_finished", "one", "exit 1: broken by one"),
        ("verify_started", "", "bisect"), ("verify_finished", "", "ok"),  # the target itself passes
        ("verify_blamed", "one", "broken by one")]


def _plain(line: str) -> str:
    """A progress line without what varies between runs (shas, seconds)."""
    return re.sub(r"\b[0-9a-f]{10}\b", "SHA", re.sub(r"\b\d+\.\d+s\b", "Ns", line))


def test_progress_lines_round_trip_through_the_journal_shape(tmp_path: Path) -> None:
    """A journaled progress event comes back as the dataclass a live subscriber saw."""
    from engine.core.jsonio import to_jsonable  # noqa: PLC0415

    for event in (rev.MergeStepFinished(run_id="r", target="main", branch="b", index=1, total=2, commit="",
                                        seconds=0.1, files=("x.py",)),
                  rev.VerifyFinished(run_id="r", command="make test", commit="c", upto="b", ok=False,
                                     exit_code=2, seconds=1.0, tail="E fail", bisect=True),
                  rev.VerifyBlamed(run_id="r", command="make test", branch="b", tail="E fail")):
        payload = to_jsonable(event)
        assert isinstance(payload, dict)
        assert rev.run_event(event.kind, payload) == event


@pytest.mark.tmux
def test_a_listener_that_fails_after_the_move_does_not_skip_the_bookkeeping(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The target has moved when MergeMoved is told: a listener that fails then (a closed pipe,
    `merge | head`) must still leave the merge recorded and the merged branches cleaned up."""
    repo = repo_factory(FILES)
    run_id, engine = _finished_run(capsys, repo)

    def closed_pipe(event: rev.Event) -> None:
        if isinstance(event, rev.MergeMoved):
            raise BrokenPipeError

    engine.subscribe(closed_pipe)
    with pytest.raises(BrokenPipeError):
        run_inline(engine.merge(Which()))
    assert not git(repo, "branch", "--list", "parallel/*").strip(), "the merged branches were cleaned up"
    with open_journal() as journal:
        (merged,) = journal.merges(run_id)
    assert set(merged.branches) == {"parallel/a", "parallel/b"}
