"""The live overlap radar: do two live sessions' current work (uncommitted included) conflict?

Why it is built this way: the supervisor looks every `radar_every_s` for as long as the run
lasts, so a look must cost next to nothing when nobody changed anything (the usual case).
Each worktree gets a stamp read from the file system alone (its HEAD and ref, and how many
looks found a change under it, ignored folders left out; its index does not matter: a
snapshot takes every file as it is on disk): an unchanged stamp means no git call at all.
A changed worktree is snapshotted as a tree (`add -A` into a *copy* of its own index, so
only modified files are hashed, and later only the paths the watch saw change; the
worktree's index, HEAD and refs are never touched), and only pairs whose changed files
overlap are asked `git merge-tree`, each result cached per pair of snapshots. Every git call
goes through the `engine.hosts` seam.

The changes come from `watchfiles` (the Rust `notify` crate: inotify on Linux, FSEvents on
macOS), one watcher (and thread) per live worktree, read at each look (a millisecond's
wait). It watches the whole tree, git-ignored folders (node_modules, .venv) too, and the
radar drops their events (an ignored folder made later joins them once a snapshot met it):
the price is a kernel watch per ignored folder (the user's limit is shared with every other
watcher) and a wake-up of notify's thread per event in them.
Where a watch cannot be had or breaks (no inotify, the watch limit reached at the start,
notify's error, a path that is not UTF-8) that worktree is walked at every look instead
(its newest change time), never a crash. notify drains the kernel's queue on its own thread
as events come, so it does not overflow between looks as a queue read every 5 s could; if it
ever did, or if the limit were reached for a folder made later (notify 8.0 drops both
silently; 8.2 reports the limit, which breaks the watch), a change there would be seen with
the next change to that path, not before.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

from engine.core import events as rev
from engine.core.errors import GitError
from engine.hosts.gitcli import run_git
from engine.hosts.host import Host
from engine.hosts.registry import LOCAL_NAME
from engine.run.journal import Journal, RunRecord, SessionRecord

if TYPE_CHECKING:
    from watchfiles._rust_notify import RustNotify

_IDENTITY = {"GIT_AUTHOR_NAME": "parallel-tui", "GIT_COMMITTER_NAME": "parallel-tui",
             "GIT_AUTHOR_EMAIL": "radar@parallel-tui.invalid",
             "GIT_COMMITTER_EMAIL": "radar@parallel-tui.invalid",
             "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z"}
"""A fixed identity and date: the same tree on the same HEAD is the same commit, so the
merge-tree cache keeps working across looks."""

Stamp = tuple[object, ...]


@dataclass(slots=True)
class Snapshot:
    """One worktree as the radar last saw it."""

    worktree: Path
    stamp: Stamp
    head: Stamp
    tree: str
    changed: frozenset[str]
    """Paths that differ from the run's base (the snapshot against `base_sha`)."""
    commit: str = ""
    """Made only when a pair needs `merge-tree` (lazily)."""


def git_dirs(worktree: Path) -> tuple[Path, Path]:
    """(its git dir, the common git dir), from the `.git` file of a linked worktree."""
    dot = worktree / ".git"
    if dot.is_dir():
        return dot, dot
    text = dot.read_text(encoding="utf-8").strip()
    gitdir = Path(text.removeprefix("gitdir:").strip())
    gitdir = gitdir if gitdir.is_absolute() else (worktree / gitdir).resolve()
    common = gitdir
    with contextlib.suppress(OSError):
        common = (gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()).resolve()
    return gitdir, common


def _stat(path: Path) -> tuple[int, int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, 0, 0)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def head_stamp(worktree: Path) -> Stamp:
    """What HEAD is, read from files: HEAD's text, its ref file and packed-refs (their stat)."""
    gitdir, common = git_dirs(worktree)
    head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
    ref = head.removeprefix("ref:").strip() if head.startswith("ref:") else ""
    return (head, _stat(common / ref) if ref else (), _stat(common / "packed-refs"))


def tree_stamp(worktree: Path, skip: frozenset[str]) -> Stamp:
    """Entries, newest change time (ctime: no tool sets it back) and total size under the
    worktree, `.git` and the `skip` folders (relative, ignored by git) left out."""
    count = newest = total = 0
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(worktree / rel if rel else worktree) as entries:
            for entry in entries:
                path = f"{rel}/{entry.name}" if rel else entry.name
                if entry.name == ".git" or path in skip:
                    continue
                st = entry.stat(follow_symlinks=False)
                count, newest, total = count + 1, max(newest, st.st_ctime_ns), total + st.st_size
                if entry.is_dir(follow_symlinks=False):
                    stack.append(path)
    return (count, newest, total)


_STEP_MS, _TIMEOUT_MS, _DEBOUNCE_MS = 1, 1, 5
"""A read of the watcher sleeps one step (GIL released), then returns what queued up, after
one more step (or up to the debounce while events keep coming), or "timeout" when nothing
did: ~1 ms idle, ~2 ms with changes."""


class Watch:
    """watchfiles on one worktree (Linux inotify, macOS FSEvents, through Rust `notify`): a
    look reads what queued up since the last one, so an idle worktree costs no walk at all.
    `changes` counts the reads that found a change git could see, `touched` names the paths
    (relative); None from `open` where there is no watcher to be had, and `broken` once it
    fails (the radar walks that worktree instead)."""

    def __init__(self, notify: RustNotify, root: Path, skip: frozenset[str]) -> None:
        self.notify, self.root, self.skip = notify, root, skip
        self.prefix = f"{root}/"
        self.changes = 0
        self.touched: set[str] = set()
        """Files and folders (relative) with changes not yet snapshotted."""
        self.broken = False

    @classmethod
    def open(cls, root: Path, skip: frozenset[str]) -> Watch | None:
        try:
            from watchfiles._rust_notify import RustNotify  # noqa: PLC0415 - the supervisor's radar alone
            notify = RustNotify([str(root)], False, False, 0, True, False)
        except (ImportError, OSError, RuntimeError):  # none here, the watch limit, notify's error
            return None
        return cls(notify, root, skip)

    def poll(self) -> int:
        """Read what queued up; `changes` goes up by one if git could see any of it, and
        `touched` names where. A watcher that fails, or lost its events to a signal (only in
        the main thread; the supervisor looks from a worker), marks the watch `broken`."""
        if self.broken:
            return self.changes
        try:
            raw = self.notify.watch(_DEBOUNCE_MS, _STEP_MS, _TIMEOUT_MS, None)
        except RuntimeError:  # WatchfilesRustInternalError (notify's error), or closed
            raw = "stop"
        if isinstance(raw, set):
            seen = {rel for _change, path in raw if (rel := self._relative(path)) is not None}
            self.touched |= seen
            self.changes += bool(seen)
        else:
            self.broken = raw != "timeout"
        return self.changes

    def _relative(self, path: str) -> str | None:
        """`path` relative to the root ("" for the root itself), None where git does not look:
        `.git` and the ignored folders."""
        if path == str(self.root):
            return ""
        if not path.startswith(self.prefix):
            return None
        parts = path[len(self.prefix):].split("/")
        if ".git" in parts:
            return None
        if any("/".join(parts[:i]) in self.skip for i in range(1, len(parts) + 1)):
            return None
        return "/".join(parts)

    def close(self) -> None:
        """Ends notify's thread and its kernel watches."""
        self.notify.close()


def _spec(worktree: Path, path: str) -> str:
    """The pathspec that adds `path` again: itself while it exists; else its folder (a file
    that came and went, or a deleted one, must match something), the root's files by a
    one-level glob (no walk of the whole worktree)."""
    if path and os.path.lexists(worktree / path):
        return f":(top,literal){path}"
    parent = path.rpartition("/")[0]
    return f":(top,literal){parent}" if parent else ":(top,glob)*"


def overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    """Could merging these two change sets conflict: a path on both sides, or a path on one
    side that is a folder of a path on the other (file/directory conflicts)."""
    if a & b:
        return True
    return bool(a & _folders(b)) or bool(b & _folders(a))


def _parents(path: str) -> set[str]:
    return _folders((path,))


def _folders(paths: Iterable[str]) -> set[str]:
    return {p.rsplit("/", i)[0] for p in paths for i in range(1, p.count("/") + 1)}


class Radar:
    """Every `every_s`, snapshot each live session whose stamp changed and ask `git merge-tree`
    whether each overlapping pair still merges; an OverlapConflict event when a pair starts
    conflicting, and one with no files when it stops (or one of the two is gone)."""

    def __init__(self, journal: Journal, run: RunRecord, emit: rev.EmitRun, every_s: float,
                 host: Host) -> None:
        self.journal, self.run, self.emit, self.every_s, self.host = journal, run, emit, every_s, host
        self.pairs: dict[tuple[str, str], tuple[str, ...]] = {}
        self.looked = 0.0
        self.seen: dict[str, Snapshot] = {}
        self.ignored: dict[str, frozenset[str]] = {}
        self.watches: dict[str, Watch | None] = {}
        self.fresh: set[str] = set()
        """Sessions whose temporary index holds their last snapshot (only changed folders are
        added again)."""
        self.merged: dict[tuple[str, str], tuple[str, ...]] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="ptui-radar-")
        self.closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End every watch (notify's threads) and drop the temporary indexes; a look still
        running in a worker thread opens no new watch."""
        self.closed = True
        for name in list(self.ignored):
            self._forget(name)
        self._tmp.cleanup()

    def _forget(self, name: str) -> None:
        """A session that ended, or whose worktree went: its watch ends with it."""
        if watch := self.watches.pop(name, None):
            watch.close()
        self.ignored.pop(name, None)
        self.fresh.discard(name)

    def __call__(self) -> None:
        if not self.every_s or time.monotonic() - self.looked < self.every_s:
            return
        self.looked = time.monotonic()
        self.look()

    def look(self) -> None:
        """One look, whatever the clock says."""
        if self.closed:
            return
        live = [r for r in self.journal.sessions(self.run.id)  # worktrees here only: not an SSH host's
                if r.phase == "started" and r.host in ("", LOCAL_NAME) and Path(r.worktree).is_dir()]
        changed = False
        for record in live:
            changed |= self._refresh(record)
        names = {r.name for r in live}
        gone = set(self.seen) - names
        for name in (set(self.seen) | set(self.ignored)) - names:
            self.seen.pop(name, None)
            self._forget(name)
        if not changed and not gone:
            return
        for pair in itertools.combinations(sorted(self.seen), 2):
            self._note(pair, self._conflicts(*pair))
        for pair in [p for p in self.pairs if set(p) & gone]:
            self._note(pair, ())

    def _note(self, pair: tuple[str, str], files: tuple[str, ...]) -> None:
        if files != self.pairs.get(pair, ()):
            self.emit(rev.OverlapConflict(run_id=self.run.id, sessions=pair, files=files))
        if files:
            self.pairs[pair] = files
        else:
            self.pairs.pop(pair, None)

    def _refresh(self, record: SessionRecord) -> bool:
        """Snapshot the worktree again if its stamp changed; True if its snapshot did."""
        worktree = Path(record.worktree)
        try:
            head = head_stamp(worktree)
            stamp = (head, self._tree_stamp(record.name, worktree))
        except (OSError, GitError):
            return False  # being removed, or half made: next look
        old = self.seen.get(record.name)
        if old is not None and old.stamp == stamp:
            return False
        watch = self.watches.get(record.name)
        since = set(watch.touched) if watch is not None and record.name in self.fresh else None
        tree = self._write_tree(record, since)
        if tree is None:
            self.fresh.discard(record.name)
            return False
        self.fresh.add(record.name)
        if watch is not None:
            watch.touched.clear()
        if old is not None and old.tree == tree and old.head == head:
            old.stamp = stamp
            return False
        changed = self._git(worktree, "diff-tree", "-r", "--name-only", "-z", self.run.base_sha, tree)
        self.seen[record.name] = Snapshot(worktree=worktree, stamp=stamp, head=head, tree=tree,
                                          changed=frozenset(p for p in (changed or "").split("\0") if p))
        return True

    def _tree_stamp(self, name: str, worktree: Path) -> Stamp:
        """The watch's count of changes (opened at the first look, before the snapshot: no
        change is missed), or a walk where there is no watch."""
        if name not in self.ignored:
            self.ignored[name] = self._ignored_folders(worktree)
            self.watches[name] = Watch.open(worktree, self.ignored[name])
        watch = self.watches.get(name)
        if watch is not None:
            stamp = watch.poll()
            if not watch.broken:
                return ("watch", stamp)
            watch.close()
            self.watches[name] = None
            self.fresh.discard(name)
        return tree_stamp(worktree, self.ignored[name])

    def _ignored_folders(self, worktree: Path) -> frozenset[str]:
        """Folders git ignores (node_modules, .venv): never part of a snapshot, so not walked."""
        out = self._git(worktree, "ls-files", "-z", "--others", "--ignored", "--exclude-standard",
                        "--directory")
        return frozenset(p.rstrip("/") for p in (out or "").split("\0") if p.endswith("/"))

    def _write_tree(self, record: SessionRecord, since: set[str] | None) -> str | None:
        """The worktree's tree now, untracked files included, built in a temporary index: a
        copy of its own index (stat data: only modified files are hashed) the first time, then
        the last snapshot's index with only the paths changed `since` added again."""
        worktree = Path(record.worktree)
        index = Path(self._tmp.name) / f"{record.slug}.index"
        env = {"GIT_INDEX_FILE": str(index), "GIT_LITERAL_PATHSPECS": "0"}
        if since is not None and index.exists() and self._add_changed(record, since, env):
            tree = self._git(worktree, "write-tree", env=env)
            return tree.strip() if tree else None
        try:
            shutil.copy2(git_dirs(worktree)[0] / "index", index)  # its mtime too: git's racy-clean check
        except OSError:
            index.unlink(missing_ok=True)
            if self._git(worktree, "read-tree", "HEAD", index=index) is None:
                return None
        if self._git(worktree, "add", "-A", env=env) is None:
            return None
        tree = self._git(worktree, "write-tree", env=env)
        return tree.strip() if tree else None

    def _add_changed(self, record: SessionRecord, since: set[str], env: dict[str, str]) -> bool:
        """Add the paths changed `since` to the temporary index; False if that failed (the
        caller adds the whole worktree then). `add` refuses a path git ignores when it is
        named (a `.pyc`, a new `__pycache__/`), though it adds the rest: only then, one
        `ls-files --ignored` names them, they are left out, and a new ignored folder joins the
        watch's skipped ones, so neither costs a whole-worktree `add -A`."""
        worktree = Path(record.worktree)
        specs = sorted({_spec(worktree, p) for p in since})
        if not specs or self._git(worktree, "add", "-A", "--", *specs, env=env) is not None:
            return True
        out = self._git(worktree, "ls-files", "-z", "--others", "--ignored", "--exclude-standard",
                        "--directory", "--", *specs, env=env)
        listed = [p for p in (out or "").split("\0") if p]
        ignored = {p.rstrip("/") for p in listed}
        kept = {p for p in since if not ({p} | _parents(p)) & ignored}
        if kept == since:
            return False
        self._skip(record.name, frozenset(p.rstrip("/") for p in listed if p.endswith("/")))
        specs = sorted({_spec(worktree, p) for p in kept})
        return not specs or self._git(worktree, "add", "-A", "--", *specs, env=env) is not None

    def _skip(self, name: str, folders: frozenset[str]) -> None:
        """Folders git ignores whole, found after the first look: watched no more (nor walked)."""
        if folders:
            self.ignored[name] = self.ignored.get(name, frozenset()) | folders
            if watch := self.watches.get(name):
                watch.skip = watch.skip | folders

    def _conflicts(self, a: str, b: str) -> tuple[str, ...]:
        """The files `git merge-tree` says the two snapshots conflict in (() when they merge
        cleanly, or change no file in common): cached per pair of snapshots."""
        ours, theirs = self.seen[a], self.seen[b]
        if not overlap(ours.changed, theirs.changed):
            return ()
        key = (self._commit(ours), self._commit(theirs))
        if key not in self.merged:
            proc = run_git(Path(self.run.repo), "merge-tree", "--write-tree", "--name-only", "--no-messages",
                           *key, host=self.host)
            lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()[1:]
            self.merged[key] = tuple(line for line in lines if line) if proc.returncode == 1 else ()
        return self.merged[key]

    def _commit(self, snap: Snapshot) -> str:
        if not snap.commit:
            out = self._git(snap.worktree, "commit-tree", snap.tree, "-p", "HEAD", "-m",
                            "parallel-tui radar", env=_IDENTITY)
            snap.commit = (out or "").strip() or snap.tree
        return snap.commit

    def _git(self, worktree: Path, *args: str, env: dict[str, str] | None = None,
             index: Path | None = None) -> str | None:
        """stdout of a git call that may fail (a worktree being removed): None then."""
        extra = {**(env or {}), **({"GIT_INDEX_FILE": str(index)} if index else {})}
        try:
            proc = run_git(worktree, *args, env=extra or None, host=self.host)
        except GitError:
            return None
        return proc.stdout.decode("utf-8", "surrogateescape") if proc.returncode == 0 else None
