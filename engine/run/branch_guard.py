"""The last guard before a branch is reported done or merged: does it delete the repo?

An agent that commits in a worktree whose checkout never completed commits an index that
lacks almost every file: its branch then deletes most of the repository (one such run
deleted 5,001 files). No subtask is meant to do that, so a branch whose diff against its
base deletes more than half of the base's tracked files is flagged, loudly, wherever a
branch is about to be called finished: `status`, `run --wait`, and a future merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import GitError
from engine.hosts.gitcli import git_bytes
from engine.hosts.host import Host

SHARE = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class MassDeletion:
    ref: str
    deleted: int
    tracked: int

    def warning(self) -> str:
        name = self.ref.removeprefix("refs/heads/")
        return (f"{name} deletes {self.deleted} of the {self.tracked} tracked files of its base — "
                "do not merge it; look at `git diff --stat` first")


def mass_deletion(repo: Path, base_sha: str, ref: str, share: float = SHARE, *,
                  host: Host) -> MassDeletion | None:
    """The deletion, when `ref` deletes more than `share` of `base_sha`'s tracked files; None
    otherwise (or when `ref` is gone). Costs one diff; the base is listed only if it deletes.
    `host`: where the branch is (the session's host)."""
    try:
        deleted = _count(git_bytes(repo, "diff", "--name-only", "-z", "--no-renames",
                                   "--diff-filter=D", base_sha, ref, "--", host=host))
        if not deleted:
            return None
        tracked = _count(git_bytes(repo, "ls-tree", "-r", "-z", "--name-only", base_sha, host=host))
    except GitError:
        return None
    return judged(ref, deleted, tracked, share)


def judged(ref: str, deleted: int, tracked: int, share: float = SHARE) -> MassDeletion | None:
    """The one rule, for callers that counted already (the merge check reads the diff anyway)."""
    return MassDeletion(ref=ref, deleted=deleted, tracked=tracked) if deleted > share * tracked else None


def _count(raw: bytes) -> int:
    return sum(1 for part in raw.split(b"\0") if part)
