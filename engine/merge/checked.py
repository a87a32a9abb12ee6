"""`check` as a whole operation: select the branches, leave out the skipped ones, check them.

Its own module so that `check` loads only what checking uses: `merge.flow` (merging,
verifying, pull requests, cleanup) builds on it, and re-exports its names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import UsageError
from engine.hosts.gitrepo import open_repo
from engine.hosts.host import Host
from engine.merge.branches import outside_flag
from engine.merge.check import CheckReport, check
from engine.merge.targets import Candidate, Selection, select
from engine.run.journal import Journal
from engine.run.scratch import prune_scratch


@dataclass(frozen=True, slots=True, kw_only=True)
class Which:
    """What the user named: a run, branches, a target, branches to leave out."""

    run_id: str | None = None
    names: tuple[str, ...] = ()
    into: str | None = None
    skip: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    selection: Selection
    report: CheckReport
    skipped: tuple[str, ...]
    """`branch`, or `branch (builds on …)` for one left out with a branch it builds on."""

    @property
    def left_out(self) -> dict[str, str]:
        """Each skipped branch and why: '' when it was named, else `builds on …`."""
        return {name: why.removesuffix(")") for name, _, why in (s.partition(" (") for s in self.skipped)}


def run_check(repo: Path, journal: Journal, which: Which, host: Host) -> Checked:
    """The conflict matrix of the selected branches (less the skipped ones), read on the repo's
    `host`. Scratch worktrees a killed verify left go first (they are nobody's work)."""
    prune_scratch(repo)
    with open_repo(repo, host) as g:
        selection = select(g, journal, repo, run_id=which.run_id, names=which.names, into=which.into)
        chosen, skipped = _apply_skip(selection.candidates, which.skip, selection.depends)
        report = check(g, selection.target, selection.target_sha, [(c.branch, c.sha) for c in chosen],
                       selection.depends)
    return Checked(selection=selection, report=_flag_outside(journal, selection, report), skipped=skipped)


def _flag_outside(journal: Journal, selection: Selection, report: CheckReport) -> CheckReport:
    """A run's branch that changed files outside its subtask's is flagged (the board marks
    the same session)."""
    if selection.run is None:
        return report
    owned = {s.branch: s.owned for s in journal.sessions(selection.run.id)}
    branches = []
    for b in report.branches:
        inherited = [f for d in selection.depends.get(b.name, ()) for f in owned.get(d, ())]
        flag = outside_flag(b.files_changed, owned.get(b.name, ()), inherited)
        branches.append(dataclasses.replace(b, flags=(*b.flags, flag)) if flag else b)
    return dataclasses.replace(report, branches=tuple(branches))


def _apply_skip(candidates: Sequence[Candidate], skip: Sequence[str],
                depends: Mapping[str, Sequence[str]]) -> tuple[list[Candidate], tuple[str, ...]]:
    """Leave out the named branches, and every branch that builds on one left out (its
    branch contains the dependency's commits, so merging it would merge the skipped work)."""
    keys = set(skip)
    names = {k: c.branch for c in candidates for k in (c.branch, c.subtask, c.branch.rsplit("/", 1)[-1]) if k}
    if unknown := keys - set(names):
        raise UsageError(f"--skip names no selected branch: {', '.join(sorted(unknown))}",
                         hint="skip by branch, slug or subtask name (see `parallel-tui check`)")
    skipped = {names[k]: "" for k in keys}
    while grown := {b: f"builds on {', '.join(sorted(set(deps) & set(skipped)))}"
                    for b, deps in depends.items() if b not in skipped and set(skipped) & set(deps)}:
        skipped |= grown
    chosen = [c for c in candidates if c.branch not in skipped]
    return chosen, tuple(f"{c.branch} ({skipped[c.branch]})" if skipped[c.branch] else c.branch
                         for c in candidates if c.branch in skipped)
