"""The live overlap radar's cost: no git call when nothing changed, git only for what did.

Real git repositories and worktrees, a real journal, real watchfiles watchers; the git calls
are counted through the `engine.hosts` seam (a Host that runs them on this machine and counts
them). Each test runs twice: watched, and walked (as where no watch can be had).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from engine.core import events as rev
from engine.hosts.host import LOCAL, Completed
from engine.run import radar as radar_module
from engine.run.journal import RunRecord, SessionRecord, open_journal
from engine.run.radar import Radar, Watch, overlap
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES
from tests.test_import_hygiene import loaded_after


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


WATCHED = pytest.mark.parametrize("watched", [True, False], ids=["watch", "walk"])


def _mode(watched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Walked: no watch to be had. Watched: a look must never walk a folder."""
    if not watched:
        monkeypatch.setattr(Watch, "open", classmethod(lambda _cls, _root, _skip: None))
        return

    def no_walk(*_args: object) -> object:
        raise AssertionError("a watched worktree is never walked")
    monkeypatch.setattr(radar_module, "tree_stamp", no_walk)


def _look(radar: Radar, until: Callable[[], object]) -> None:
    """Look until `until()` holds: notify reads the kernel's queue on its own thread, so a
    change made a moment ago may reach the watch only at the next look (5 s later in a run)."""
    deadline = time.monotonic() + 10
    radar.look()
    while not until():
        assert time.monotonic() < deadline, "the radar never saw the change"
        time.sleep(0.02)
        radar.look()


def _control(radar: Radar, name: str, tracked: Path) -> None:
    """Change a tracked file after an ignored one and wait until the watch has it: events come
    in order, so the ignored change has arrived too by then; `touched` must be that file
    alone. Then look, so the next check starts from a snapshot with it."""
    watch = radar.watches[name]
    assert watch is not None
    rel = tracked.relative_to(watch.root).as_posix()
    tracked.write_text(tracked.read_text() + "# control\n")
    deadline = time.monotonic() + 10
    while rel not in watch.touched:
        assert time.monotonic() < deadline, "the watch never saw the tracked change"
        time.sleep(0.02)
        watch.poll()
    assert watch.touched == {rel}, watch.touched
    _look(radar, until=lambda: rel in radar.seen[name].changed)


def _threads() -> int:
    return sum(1 for _ in Path("/proc/self/task").iterdir())


@WATCHED
def test_the_radar_runs_no_git_when_nothing_changed(repo_factory: RepoFactory, watched: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _mode(watched, monkeypatch)
    repo = repo_factory({**FILES, ".gitignore": "build/\n"})
    run, trees = _run(repo, ["a", "b", "c"])
    (trees[0] / "build").mkdir()
    (trees[0] / "build" / "out.o").write_text("ignored\n")
    host, seen = CountingHost(), []
    with open_journal() as journal, Radar(journal, run, seen.append, every_s=5.0, host=host) as radar:
        radar.look()
        assert host.calls, "the first look snapshots every worktree"
        assert all(radar.watches.values()) is watched
        host.calls.clear()
        radar.look()
        assert host.calls == [], "nothing changed: not one git call"
        (trees[0] / "build" / "out.o").write_text("still ignored\n")
        time.sleep(0.1)
        radar.look()
        assert host.calls == [], "a change in an ignored folder is not a change"
        if watched:  # a positive control: the watch did see the ignored write, and dropped it
            _control(radar, "a", trees[0] / "src" / "a.py")
            host.calls.clear()

        (trees[1] / "src" / "b.py").write_text("B = 2\n")
        _look(radar, until=lambda: host.calls)
        touched = {call[2] for call in host.calls}
        assert touched == {str(trees[1])}, "only the changed worktree is snapshotted again"
        assert not any("merge-tree" in call for call in host.calls), "b alone changed src/b.py"
    assert seen == []


@WATCHED
def test_each_snapshot_follows_what_changed(repo_factory: RepoFactory, watched: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _mode(watched, monkeypatch)
    repo = repo_factory(FILES)
    run, trees = _run(repo, ["a", "b"])
    host = CountingHost()
    with open_journal() as journal, Radar(journal, run, lambda _e: None, every_s=5.0, host=host) as radar:
        radar.look()

        def changed(*paths: str) -> Callable[[], bool]:
            return lambda: radar.seen["b"].changed == set(paths)
        (trees[1] / "src" / "b.py").write_text("B = 2\n")  # same size, same second: racy-clean
        _look(radar, until=changed("src/b.py"))
        (trees[1] / "src" / "new").mkdir()
        (trees[1] / "src" / "new" / "x.py").write_text("X = 1\n")
        _look(radar, until=changed("src/b.py", "src/new/x.py"))  # a new folder is seen
        (trees[1] / "src" / "new" / "x.py").write_text("X = 2\n")
        _look(radar, until=lambda: git(repo, "cat-file", "-p", f"{radar.seen['b'].tree}:src/new/x.py")
              == "X = 2\n")  # and a change in it
        (trees[1] / "src" / "new" / "x.py").unlink()
        _look(radar, until=changed("src/b.py"))  # and its removal
        host.calls.clear()
        (trees[1] / "top.txt").write_text("a file at the top\n")
        (trees[1] / "newdir" / "deep").mkdir(parents=True)
        (trees[1] / "newdir" / "deep" / "y.py").write_text("Y = 1\n")
        _look(radar, until=changed("src/b.py", "top.txt", "newdir/deep/y.py"))
        if watched:
            adds = [c for c in host.calls if "add" in c]
            assert adds and all("--" in add for add in adds), "only what changed is added again"
        shutil.rmtree(trees[1] / "newdir")
        _look(radar, until=changed("src/b.py", "top.txt"))


def test_a_changed_ignored_file_or_new_ignored_folder_costs_no_full_add(
        repo_factory: RepoFactory) -> None:
    """`git add -A -- x.pyc` refuses an ignored path it is given by name: the radar asks
    `ls-files --ignored`, leaves those out and adds the rest, never the whole worktree again;
    a new ignored folder is watched no more."""
    repo = repo_factory({**FILES, ".gitignore": "*.pyc\n__pycache__/\n"})
    run, trees = _run(repo, ["a"])
    tree = trees[0]
    host = CountingHost()
    with open_journal() as journal, Radar(journal, run, lambda _e: None, every_s=5.0, host=host) as radar:
        radar.look()
        assert radar.watches["a"] is not None
        (tree / "src" / "b.py").write_text("B = 2\n")
        _look(radar, until=lambda: radar.seen["a"].changed == {"src/b.py"})
        host.calls.clear()
        (tree / "src" / "x.pyc").write_bytes(b"compiled\n")
        (tree / "src" / "__pycache__").mkdir()
        (tree / "src" / "__pycache__" / "b.pyc").write_bytes(b"compiled\n")
        (tree / "src" / "c.py").write_text("C = 1\n")
        _look(radar, until=lambda: radar.seen["a"].changed == {"src/b.py", "src/c.py"})
        adds = [c for c in host.calls if "add" in c]
        assert adds and all("--" in add for add in adds), [c[3:] for c in host.calls]
        assert any("ls-files" in c for c in host.calls), "the ignored paths were named"
        files = git(repo, "ls-tree", "-r", "--name-only", radar.seen["a"].tree).split()
        assert "src/c.py" in files and not [f for f in files if f.endswith(".pyc")], files
        assert "src/__pycache__" in radar.ignored["a"], "the new ignored folder is skipped"
        host.calls.clear()
        (tree / "src" / "__pycache__" / "c.pyc").write_bytes(b"compiled\n")
        _control(radar, "a", tree / "src" / "c.py")
        assert not any("ls-files" in c for c in host.calls), "its events no longer reach the radar"
        assert all("--" in c for c in host.calls if "add" in c)


def test_a_conflict_is_flagged_cached_and_cleared(repo_factory: RepoFactory) -> None:
    repo = repo_factory(FILES)
    run, trees = _run(repo, ["a", "b"])
    host, seen = CountingHost(), []
    with open_journal() as journal, Radar(journal, run, seen.append, every_s=5.0, host=host) as radar:
        for tree, text in zip(trees, ("one side\n", "the other\n"), strict=True):
            (tree / "README.md").write_text(text)
        radar.look()
        assert seen == [rev.OverlapConflict(run_id=run.id, sessions=("a", "b"), files=("README.md",))]
        merges, before = sum("merge-tree" in call for call in host.calls), len(host.calls)
        (trees[0] / "notes.txt").write_text("new, but the README is as it was\n")
        (trees[0] / "notes.txt").unlink()
        _look(radar, until=lambda: any("write-tree" in call for call in host.calls[before:]))
        assert sum("merge-tree" in call for call in host.calls) == merges, "same trees: cached"
        (trees[1] / "README.md").write_text("# demo\n")
        _look(radar, until=lambda: len(seen) > 1)
        assert seen[-1] == rev.OverlapConflict(run_id=run.id, sessions=("a", "b"), files=())
        for tree in trees:
            assert git(tree, "diff", "--cached", "--name-only") == "", "its index is never touched"


@WATCHED
def test_a_worktree_removed_mid_run_is_let_go(repo_factory: RepoFactory, watched: bool,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _mode(watched, monkeypatch)
    repo = repo_factory(FILES)
    run, trees = _run(repo, ["a", "b", "c"])
    seen: list[rev.OverlapConflict] = []
    with open_journal() as journal, Radar(journal, run, seen.append, every_s=5.0, host=LOCAL) as radar:
        for tree, text in zip(trees, ("one side\n", "the other\n", "a third\n"), strict=True):
            (tree / "README.md").write_text(text)
        radar.look()
        assert len(seen) == 3, seen
        watch = radar.watches["b"]
        git(repo, "worktree", "remove", "--force", str(trees[1]))
        radar.look()
        assert set(radar.seen) == {"a", "c"} and "b" not in radar.watches
        assert {e.sessions for e in seen[3:] if not e.files} == {("a", "b"), ("b", "c")}, "cleared"
        if watch is not None:
            with pytest.raises(RuntimeError, match="closed"):  # its watch ended with it
                watch.notify.watch(1, 1, 1, None)
        shutil.rmtree(trees[2])  # gone under the radar's feet, no `worktree remove`
        (trees[0] / "README.md").write_text("# demo\n")
        _look(radar, until=lambda: radar.seen["a"].changed == set())
        assert set(radar.seen) == {"a"}


def test_a_broken_watch_falls_back_to_walking(repo_factory: RepoFactory) -> None:
    repo = repo_factory(FILES)
    run, trees = _run(repo, ["a", "b"])
    with open_journal() as journal, Radar(journal, run, lambda _e: None, every_s=5.0, host=LOCAL) as radar:
        radar.look()
        watch = radar.watches["b"]
        assert watch is not None
        watch.notify.close()  # as when notify reports an error: watchfiles raises at the next read
        (trees[1] / "src" / "b.py").write_text("B = 2\n")
        radar.look()
        assert radar.watches["b"] is None, "walked from now on"
        assert radar.seen["b"].changed == {"src/b.py"}
        (trees[1] / "src" / "c.py").write_text("C = 3\n")
        radar.look()
        assert radar.seen["b"].changed == {"src/b.py", "src/c.py"}
    assert Watch.open(trees[1] / "missing", frozenset()) is None, "no watch: the radar walks"


def test_a_watch_names_what_git_would_see(tmp_path: Path) -> None:
    for folder in ("src", "node_modules/pkg", ".git", "sub/.git", "sub/build"):
        (tmp_path / folder).mkdir(parents=True)
    watch = Watch.open(tmp_path, frozenset({"node_modules", "sub/build"}))
    assert watch is not None
    try:
        for path in ("node_modules/pkg/x.js", ".git/index", "sub/.git/HEAD", "sub/build/o.o"):
            (tmp_path / path).write_text("ignored\n")
        for _ in range(10):
            watch.poll()
            time.sleep(0.02)
        assert watch.changes == 0 and watch.touched == set(), "ignored folders and .git: no change"
        (tmp_path / "src" / "new").mkdir()
        (tmp_path / "src" / "new" / "x.py").write_text("X = 1\n")
        (tmp_path / "sub" / "kept.txt").write_text("seen\n")
        deadline = time.monotonic() + 5
        while not {"src/new", "sub/kept.txt"} <= watch.touched and time.monotonic() < deadline:
            watch.poll()
        # x.py may come before notify watches the new folder: the folder stands for it (added whole)
        assert watch.touched - {"src/new/x.py"} == {"src/new", "sub/kept.txt"}
        assert watch.changes >= 1 and not watch.broken
    finally:
        watch.close()


def test_the_watches_end_with_the_radar(repo_factory: RepoFactory) -> None:
    repo = repo_factory(FILES)
    run, _trees = _run(repo, ["a", "b", "c"])
    before = _threads()
    with open_journal() as journal, Radar(journal, run, lambda _e: None, every_s=5.0, host=LOCAL) as radar:
        radar.look()
        assert _threads() == before + 3, "one notify thread per live worktree"
    deadline = time.monotonic() + 5
    while _threads() > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _threads() == before, "no thread outlives the radar"


def test_only_the_radar_loads_watchfiles(tmp_path: Path) -> None:
    assert "watchfiles" not in loaded_after("import engine.run.supervisor, engine.cli.main")
    probe = ("from pathlib import Path\nfrom engine.run.radar import Watch\n"
             f"Watch.open(Path({str(tmp_path)!r}), frozenset())")
    assert "watchfiles" in loaded_after(probe), "the probe above would pass if it never loaded"


def test_overlap_counts_a_file_against_a_folder() -> None:
    assert overlap(frozenset({"src/a.py"}), frozenset({"src/a.py", "x"}))
    assert overlap(frozenset({"src"}), frozenset({"src/a.py"}))
    assert not overlap(frozenset({"src/a.py"}), frozenset({"src/b.py"}))
