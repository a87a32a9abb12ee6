"""What each branch brings to a target: its own commits and files, and red flags.

Its own: not the commits of the other checked branches that a resolve merged into it, nor
those of the branches it builds on (`engine.hosts.own_work`, the rule the board and the report count by too).

A branch with no commits has nothing to merge, and one whose diff deletes most of the
target's tracked files is almost always a worktree that was never checked out (its commit
records an empty tree): both are flagged before anything is merged, the second by the same
rule `status` applies (`engine.run.branch_guard`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from engine.core.places import REPO_CONFIG_NAME
from engine.hosts.gitrepo import RepoGit
from engine.hosts.own_work import OwnWork, own_work

NO_COMMITS = "no commits"
DELETES_MOST = "deletes most tracked files"
EDITS_COMMANDS = "changes what the tool and Claude Code run"
"""The flag of a branch that edits `.parallel-tui.toml` (test, setup and agent commands) or
`.claude/` (hooks, permissions, the sandbox's lists): once merged, later runs execute them."""
COMMAND_FILES = (REPO_CONFIG_NAME, ".claude/")


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchFacts:
    name: str
    sha: str
    commits: int
    """Its own commits that the target does not have."""
    files_changed: tuple[str, ...]
    """What its own commits change (since the merge base with the target when nothing was merged in)."""
    deleted: int
    """Files merging it would delete (its whole diff: a mass deletion is flagged whoever made it)."""
    flags: tuple[str, ...]
    alone: bool = False
    """A line of its own commits on the target itself, sharing none (`OwnWork.alone`)."""


def branches_facts(g: RepoGit, branches: Sequence[tuple[str, str]], target_sha: str,
                   tracked: Callable[[], int], depends: Mapping[str, Sequence[str]]) -> list[BranchFacts]:
    """Facts of each (name, sha) against the target commit, its own work apart from what it
    merged in and from the branches it builds on (`depends`); `tracked` counts the target's
    files, asked only when a branch deletes something."""
    work = own_work(g.path, target_sha, dict(branches), depends, host=g.host)
    none = OwnWork(commits=0, files=(), deleted=0)
    return [_facts(name, sha, work.get(name, none), tracked) for name, sha in branches]


def _facts(name: str, sha: str, work: OwnWork, tracked: Callable[[], int]) -> BranchFacts:
    commits, files, deleted = work.commits, work.files, work.deleted
    flags = []
    if commits == 0:
        flags.append(NO_COMMITS)
    if deleted:
        from engine.run.branch_guard import judged  # noqa: PLC0415 - a branch that deletes files only

        if mass := judged(name, deleted, tracked()):
            flags.append(f"{DELETES_MOST} ({mass.deleted} of {mass.tracked})")
    if commands := command_files(files):
        shown = ", ".join(commands[:3]) + (f" and {len(commands) - 3} more" if len(commands) > 3 else "")
        flags.append(f"{EDITS_COMMANDS}: {shown} (review before merging)")
    return BranchFacts(name=name, sha=sha, commits=commits, files_changed=files,
                       deleted=deleted, flags=tuple(flags), alone=work.alone)


def command_files(files: tuple[str, ...]) -> list[str]:
    """The files among `files` that the tool or Claude Code later run commands from."""
    return [f for f in files if f == COMMAND_FILES[0] or f.startswith(COMMAND_FILES[1])]


def outside_flag(files: Sequence[str], owned: Sequence[str], inherited: Sequence[str] = ()) -> str:
    """`N file(s) outside its files: …` for the files a branch changed that its subtask does
    not own (nor a subtask it builds on: a later wave starts with those); empty when none, or
    when the subtask owns nothing (quick `--tasks` runs)."""
    if not owned:
        return ""
    from engine.core.ownership import owns  # noqa: PLC0415 - a run's branches only: `check a b` needs none
    from engine.run.boundary import OUTSIDE  # noqa: PLC0415

    out = [f for f in files if not owns(owned, f) and not owns(inherited, f)]
    if not out:
        return ""
    listed = ", ".join(out[:3]) + (f" and {len(out) - 3} more" if len(out) > 3 else "")
    return f"{len(out)} file(s) {OUTSIDE}: {listed}"


def tracked_count(g: RepoGit, commit: str) -> int:
    """Files tracked in `commit`'s tree."""
    out = g.call("ls-tree", "-r", "-z", "--name-only", commit).out
    return out.count(b"\0")
