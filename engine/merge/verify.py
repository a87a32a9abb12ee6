"""Verification like a merge queue: the merged result is tested before any ref moves.

The command runs in a temporary detached worktree of the merged commit (the repo's
`.worktreeinclude` files copied in, the setup command run first), never in the user's
checkout. When it fails, the merge-order prefixes are bisected to name the branch whose
addition first breaks it, so two branches that pass alone but fail together are caught
and the second one is named.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.core import events as rev
from engine.hosts.gitrepo import RepoGit
from engine.hosts.host import LOCAL
from engine.run.worktrees import copy_included, run_setup

TAIL_LINES = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyRun:
    commit: str
    ok: bool
    exit_code: int
    seconds: float
    tail: str
    """The command's last output lines."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyResult:
    command: str
    ok: bool
    seconds: float
    runs: tuple[VerifyRun, ...]
    culprit: str = ""
    """The first branch (in merge order) whose addition makes the command fail."""
    tail: str = ""


Runner = Callable[[str], VerifyRun]


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    """Who hears each run of the command as it starts and ends: `emit`, for run `run_id`."""

    run_id: str = ""
    emit: rev.EmitRun = rev.ignore


def verify(g: RepoGit, command: str, merged: Sequence[tuple[str, str]], base: str,
           *, setup: str = "", timeout_s: float = 3600, listener: Listener = Listener()) -> VerifyResult:
    """Run `command` on the last commit of `merged` (branch, the merge's commit with it) in merge
    order; on failure bisect them. Each run of the command is told to the listener as it starts
    and ends, and the bisect's verdict after."""
    emit, run_id = listener.emit, listener.run_id
    names, commits = [n for n, _ in merged], [c for _, c in merged]
    started = time.perf_counter()
    upto = dict(zip(commits, names, strict=False))
    final_commit = commits[-1] if commits else base
    with _scratch_worktree(g, final_commit) as tree:
        if setup:
            run_setup(setup, tree)
        def run(commit: str) -> VerifyRun:
            name, bisect = upto.get(commit, ""), commit != final_commit
            emit(rev.VerifyStarted(run_id=run_id, command=command, commit=commit, upto=name, bisect=bisect))
            done = _run_at(g, tree, commit, command, timeout_s)
            emit(rev.VerifyFinished(run_id=run_id, command=command, commit=commit, upto=name, bisect=bisect,
                                    ok=done.ok, exit_code=done.exit_code, seconds=done.seconds,
                                    tail=done.tail))
            return done
        final = run(final_commit)
        runs = [final]
        culprit = "" if final.ok else _bisect(run, names, commits, base, runs)
    if not final.ok:
        emit(rev.VerifyBlamed(run_id=run_id, command=command, branch=culprit, tail=final.tail))
    return VerifyResult(command=command, ok=final.ok, seconds=time.perf_counter() - started,
                        runs=tuple(runs), culprit=culprit, tail=final.tail)


def _bisect(run: Runner, names: Sequence[str], commits: Sequence[str], base: str,
            runs: list[VerifyRun]) -> str:
    """The first prefix that fails (the last one is known to fail); '' if the base fails too."""
    lo, hi = 0, len(commits) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        result = run(commits[mid])
        runs.append(result)
        if result.ok:
            lo = mid + 1
        else:
            hi = mid
    if lo == 0:
        before = run(base)
        runs.append(before)
        if not before.ok:
            return ""
    return names[lo] if names else ""


def _run_at(g: RepoGit, tree: Path, commit: str, command: str, timeout_s: float) -> VerifyRun:
    g.call("checkout", "-q", "--detach", "--force", commit, cwd=tree)
    started = time.perf_counter()
    try:
        # The user's own verify command, as they would type it (pipes, &&): not model text.
        proc = LOCAL.run(["/bin/sh", "-c", command], cwd=tree, timeout=timeout_s)
        code, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, out = 124, (exc.stdout or b"") + f"\ntimed out after {timeout_s:.0f}s".encode()
    tail = "\n".join(out.decode("utf-8", "replace").rstrip().splitlines()[-TAIL_LINES:])
    return VerifyRun(commit=commit, ok=code == 0, exit_code=code,
                     seconds=time.perf_counter() - started, tail=tail)


@contextmanager
def _scratch_worktree(g: RepoGit, commit: str) -> Iterator[Path]:
    """A detached worktree in a temp dir, removed and pruned on the way out, always."""
    path = Path(tempfile.mkdtemp(prefix="parallel-tui-verify-")) / "tree"
    try:
        g.call("worktree", "add", "-q", "--detach", str(path), commit)
        copy_included(g.path, path)
        yield path
    finally:
        g.call("worktree", "remove", "--force", str(path), ok=(0, 128))
        g.call("worktree", "prune")
        shutil.rmtree(path.parent, ignore_errors=True)
