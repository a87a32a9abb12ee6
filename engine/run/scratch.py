"""Verify's throwaway worktrees: made in a temp dir with a note of who owns them, always
removed on the way out, and, when their owner was killed (SIGKILL leaves no way out),
found and removed by the next `merge`, `check` or `cleanup`.

A scratch worktree is a detached checkout of a merge commit no ref points at: nothing of
the user's is ever in it, so a leftover whose owner is gone is removed without asking,
after its command's process group (if it still runs there) is ended. Local by nature (a temp
dir, `/proc`, process groups of this machine): the repo's own host, `LOCAL`, never a session's.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.hosts.gitcli import git, worktree_records
from engine.hosts.host import LOCAL

PREFIX = "parallel-tui-verify-"
OWNER = "owner.json"


@contextmanager
def scratch_worktree(repo: Path, commit: str) -> Iterator[Path]:
    """A detached worktree of `commit` in a temp dir, removed and pruned on the way out."""
    import tempfile  # noqa: PLC0415 - `check` prunes scratch worktrees, never makes one

    holder = Path(tempfile.mkdtemp(prefix=PREFIX))
    path = holder / "tree"
    note(path, pgid=0)
    try:
        git(repo, "worktree", "add", "-q", "--detach", str(path), commit)
        yield path
    finally:
        _remove(repo, path)


def note(tree: Path, *, pgid: int) -> None:
    """Record this process (and the command's group, once started) beside the tree."""
    (tree.parent / OWNER).write_text(json.dumps({"pid": os.getpid(), "pgid": pgid}), encoding="utf-8")


def prune_scratch(repo: Path) -> list[str]:
    """Remove the scratch worktrees of verifies whose process is gone; the paths removed."""
    gone = []
    for record in worktree_records(repo, host=LOCAL):  # a temp dir of this machine, beside the repo
        path = record.get("worktree", "")
        tree = Path(path)
        if tree.name != "tree" or not tree.parent.name.startswith(PREFIX):
            continue
        owner = _owner(tree)
        if owner.get("pid") and LOCAL.alive(owner["pid"]):
            continue  # a verify still at work (this process's, or another merge's)
        if owner.get("pgid") and _group_works_in(owner["pgid"], tree):
            from engine.hosts.grouped import end_group  # noqa: PLC0415 - tempfile: a killed verify's leftover only

            end_group(owner["pgid"])
        _remove(repo, tree)
        gone.append(path)
    return gone


def _owner(tree: Path) -> dict[str, int]:
    try:
        data = json.loads((tree.parent / OWNER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no note (its temp dir was emptied, or an older version made it): stale
    return {k: v for k, v in data.items() if isinstance(v, int) and v > 0} if isinstance(data, dict) else {}


def _group_works_in(pgid: int, tree: Path) -> bool:
    """Whether a process of group `pgid` still has its working directory in `tree` (checked
    through /proc, so a group id reused by someone else is never signalled; no /proc: no)."""
    root = os.path.realpath(tree)
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text(encoding="utf-8")
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            cwd = str((entry / "cwd").readlink())
        except (OSError, ValueError, IndexError):
            continue
        if cwd == root or cwd.startswith(root + os.sep):
            return True
    return False


def _remove(repo: Path, tree: Path) -> None:
    git(repo, "worktree", "remove", "--force", str(tree), ok_codes=(0, 128))
    git(repo, "worktree", "prune")
    shutil.rmtree(tree.parent, ignore_errors=True)
