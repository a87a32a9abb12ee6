"""The live overlap radar's cost: no git call when nothing changed, git only for what did.

Real git repositories and worktrees, a real journal; the git calls are counted through the
`engine.hosts` seam (a Host that runs them on this machine and counts them).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from engine.core import events as rev
from engine.hosts.host import LOCAL, Completed
from engine.run.journal import RunRecord, SessionRecord, open_journal
from engine.run.radar import Radar, Watch, overlap
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES


class CountingHost:
    """This machine, counting each git command it runs."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        self.calls.append(list(argv))
        return LOCAL.run(argv, cwd=cwd, env=env, timeout=timeout)

    def which(self, program: str) -> str | None:
        return LOCAL.which(program)

    def signal(self, pid: int, sig: int, *, group: bool = False) -> bool:
        return LOCAL.signal(pid, sig, group=group)

    def alive(self, pid: int) -> bool:
        return LOCAL.alive(pid)


def _run(repo: Path, names: Sequence[str]) -> tuple[RunRecord, list[Path]]:
    base = git(repo, "rev-parse", "HEAD").strip()
    run = RunRecord(id="radar-run", repo=str(repo), base_sha=base, base_ref="main", agent="demo",
                    tmux_socket="", tmux_session="", task="t", created_at=time.time(), pid=0)
    trees = []
    records = []
    for name in names:
        tree = repo.parent / f"{repo.name}.wt" / name
        git(repo, "worktree", "add", "-q", "-b", f"parallel/{name}", str(tree), base)
        trees.append(tree)
        records.append(SessionRecord(run_id=run.id, slug=name, name=name, branch=f"parallel/{name}",
                                     worktree=str(tree), window_name=name, agent="demo", owned=(),
                                     phase="started", prompt_file="", hook_file="", stream_file=""))
    with open_journal() as journal:
        journal.add_run_with_sessions(run, records)
    return run, trees


@pytest.mark.parametrize("watched", [True, False], ids=["inotify", "walk"])
def test_the_radar_runs_no_git_when_nothing_changed(repo_factory: RepoFactory, watched: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    if not watched:
        monkeypatch.setattr(Watch, "open", classmethod(lambda _cls, _root, _skip: None))
    repo = repo_factory({**FILES, ".gitignore": "build/\n"})
    run, trees = _run(repo, ["a", "b", "c"])
    (trees[0] / "build").mkdir()
    (trees[0] / "build" / "out.o").write_text("ignored\n")
    host, seen = CountingHost(), []
    with open_journal() as journal:
        radar = Radar(journal, run, seen.append, every_s=5.0, host=host)
        radar.look()
        assert host.calls, "the first look snapshots every worktree"
        host.calls.clear()
        radar.look()
        assert host.calls == [], "nothing changed: not one git call"
        (trees[0] / "build" / "out.o").write_text("still ignored\n")
        radar.look()
        assert host.calls == [], "a change in an ignored folder is not a change"

        (trees[1] / "src" / "b.py").write_text("B = 2\n")
        radar.look()
        touched = {call[2] for call in host.calls}
        assert touched == {str(trees[1])}, "only the changed worktree is snapshotted again"
        assert not any("merge-tree" in call for call in host.calls), "b alone changed src/b.py"
    assert seen == []


@pytest.mark.parametrize("watched", [True, False], ids=["inotify", "walk"])
def test_each_snapshot_follows_what_changed(repo_factory: RepoFactory, watched: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if not watched:
        monkeypatch.setattr(Watch, "open", classmethod(lambda _cls, _root, _skip: None))
    repo = repo_factory(FILES)
    run, trees = _run(repo, ["a", "b"])
    host = CountingHost()
    with open_journal() as journal:
        radar = Radar(journal, run, lambda _e: None, every_s=5.0, host=host)
        radar.look()
        (trees[1] / "src" / "b.py").write_text("B = 2\n")  # same size, same second: racy-clean
        radar.look()
        assert radar.seen["b"].changed == {"src/b.py"}
        (trees[1] / "src" / "new").mkdir()
        (trees[1] / "src" / "new" / "x.py").write_text("X = 1\n")
        radar.look()
        assert radar.seen["b"].changed == {"src/b.py", "src/new/x.py"}, "a new folder is seen"
        (trees[1] / "src" / "new" / "x.py").write_text("X = 2\n")
        radar.look()
        assert git(repo, "cat-file", "-p", f"{radar.seen['b'].tree}:src/new/x.py") == "X = 2\n"
        (trees[1] / "src" / "new" / "x.py").unlink()
        radar.look()
        assert radar.seen["b"].changed == {"src/b.py"}, "and its removal"
        host.calls.clear()
        (trees[1] / "top.txt").write_text("a file at the top\n")
        (trees[1] / "newdir" / "deep").mkdir(parents=True)
        (trees[1] / "newdir" / "deep" / "y.py").write_text("Y = 1\n")
        radar.look()
        assert radar.seen["b"].changed == {"src/b.py", "top.txt", "newdir/deep/y.py"}
        if watched:
            [add] = [c for c in host.calls if "add" in c]
            assert "--" in add, "only what changed is added again, not the whole worktree"
        shutil.rmtree(trees[1] / "newdir")
        radar.look()
        assert radar.seen["b"].changed == {"src/b.py", "top.txt"}


def test_a_conflict_is_flagged_cached_and_cleared(repo_factory: RepoFactory) -> None:
    repo = repo_factory(FILES)
    run, trees = _run(repo, ["a", "b"])
    host, seen = CountingHost(), []
    with open_journal() as journal:
        radar = Radar(journal, run, seen.append, every_s=5.0, host=host)
        for tree, text in zip(trees, ("one side\n", "the other\n"), strict=True):
            (tree / "README.md").write_text(text)
        radar.look()
        assert seen == [rev.OverlapConflict(run_id=run.id, sessions=("a", "b"), files=("README.md",))]
        merges = sum("merge-tree" in call for call in host.calls)
        (trees[0] / "notes.txt").write_text("new, but the README is as it was\n")
        (trees[0] / "notes.txt").unlink()
        radar.look()
        assert sum("merge-tree" in call for call in host.calls) == merges, "same trees: cached"
        (trees[1] / "README.md").write_text("# demo\n")
        radar.look()
        assert seen[-1] == rev.OverlapConflict(run_id=run.id, sessions=("a", "b"), files=())
        for tree in trees:
            assert git(tree, "diff", "--cached", "--name-only") == "", "its index is never touched"


def test_overlap_counts_a_file_against_a_folder() -> None:
    assert overlap(frozenset({"src/a.py"}), frozenset({"src/a.py", "x"}))
    assert overlap(frozenset({"src"}), frozenset({"src/a.py"}))
    assert not overlap(frozenset({"src/a.py"}), frozenset({"src/b.py"}))
