"""A session's changes one file at a time, as (path, before, after): what a diff viewer draws.

Why whole texts and not a patch: a side-by-side view highlights and aligns both sides itself
(the app's `d`), and a face that shows them never runs git. Same span as `Engine.diff`: the
branch against its merge base with the run's base (`git diff base...branch`), so only the
session's own changes show, whatever moved on the base since.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import GitError
from engine.hosts.gitcli import git

MAX_BYTES = 256 * 1024
"""A side larger than this is not shown in full (a generated or vendored file)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileDiff:
    path: str
    """The path after the change (before it, for a deleted file)."""
    before: str
    """Its text at the merge base ("" when the session created it)."""
    after: str
    """Its text on the branch ("" when the session deleted it)."""
    status: str
    """`added`, `modified`, `deleted` or `renamed from <old path>`."""
    note: str = ""
    """Why the texts are left out: `binary`, or `too large (N kB)`."""


_STATUS = {"A": "added", "M": "modified", "D": "deleted", "T": "modified"}


def file_diffs(repo: Path, base_sha: str, branch: str) -> tuple[FileDiff, ...]:
    """Every file the branch changed since its merge base with `base_sha`, in path order."""
    base = git(repo, "merge-base", base_sha, f"refs/heads/{branch}").strip()
    words = git(repo, "diff", "--name-status", "-z", "-M", base, f"refs/heads/{branch}").split("\0")
    out: list[FileDiff] = []
    i = 0
    while i < len(words) and words[i]:
        code = words[i][:1]
        if code == "R":
            old, new = words[i + 1], words[i + 2]
            i += 3
        else:
            old = new = words[i + 1]
            i += 2
        status = f"renamed from {old}" if code == "R" else _STATUS.get(code, "modified")
        before, why_before = ("", "") if code == "A" else _side(repo, f"{base}:{old}")
        after, why_after = ("", "") if code == "D" else _side(repo, f"refs/heads/{branch}:{new}")
        note = why_before or why_after
        out.append(FileDiff(path=new, before="" if note else before, after="" if note else after,
                            status=status, note=note))
    return tuple(sorted(out, key=lambda d: d.path))


def _side(repo: Path, spec: str) -> tuple[str, str]:
    """One side's text, or ("", why it is left out)."""
    try:
        size = int(git(repo, "cat-file", "-s", spec).strip() or 0)
    except (GitError, ValueError):
        return "", ""
    if size > MAX_BYTES:
        return "", f"too large ({size // 1024} kB)"
    data = git(repo, "show", spec)
    return ("", "binary") if "\0" in data else (data, "")
