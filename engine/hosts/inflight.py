"""Git processes a dead run left working in a worktree, waited for (or ended) before anyone
decides what the worktree holds.

A `run` killed with SIGKILL mid-checkout leaves its `git reset --hard` children writing
files for seconds. A cleanup that looks in that window sees "nothing" (the checkout is not
done), removes the folder, and the orphaned git writes it back: a worktree and a branch
left with no work in them. So cleanup and `--resume` first let those processes finish, and
end them when they outlive a bound. Found through `/proc` (a `git` whose working directory
is inside the worktree: `git -C` changes into it); where there is no `/proc`, the
worktree's `index.lock` (held for the whole checkout) is what is waited for. `/proc` is read
on this machine only: on another host the lock is what is waited for.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from engine.hosts.host import Host
from engine.hosts.registry import LOCAL_NAME

SETTLE_S = 10.0
"""How long a dead run's checkout may go on finishing before it is ended: a 5,000-file
checkout takes about half a second (bench/setup.py)."""


def git_processes_in(worktree: Path, host: Host) -> list[int]:
    """Live `git` processes whose working directory is `worktree` or inside it."""
    proc = Path("/proc")
    if host.name != LOCAL_NAME or not proc.is_dir():
        return []
    root = os.path.realpath(worktree)
    found = []
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            if (Path(entry.path) / "comm").read_text(encoding="utf-8").strip() != "git":
                continue
            cwd = str((Path(entry.path) / "cwd").readlink())
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if cwd == root or cwd.startswith(root + os.sep):
            found.append(int(entry.name))
    return found


def busy(worktree: Path, gitdir: Path | None, host: Host) -> bool:
    """Whether a git may be at work in `worktree` right now: its index is locked."""
    return gitdir is not None and host.exists(gitdir / "index.lock")


def settle(worktree: Path, gitdir: Path | None, wait_s: float = SETTLE_S, *, host: Host) -> None:
    """Wait until no git works in `worktree`; past `wait_s`, end the ones left (SIGTERM:
    git removes its own lock files on the way out, then SIGKILL)."""
    if not busy(worktree, gitdir, host):
        return
    deadline = time.monotonic() + wait_s
    while (pids := git_processes_in(worktree, host)) or busy(worktree, gitdir, host):
        if time.monotonic() >= deadline:
            break
        if not pids and host.name == LOCAL_NAME and Path("/proc").is_dir():
            return  # locked, but no git left to finish: a stale lock (the caller decides)
        time.sleep(0.05)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = git_processes_in(worktree, host)
        if not pids:
            return
        for pid in pids:
            host.signal(pid, sig)
        end = time.monotonic() + 2.0
        while git_processes_in(worktree, host) and time.monotonic() < end:
            time.sleep(0.05)
