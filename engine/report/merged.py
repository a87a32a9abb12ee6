"""Each session's work as git has it: its own commits and files, also once a merge deleted its branch.

The merge builds one commit per branch whose second parent is the branch's tip
(`engine.merge.chain`) and journals it (`merge_step_finished`); the run's merge records say
which branches moved into the target. The tip stays reachable from the target after the
branch is deleted, so the report still counts the session's commits against the run's base.
Counted by the rule the board and merge review count by (`engine.hosts.own_work`): what a
resolve merged in from the run's other branches is theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.core.errors import GitError
from engine.hosts.gitrepo import RepoGit
from engine.hosts.own_work import own_work
from engine.run.journal import Journal, MergeRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionGit:
    commits: int
    files_changed: int
    lines_added: int
    lines_removed: int
    """Lines: the branch's whole diff from the base, in its own files."""


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


def session_git(g: RepoGit, base_sha: str, depends: Mapping[str, Sequence[str]], branches: Sequence[str],
                merged: Mapping[str, str]) -> dict[str, SessionGit]:
    """Branch → its own work since the base (`depends`: branch → the branches it builds on):
    the branch as git has it now, or, once it is gone, up to its merged tip; a branch deleted
    unmerged (or collected) is left out."""
    if not base_sha:
        return {}
    heads = g.heads()
    tips = {b: tip for b in branches
            if (tip := heads.get(f"refs/heads/{b}") or _merged_tip(g, merged.get(b)))}
    found = {}
    for branch, own in own_work(g.path, base_sha, tips, depends, host=g.host).items():
        stat = g.diffstat(base_sha, tips[branch], own.files) if own.files else None
        found[branch] = SessionGit(commits=own.commits, files_changed=len(own.files),
                                   lines_added=stat.insertions if stat else 0,
                                   lines_removed=stat.deletions if stat else 0)
    return found


def _merged_tip(g: RepoGit, merge_commit: str | None) -> str | None:
    if not merge_commit:
        return None
    try:
        return g.sha(f"{merge_commit}^2")
    except GitError:
        return None  # the commit was never moved and git collected it: nothing to count
