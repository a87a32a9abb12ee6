"""`merge` as a whole operation, on top of `check`'s (`merge.checked`): decide, merge, clean up.

The rules live here (a skip's in `merge.checked`) so the CLI and the app only render and ask:
which branches a skip removes, which flags block a merge, what the confirmation states, and
what is cleaned up after the target moved (the run's merged branches, their worktrees and
windows — never an unmerged branch; a session whose agent still runs is kept and said so).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from engine.core import events as rev
from engine.core import faults
from engine.core.config import ParallelConfig
from engine.core.errors import ConflictError, UsageError
from engine.hosts.gitrepo import open_repo
from engine.hosts.host import Host
from engine.hosts.registry import Hosts
from engine.merge.apply import MergeOutcome, MergeRequest, merge
from engine.merge.branches import DELETES_MOST
from engine.merge.chain import Chain, Step
from engine.merge.check import CheckReport
from engine.merge.checked import Checked, Which, run_check
from engine.merge.prs import OpenedPr, open_prs, preview_prs
from engine.merge.targets import Candidate, Selection
from engine.run.cleanup import Leftover, apply_cleanup, find_leftovers
from engine.run.journal import Journal, MergeRecord
from engine.run.recorder import recorder_for

__all__ = ["Checked", "MergeOptions", "MergeRefused", "MergeSummary", "Which", "preview", "run_check",
           "run_merge", "run_prs"]
"""`Checked`, `Which` and `run_check` live in `merge.checked` (what `check` alone loads)."""


class MergeRefused(ConflictError):
    """Conflicts or a red flag stop the merge before anything is built; carries the check."""

    def __init__(self, problem: str, *, hint: str, report: CheckReport) -> None:
        super().__init__(problem, hint=hint)
        self.report = report


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeSummary:
    checked: Checked
    outcome: MergeOutcome
    cleaned: tuple[Leftover, ...]
    seconds: float


def preview(checked: Checked, verify_command: str) -> str:
    """Exactly what a merge would move, for the confirmation."""
    report = checked.report
    order = " → ".join(report.mergeable) or "nothing"
    verify = f", after `{verify_command}` passes on the result" if verify_command else ""
    return (f"Merge {order} into {report.target} (now {report.target_sha[:10]}): one merge commit per "
            f"branch, then {report.target} moves once{verify}")


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeOptions:
    verify: str = ""
    """Run on the merged result before the target moves ('' = none)."""
    dry_run: bool = False


def run_merge(  # noqa: PLR0913 - `hosts` threaded through, as httpx threads its transport
        repo: Path, config: ParallelConfig, journal: Journal, which: Which, options: MergeOptions, *,
        confirm: Callable[[str], bool], emit: rev.EmitRun = rev.ignore, hosts: Hosts) -> MergeSummary | None:
    """Check, refuse what must not merge, confirm, merge; None when the user declined. Each
    stage (a branch's merge commit, each verify run, the move) is told to `emit` as it happens,
    through the run's Recorder (journal first) when the branches belong to a run."""
    started = time.perf_counter()
    verify, dry_run = options.verify, options.dry_run
    checked = run_check(repo, journal, which, hosts.local)
    _refuse(checked)
    asked = time.perf_counter()
    if not dry_run and not confirm(preview(checked, verify)):
        return None
    waiting = time.perf_counter() - asked
    run = checked.selection.run
    tell = recorder_for(journal, emit) if run else emit
    request = _request(checked, config, verify)
    journaled = partial(_journal_built, tell, run.id, request) if run else None
    with open_repo(repo, hosts.local) as g:
        outcome = merge(g, request, dry_run=dry_run, before_move=journaled, emit=tell)
    seconds = time.perf_counter() - started - waiting
    cleaned: tuple[Leftover, ...] = ()
    try:
        if run and outcome.moved:
            tell(rev.MergeMoved(run_id=run.id, target=outcome.target, new_sha=outcome.new_sha,
                                how=outcome.how))
    finally:  # the target moved: a listener that fails (a closed pipe) must not skip the bookkeeping
        if outcome.moved and run is not None:
            _record(journal, checked, outcome, seconds, waiting)
            cleaned = _clean_merged(journal, checked, outcome, hosts)
    return MergeSummary(checked=checked, outcome=outcome, cleaned=cleaned, seconds=seconds)


def _request(checked: Checked, config: ParallelConfig, verify: str) -> MergeRequest:
    by_branch = {c.branch: c for c in checked.selection.candidates}
    steps = tuple(_step(by_branch[n], checked.selection) for n in checked.report.mergeable)
    run = checked.selection.run
    return MergeRequest(target=checked.report.target, old_sha=checked.report.target_sha, steps=steps,
                        depends=checked.selection.depends, verify_command=verify,
                        setup_command=config.worktree_setup_command, verify_timeout_s=config.verify_timeout,
                        setup_timeout_s=config.worktree_setup_timeout, run_id=run.id if run else "")


def run_prs(repo: Path, journal: Journal, which: Which, *, confirm: Callable[[str], bool],
            host: Host) -> tuple[Checked, tuple[OpenedPr, ...]] | None:
    """Check, refuse what must not go out, confirm, push and open one PR per branch."""
    checked = run_check(repo, journal, which, host)
    _refuse(checked)
    if not confirm(preview_prs(checked.report, checked.selection.depends)):
        return None
    seconds = _session_seconds(journal, checked.selection)
    with open_repo(repo, host) as g:
        opened = open_prs(g, checked.report, checked.selection.candidates, seconds,
                          depends=checked.selection.depends)
    return checked, opened


def _session_seconds(journal: Journal, selection: Selection) -> dict[str, float]:
    if selection.run is None:
        return {}
    return {s.branch: s.ended_at - s.started_at for s in journal.sessions(selection.run.id)
            if s.started_at and s.ended_at > s.started_at}


def _journal_built(tell: rev.EmitRun, run_id: str, request: MergeRequest, chain: Chain) -> None:
    """Written before the target moves, so a crash leaves a record of what was about to."""
    tell(rev.MergeBuilt(run_id=run_id, target=request.target, old_sha=request.old_sha, new_sha=chain.head,
                        branches=tuple(chain.merged)))
    faults.reached("merge")


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """Why a merge (or the PRs) must not go ahead: the one rule both faces show. `problem` is
    the engine's words; `hint` the CLI's remedy (flags); a face with keys words its own remedy
    by `kind`."""

    kind: str
    """`deletes_most` (a branch would wipe the tree), `conflicts` (branches conflict with the
    merge), `all_skipped` (what is left builds on skipped work) or `nothing` (no commits)."""
    problem: str
    hint: str


def refusal(checked: Checked) -> Refusal | None:
    """Conflicts, a branch that deletes most files, or nothing to merge stop the merge before
    anything is built; None when it may ask."""
    report = checked.report
    wiping = [b.name for b in report.branches if any(f.startswith(DELETES_MOST) for f in b.flags)]
    if wiping:
        return Refusal(kind="deletes_most",
                       problem=f"{', '.join(wiping)} would delete most of the tracked files",
                       hint="look at it (`git diff --stat`), then --skip it or fix it")
    if report.blocked:
        return Refusal(kind="conflicts", problem=f"{', '.join(report.blocked)} conflict(s) with the merge",
                       hint="resolve in that branch's worktree and merge again, or --skip it")
    if not report.mergeable and checked.skipped:
        return Refusal(kind="all_skipped",
                       problem=f"nothing left to merge: skipped {'; '.join(checked.skipped)}",
                       hint="a branch that builds on a skipped one carries its commits: merge them "
                            "together, or skip fewer")
    if not report.mergeable:
        return Refusal(kind="nothing", problem="no branch has commits to merge",
                       hint="let the sessions commit their work first")
    return None


def _refuse(checked: Checked) -> None:
    """A refusal as the error the CLI prints: a red flag or conflicts carry the check."""
    found = refusal(checked)
    if found is None:
        return
    if found.kind in ("deletes_most", "conflicts"):
        raise MergeRefused(f"{found.problem}; nothing was merged", hint=found.hint, report=checked.report)
    raise UsageError(found.problem, hint=found.hint)


def _step(candidate: Candidate, selection: Selection) -> Step:
    parts = [f"subtask {candidate.subtask}" if candidate.subtask else "",
             f"agent {candidate.agent}" if candidate.agent else "",
             f"run {selection.run.id}" if selection.run else ""]
    detail = ", ".join(p for p in parts if p)
    message = f"Merge {candidate.branch} into {selection.target}" + (f" ({detail})" if detail else "")
    return Step(name=candidate.branch, sha=candidate.sha, message=message)


def _record(journal: Journal, checked: Checked, outcome: MergeOutcome, seconds: float,
            waiting: float) -> None:
    """The merge and its measured stages for the report: merge per branch, and verify."""
    run = checked.selection.run
    assert run is not None
    journal.add_merge(MergeRecord(run_id=run.id, at=time.time(), target=outcome.target,
                                  old_sha=outcome.old_sha, new_sha=outcome.new_sha, branches=outcome.merged,
                                  seconds=seconds, waiting_seconds=waiting))
    slugs = {s.branch: s.slug for s in journal.sessions(run.id)}
    verify_s = outcome.verify.seconds if outcome.verify else 0.0
    per_branch = max(0.0, seconds - verify_s) / max(1, len(outcome.merged))
    for branch in outcome.merged:
        journal.timing(run.id, slugs.get(branch, branch), "merge", per_branch)
    if outcome.verify:
        journal.timing(run.id, "", "verify", outcome.verify.seconds)


def _clean_merged(journal: Journal, checked: Checked, outcome: MergeOutcome,
                  hosts: Hosts) -> tuple[Leftover, ...]:
    """Remove what the merged sessions left; cleanup's own rules keep anything that still holds
    work (a running agent, uncommitted edits, an unmerged branch). Sessions that were not
    merged (skipped, conflicting, deleted by hand) are not touched."""
    run = checked.selection.run
    assert run is not None
    merged = {s.name for s in journal.sessions(run.id) if s.branch in outcome.merged}
    leftovers = [x for x in find_leftovers(journal, [run], force=False, hosts=hosts) if x.session in merged]
    apply_cleanup(journal, [run], leftovers, only=merged, hosts=hosts)
    return tuple(leftovers)
