"""What one branch brings to a target: its commits, the files it changes, and red flags.

A branch with no commits has nothing to merge, and one whose diff deletes most of the
target's tracked files is almost always a worktree that was never checked out (its commit
records an empty tree): both are flagged before anything is merged, the second by the same
rule `status` applies (`engine.run.branch_guard`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.core.ownership import owns
from engine.core.places import REPO_CONFIG_NAME
from engine.hosts.gitrepo import RepoGit
from engine.run.boundary import OUTSIDE
from engine.run.branch_guard import judged

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
    """Commits on the branch that the target does not have."""
    files_changed: tuple[str, ...]
    """Since the merge base with the target (`target...branch`)."""
    deleted: int
    flags: tuple[str, ...]


def branch_facts(g: RepoGit, name: str, sha: str, target_sha: str,
                 tracked: Callable[[], int]) -> BranchFacts:
    """Facts of `name` (at `sha`) against the target commit; `tracked` counts the target's
    files, asked only when the branch deletes something (two git calls otherwise)."""
    commits = int(g.text("rev-list", "--count", f"{target_sha}..{sha}") or 0)
    status = g.call("diff", "--name-status", "-z", "--no-renames", f"{target_sha}...{sha}").text.split("\0")
    pairs = list(zip(status[::2], status[1::2], strict=False))
    files = tuple(sorted(path for _, path in pairs if path))
    deleted = sum(1 for kind, _ in pairs if kind == "D")
    flags = []
    if commits == 0:
        flags.append(NO_COMMITS)
    if deleted and (mass := judged(name, deleted, tracked())):
        flags.append(f"{DELETES_MOST} ({mass.deleted} of {mass.tracked})")
    if commands := command_files(files):
        shown = ", ".join(commands[:3]) + (f" and {len(commands) - 3} more" if len(commands) > 3 else "")
        flags.append(f"{EDITS_COMMANDS}: {shown} (review before merging)")
    return BranchFacts(name=name, sha=sha, commits=commits, files_changed=files,
                       deleted=deleted, flags=tuple(flags))


def command_files(files: tuple[str, ...]) -> list[str]:
    """The files among `files` that the tool or Claude Code later run commands from."""
    return [f for f in files if f == COMMAND_FILES[0] or f.startswith(COMMAND_FILES[1])]


def outside_flag(files: Sequence[str], owned: Sequence[str], inherited: Sequence[str] = ()) -> str:
    """`N file(s) outside its files: …` for the files a branch changed that its subtask does
    not own (nor a subtask it builds on: a later wave starts with those); empty when none, or
    when the subtask owns nothing (quick `--tasks` runs)."""
    if not owned:
        return ""
    out = [f for f in files if not owns(owned, f) and not owns(inherited, f)]
    if not out:
        return ""
    listed = ", ".join(out[:3]) + (f" and {len(out) - 3} more" if len(out) > 3 else "")
    return f"{len(out)} file(s) {OUTSIDE}: {listed}"


def tracked_count(g: RepoGit, commit: str) -> int:
    """Files tracked in `commit`'s tree."""
    out = g.call("ls-tree", "-r", "-z", "--name-only", commit).out
    return out.count(b"\0")
