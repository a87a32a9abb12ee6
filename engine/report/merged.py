"""Where a merged session's work is once the merge deleted its branch: its merge commit.

The merge builds one commit per branch whose second parent is the branch's tip
(`engine.merge.chain`) and journals it (`merge_step_finished`); the run's merge records say
which branches moved into the target. The tip stays reachable from the target after the
branch is deleted, so the report still counts the session's commits against the run's base.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.core.errors import GitError
from engine.hosts.gitrepo import RepoGit
from engine.hosts.worktrees import BranchHistory, branch_history
from engine.run.journal import Journal, MergeRecord


def merge_commits(journal: Journal, run_id: str, merges: Sequence[MergeRecord]) -> dict[str, str]:
    """Branch → the journaled commit that merged it, for the branches a merge moved (a dry run
    or a refused merge journals steps too: the last one of a moved branch is the one that moved)."""
    moved = {b for m in merges for b in m.branches}
    commits: dict[str, str] = {}
    for _, kind, payload in journal.events(run_id):
        branch, commit = str(payload.get("branch", "")), str(payload.get("commit", ""))
        if kind == "merge_step_finished" and branch in moved and commit:
            commits[branch] = commit
    return commits


def history(g: RepoGit, base_sha: str, branch: str, merge_commit: str | None) -> BranchHistory | None:
    """The branch since the base as git has it now, or, once it is gone, up to its merged tip."""
    live = branch_history(g, base_sha, branch)
    if live is not None or not merge_commit or not base_sha:
        return live
    try:
        tip = g.sha(f"{merge_commit}^2")
        if tip is None:
            return None
        return BranchHistory(commits=g.commits(base_sha, tip), stat=g.diffstat(base_sha, tip))
    except GitError:
        return None  # the commit was never moved and git collected it: nothing to count
