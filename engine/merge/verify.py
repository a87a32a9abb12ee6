"""Verification like a merge queue: the merged result is tested before any ref moves.

The command runs in a temporary detached worktree of the merged commit (the repo's
`.worktreeinclude` files copied in, the setup command run first), never in the user's
checkout. When it fails, the merge-order prefixes are bisected to name the branch whose
addition first breaks it, so two branches that pass alone but fail together are caught
and the second one is named.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core import events as rev
from engine.hosts.gitrepo import RepoGit
from engine.hosts.grouped import run_grouped
from engine.hosts.worktrees import copy_included, run_setup
from engine.run.scratch import note, scratch_worktree

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
class Limits:
    """The setup command run first in the scratch worktree, and how long each may take
    (config `verify_timeout`, `worktree_setup_timeout`; `merge --verify-timeout`)."""

    setup: str = ""
    timeout_s: float = 3600
    setup_timeout_s: float = 1800


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    """Who hears each run of the command as it starts and ends: `emit`, for run `run_id`."""

    run_id: str = ""
    emit: rev.EmitRun = rev.ignore


def verify(g: RepoGit, command: str, merged: Sequence[tuple[str, str]], base: str,
           *, limits: Limits = Limits(), listener: Listener = Listener()) -> VerifyResult:
    """Run `command` on the last commit of `merged` (branch, the merge's commit with it) in merge
    order; on failure bisect them. Each run of the command is told to the listener as it starts
    and ends, and the bisect's verdict after."""
    emit, run_id = listener.emit, listener.run_id
    names, commits = [n for n, _ in merged], [c for _, c in merged]
    started = time.perf_counter()
    upto = dict(zip(commits, names, strict=False))
    final_commit = commits[-1] if commits else base
    with scratch_worktree(g.path, final_commit) as tree:
        copy_included(g.path, tree, host=g.host)
        if limits.setup:
            run_setup(limits.setup, tree, limits.setup_timeout_s, host=g.host)
        def run(commit: str) -> VerifyRun:
            name, bisect = upto.get(commit, ""), commit != final_commit
            emit(rev.VerifyStarted(run_id=run_id, command=command, commit=commit, upto=name, bisect=bisect))
            done = _run_at(g, tree, commit, command, limits.timeout_s)
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
    # The user's own verify command, as they would type it (pipes, &&): not model text. Its
    # whole process group is ended on the timeout and on an interrupt (engine.hosts.grouped).
    done = run_grouped(["/bin/sh", "-c", command], cwd=tree, timeout_s=timeout_s,
                       started=lambda pgid: note(tree, pgid=pgid))
    out = done.output + (f"\ntimed out after {timeout_s:g}s".encode() if done.timed_out else b"")
    tail = "\n".join(out.decode("utf-8", "replace").rstrip().splitlines()[-TAIL_LINES:])
    return VerifyRun(commit=commit, ok=done.code == 0, exit_code=done.code, seconds=done.seconds, tail=tail)
