"""`check`: every branch against the target, every pair against each other, and an order.

All of it is read-only: merge-tree writes objects, never refs, an index or a working tree;
the simulated chain's commits are unreferenced objects that `git gc` drops. The matrix's
merges run in one `merge-tree --stdin` per core, concurrently, and the order's chain (one
merge after another) beside the pairs (bench/check.py measures it against the floor of one
`merge-tree` each).
Computed once: the order's first merges onto the target are the matrix's own (reused, not
run again), and the order is not simulated at all when it cannot conflict (`_cannot_conflict`);
conflict hunks come from one `cat-file --batch`, the branches from one `for-each-ref`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath

from engine.core.risk import SHARED_CONFIG, ConflictRisk
from engine.core.threads import both, thread_map
from engine.hosts.gitrepo import RepoGit
from engine.merge.branches import BranchFacts, branches_facts, tracked_count
from engine.merge.chain import Chain, Step, build_chain
from engine.merge.mergetree import FileConflict, Merge, TreeMerge, merge_trees


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchCheck:
    name: str
    sha: str
    commits: int
    files_changed: tuple[str, ...]
    conflicts_with_target: tuple[FileConflict, ...]
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PairCheck:
    a: str
    b: str
    overlapping_files: tuple[str, ...]
    conflicting_files: tuple[str, ...]
    conflicts: tuple[FileConflict, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    target: str
    target_sha: str
    branches: tuple[BranchCheck, ...]
    pairs: tuple[PairCheck, ...]
    merge_order: tuple[str, ...]
    """Dependencies first, then the order that merges cleanly; blocked branches last."""
    blocked: tuple[str, ...]
    """Branches that conflict with the merge so far where they would join it (or wait on one)."""
    conflict_risk: ConflictRisk
    risk_reason: str

    @property
    def mergeable(self) -> tuple[str, ...]:
        return tuple(n for n in self.merge_order if n not in self.blocked)


def check(g: RepoGit, target: str, target_sha: str, branches: Sequence[tuple[str, str]],
          depends: Mapping[str, Sequence[str]] | None = None, *, order: bool = True) -> CheckReport:
    """`branches` are (name, sha) pairs; `depends` maps a branch to branches it builds on.
    Without `order` the merge order is the given one (no simulated chain)."""
    tracked = cache(lambda: tracked_count(g, target_sha))
    workers = max(2, os.cpu_count() or 2)
    facts = branches_facts(g, branches, target_sha, tracked, depends or {})
    against = _merged(g, [(target_sha, f.sha, (target, f.name)) for f in facts], workers)
    checks = tuple(BranchCheck(name=f.name, sha=f.sha, commits=f.commits, files_changed=f.files_changed,
                               conflicts_with_target=m.conflicts, flags=f.flags)
                   for f, m in zip(facts, against, strict=True))
    steps = [Step(name=f.name, sha=f.sha, onto_start=m)  # the chain's first merges are the matrix's
             for f, m in zip(facts, against, strict=True) if f.commits]
    if not order or _cannot_conflict(facts, against, depends or {}):
        pairs = _pairs(g, facts, workers)
        risk, reason = _risk(checks, pairs)
        return CheckReport(target=target, target_sha=target_sha, branches=checks, pairs=tuple(pairs),
                           merge_order=tuple(s.name for s in steps), blocked=(), conflict_risk=risk,
                           risk_reason=reason)
    # the order's chain is one merge after another: it runs beside the pairs, which need one core less
    pairs, chain = both(lambda: _pairs(g, facts, workers - 1),
                        lambda: build_chain(g, target_sha, steps, depends or {}))
    risk, reason = _risk(checks, pairs)
    blocked = (*chain.blocked, *chain.waiting)
    return CheckReport(target=target, target_sha=target_sha, branches=checks, pairs=tuple(pairs),
                       merge_order=(*chain.merged, *blocked), blocked=tuple(blocked),
                       conflict_risk=risk, risk_reason=reason)


def _cannot_conflict(facts: Sequence[BranchFacts], against: Sequence[TreeMerge],
                     depends: Mapping[str, Sequence[str]]) -> bool:
    """The simulated order would merge every branch in the given order, so it need not run.

    True when no branch builds on another, each is a line of its own commits on the target
    itself sharing none (git's merge base of the chain so far and the next branch is then the
    target), none deletes a file (nothing for rename detection, directory renames included, to
    pair), each merges cleanly onto the target, and no file one changes is a file or a folder
    of a file another changes: git merges such trees path by path, taking the one side that
    changed each path, so every step is clean."""
    steps = [(f, m) for f, m in zip(facts, against, strict=True) if f.commits]
    names = {f.name for f, _ in steps}
    if any(set(depends.get(n, ())) & names for n in names):
        return False
    if not all(f.alone and not f.deleted and m.clean for f, m in steps):
        return False
    files: set[str] = set()
    folders: set[str] = set()
    for f, _ in steps:
        mine = set(f.files_changed)
        above = {str(p) for path in mine for p in PurePosixPath(path).parents if str(p) != "."}
        if mine & (files | folders) or above & files:
            return False
        files |= mine
        folders |= above
    return True


def simulate(g: RepoGit, target_sha: str, report: CheckReport, depends: Mapping[str, Sequence[str]]) -> Chain:
    """The chain for the report's mergeable order (what `merge --dry-run` shows)."""
    by_name = {b.name: b for b in report.branches}
    steps = [Step(name=n, sha=by_name[n].sha) for n in report.mergeable]
    return build_chain(g, target_sha, steps, depends, greedy=False)


def _pairs(g: RepoGit, facts: Sequence[BranchFacts], workers: int) -> list[PairCheck]:
    """Every pair of branches, merged when they share a file or both have commits."""
    couples = list(itertools.combinations(facts, 2))
    merged = iter(_merged(g, [(a.sha, b.sha, (a.name, b.name)) for a, b in couples if _both(a, b)], workers))
    return [_pair(a, b, next(merged) if _both(a, b) else None) for a, b in couples]


def _merged(g: RepoGit, merges: Sequence[Merge], workers: int) -> list[TreeMerge]:
    """`merges` in order, in `workers` batches at once: one git process each (`merge_trees`)."""
    size = max(1, -(-len(merges) // workers))
    batches = [merges[i:i + size] for i in range(0, len(merges), size)]
    return [m for batch in thread_map(lambda b: merge_trees(g, b), batches, workers) for m in batch]


def _both(a: BranchFacts, b: BranchFacts) -> bool:
    """Whether the pair is merged: two branches with no file and no commits in common to
    both merge cleanly."""
    return bool(set(a.files_changed) & set(b.files_changed)) or bool(a.commits and b.commits)


def _pair(a: BranchFacts, b: BranchFacts, merge: TreeMerge | None) -> PairCheck:
    overlap = tuple(sorted(set(a.files_changed) & set(b.files_changed)))
    conflicts = merge.conflicts if merge is not None else ()
    return PairCheck(a=a.name, b=b.name, overlapping_files=overlap,
                     conflicting_files=tuple(c.file for c in conflicts), conflicts=conflicts)


def _risk(branches: Sequence[BranchCheck], pairs: Sequence[PairCheck]) -> tuple[ConflictRisk, str]:
    """The spec's levels: real conflicts are HIGH; shared files or shared config MEDIUM."""
    against = [f"{b.name} × target: {', '.join(c.file for c in b.conflicts_with_target)}"
               for b in branches if b.conflicts_with_target]
    clashing = [f"{p.a} × {p.b}: {', '.join(p.conflicting_files)}" for p in pairs if p.conflicts]
    if against or clashing:
        return ConflictRisk.HIGH, "conflicts: " + "; ".join(against + clashing)
    shared = [f"{p.a} × {p.b}: {', '.join(p.overlapping_files)}" for p in pairs if p.overlapping_files]
    if shared:
        return ConflictRisk.MEDIUM, "same files changed (merge cleanly): " + "; ".join(shared)
    config = sorted({f for b in branches for f in b.files_changed
                     if PurePosixPath(f).name.lower() in SHARED_CONFIG})
    if config:
        return ConflictRisk.MEDIUM, f"shared config changed: {', '.join(config)}"
    return ConflictRisk.LOW, "no branch touches a file another one changes"
