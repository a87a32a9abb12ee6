"""Merges simulated as a chain of commits, the way the real merge will build them.

git 2.39 cannot merge bare trees (`merge-tree --merge-base` came in 2.40), so each step
merges the chain's last commit with the next branch and records the tree with
`commit-tree`: the simulated order and the real merge are the same computation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from engine.hosts.gitrepo import RepoGit
from engine.merge.mergetree import TreeMerge, merge_tree

SIMULATION_IDENTITY = ("-c", "user.name=parallel-tui", "-c", "user.email=parallel-tui@localhost")


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    name: str
    sha: str
    """The branch's commit."""
    message: str = ""
    onto_start: TreeMerge | None = None
    """This step already merged onto the chain's start, when known (`check`'s matrix merged
    every branch onto the target): the chain reuses it instead of merging again."""


@dataclass(slots=True, kw_only=True)
class Chain:
    start: str
    head: str
    merged: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    """The chain's commit after each merged step, in order."""
    blocked: dict[str, TreeMerge] = field(default_factory=dict)
    """Steps that conflict with the chain where they would join it."""
    waiting: list[str] = field(default_factory=list)
    """Steps never tried because a step they depend on was blocked."""


StepWatch = Callable[[Step, TreeMerge | None, str], None]
"""Told before each step is tried (merge None, commit ''), then after: its merge and the
chain's new commit ('' when it conflicts). The real merge streams its progress from this."""


def build_chain(g: RepoGit, start: str, steps: Sequence[Step], depends: Mapping[str, Sequence[str]],
                *, identity: Sequence[str] = SIMULATION_IDENTITY, greedy: bool = True,
                watch: StepWatch | None = None) -> Chain:
    """Merge `steps` onto `start`: dependencies first, then (greedy) the first step that
    merges cleanly; a step that conflicts, and everything that depends on it, is blocked."""
    chain = Chain(start=start, head=start)
    told = watch or _unwatched
    while True:
        remaining = [s for s in steps if s.name not in chain.merged and s.name not in chain.blocked]
        ready = [s for s in remaining if _deps_met(s.name, depends, chain, steps)]
        if not ready:
            chain.waiting = [s.name for s in remaining]
            return chain
        picked = _first_clean(g, chain, ready if greedy else ready[:1], told)
        if picked is None:
            continue  # every ready step conflicts: each is blocked now
        step, merged = picked
        chain.head = _commit(g, merged.tree, chain.head, step, identity)
        chain.merged.append(step.name)
        chain.commits.append(chain.head)
        told(step, merged, chain.head)


def _unwatched(_step: Step, _merge: TreeMerge | None, _commit: str) -> None:
    """Nobody follows the simulation (`check`)."""


def _deps_met(name: str, depends: Mapping[str, Sequence[str]], chain: Chain, steps: Sequence[Step]) -> bool:
    names = {s.name for s in steps}
    needed = [d for d in depends.get(name, ()) if d in names]
    return all(d in chain.merged for d in needed)


def _first_clean(g: RepoGit, chain: Chain, ready: Sequence[Step],
                 told: StepWatch) -> tuple[Step, TreeMerge] | None:
    for step in ready:
        told(step, None, "")
        known = step.onto_start if chain.head == chain.start else None
        merged = known or merge_tree(g, chain.head, step.sha)
        if merged.clean:
            return step, merged
        chain.blocked[step.name] = merged
        told(step, merged, "")
    return None


def _commit(g: RepoGit, tree: str, head: str, step: Step, identity: Sequence[str]) -> str:
    message = step.message or f"Merge {step.name}"
    return g.text(*identity, "commit-tree", tree, "-p", head, "-p", step.sha, "-m", message)
