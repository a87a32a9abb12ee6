"""The merge itself: build every merge commit from trees, verify, then move the target once.

Nothing touches a ref, an index or a working tree until the end. The target ref then moves
by compare-and-swap: `update-ref refs/heads/<target> <new> <old>` when no worktree has it
checked out; when one does (and it is clean), `merge --ff-only` there, which moves ref,
index and files together and refuses if the target moved. Either way, a target that moved
meanwhile leaves everything as it was, and a crash before the move leaves only unreferenced
objects behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core import events as rev
from engine.core.errors import ConflictError, GitError
from engine.hosts.gitcli import worktree_records
from engine.hosts.gitrepo import RepoGit
from engine.merge.chain import Chain, Step, StepWatch, build_chain
from engine.merge.mergetree import TreeMerge
from engine.merge.verify import Limits, Listener, VerifyResult, verify


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeRequest:
    target: str
    old_sha: str
    steps: tuple[Step, ...]
    depends: Mapping[str, Sequence[str]]
    verify_command: str = ""
    setup_command: str = ""
    verify_timeout_s: float = 3600
    setup_timeout_s: float = 1800
    run_id: str = ""
    """The run the branches belong to ('' for none): what the progress events name."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeOutcome:
    target: str
    old_sha: str
    new_sha: str
    merged: tuple[str, ...]
    moved: bool
    how: str
    """`update-ref`, `ff-only in <worktree>`, or why nothing moved."""
    verify: VerifyResult | None
    diffstat: str = ""
    """What the merged result changes in the target (`git diff --stat old new`)."""


class TargetMoved(GitError):
    """The target changed while the merge was built: nothing was moved."""


class VerifyFailed(ConflictError):
    """The merged result fails the verify command: nothing was moved."""

    def __init__(self, problem: str, *, hint: str, result: VerifyResult) -> None:
        super().__init__(problem, hint=hint)
        self.result = result


def checked_out_at(g: RepoGit, target: str) -> Path | None:
    """The worktree that has `target` checked out, if any."""
    for record in worktree_records(g.path):
        if record.get("branch") == f"refs/heads/{target}" and "worktree" in record:
            return Path(record["worktree"])
    return None


def refuse_dirty_target(g: RepoGit, target: str) -> Path | None:
    """Before anything is built: a checked-out target must have no uncommitted changes."""
    where = checked_out_at(g, target)
    if where is not None:
        dirty = g.call("--no-optional-locks", "status", "--porcelain", "--untracked-files=no",
                       cwd=where).text.strip()
        if dirty:
            raise GitError(f"{target} is checked out at {where} with uncommitted changes",
                           hint="commit or stash them there, then merge again")
    return where


def refuse_without_identity(g: RepoGit) -> None:
    """The merge writes commits: without a git identity `commit-tree` would fail halfway
    through building (nothing moved, but a confusing error), so say what is missing first."""
    for who in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        if g.call("var", who, ok=(0, 128)).code != 0:
            raise GitError("git has no name and email to write the merge commits with",
                           hint='set them: git config --global user.name "You" && '
                                'git config --global user.email you@example.com')


def merge(g: RepoGit, request: MergeRequest, *, dry_run: bool = False,
          before_move: Callable[[Chain], None] | None = None, emit: rev.EmitRun = rev.ignore) -> MergeOutcome:
    """Build, verify and (unless `dry_run`) move the target; raise with nothing moved.
    `before_move` runs after everything is built and verified, right before the one move
    (the caller journals it there); `emit` hears each branch's merge and each verify run."""
    where = refuse_dirty_target(g, request.target)
    refuse_without_identity(g)
    chain = build_chain(g, request.old_sha, request.steps, request.depends, identity=(), greedy=False,
                        watch=_progress(request, emit))
    _refuse_blocked(chain)
    result = _verify(g, request, chain, emit)
    diffstat = g.text("diff", "--stat", request.old_sha, chain.head) if chain.merged else ""
    if dry_run or not chain.merged:
        return MergeOutcome(target=request.target, old_sha=request.old_sha, new_sha=chain.head,
                            merged=tuple(chain.merged), moved=False,
                            how="dry run" if dry_run else "nothing to merge", verify=result,
                            diffstat=diffstat)
    if before_move is not None:
        before_move(chain)
    how = _move(g, request.target, request.old_sha, chain.head, where)
    return MergeOutcome(target=request.target, old_sha=request.old_sha, new_sha=chain.head,
                        merged=tuple(chain.merged), moved=True, how=how, verify=result, diffstat=diffstat)


def _progress(request: MergeRequest, emit: rev.EmitRun) -> StepWatch:
    """Each step's start and end as events: i of N, its commit or its conflicting files."""
    total = len(request.steps)
    started: dict[str, tuple[int, float]] = {}

    def watch(step: Step, merged: TreeMerge | None, commit: str) -> None:
        if merged is None:
            started[step.name] = (len(started) + 1, time.perf_counter())
            emit(rev.MergeStepStarted(run_id=request.run_id, target=request.target, branch=step.name,
                                      index=len(started), total=total))
            return
        index, at = started[step.name]
        emit(rev.MergeStepFinished(run_id=request.run_id, target=request.target, branch=step.name,
                                   index=index, total=total, commit=commit,
                                   seconds=time.perf_counter() - at, files=merged.files))
    return watch


def _refuse_blocked(chain: Chain) -> None:
    if not chain.blocked and not chain.waiting:
        return
    files = "; ".join(f"{name}: {', '.join(m.files)}" for name, m in chain.blocked.items())
    waiting = f" (and {', '.join(chain.waiting)}, which build on it)" if chain.waiting else ""
    raise ConflictError(f"merging would conflict — {files}{waiting}; nothing was moved",
                        hint="resolve in that branch's worktree and merge again, or --skip it")


def _verify(g: RepoGit, request: MergeRequest, chain: Chain, emit: rev.EmitRun) -> VerifyResult | None:
    if not request.verify_command or not chain.merged:
        return None
    merged = list(zip(chain.merged, chain.commits, strict=True))
    limits = Limits(setup=request.setup_command, timeout_s=request.verify_timeout_s,
                    setup_timeout_s=request.setup_timeout_s)
    result = verify(g, request.verify_command, merged, request.old_sha, limits=limits,
                    listener=Listener(run_id=request.run_id, emit=emit))
    if result.ok:
        return result
    who = (f"adding {result.culprit} breaks it" if result.culprit
           else f"{request.target} itself fails it before any merge")
    last = result.tail.splitlines()[-1:] or [""]
    raise VerifyFailed(f"verify `{request.verify_command}` failed on the merged result: {who} "
                       f"(last line: {last[0]}); nothing was moved",
                       hint=f"fix it in that branch, or merge without it: --skip {result.culprit or 'NAME'}",
                       result=result)


def _move(g: RepoGit, target: str, old: str, new: str, where: Path | None) -> str:
    """Compare-and-swap the target from `old` to `new`."""
    if where is None:
        moved = g.call("update-ref", "-m", "parallel-tui merge", f"refs/heads/{target}", new, old,
                       ok=(0, 1, 128))
        if moved.code != 0:
            raise TargetMoved(f"{target} moved while the merge was built; nothing was moved",
                              hint="run the merge again on the new target")
        return "update-ref"
    head = g.text("rev-parse", "HEAD", cwd=where)
    if head != old:
        raise TargetMoved(f"{target} moved while the merge was built; nothing was moved",
                          hint="run the merge again on the new target")
    ff = g.call("merge", "-q", "--ff-only", new, cwd=where, ok=(0, 1, 128))
    if ff.code != 0:
        lines = ff.err.strip().splitlines()
        raise GitError(f"could not fast-forward {target} at {where}: {lines[-1] if lines else ff.code}; "
                       "nothing was moved", hint="clear what git names there, then merge again")
    return f"ff-only in {where}"
