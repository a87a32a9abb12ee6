"""The one rule for "may subtask X touch path P", shared by validation, the boundary watch
and the Claude Code edit hook.

An entry a subtask owns covers that exact path and, when it is a folder, everything inside
it: `src/` (or `src`) covers `src/a.py`. Paths are compared after symlinks are resolved
in the worktree, so an alias never slips past its real name. Three callers used to have
three answers (validation said `src/` owns `src/a.py`, the boundary watch said it was
outside); now they all ask this module.

Standard library only (`os`, `posixpath`) and no work at import: the PreToolUse hook
imports it on every edit the agent makes, and every millisecond there is the agent's. It is
shipped with the hook to SSH hosts (`engine.agents.kit`), whose python3 may be 3.9: hence
dataclasses without `slots`/`kw_only` and no `X | Y` outside annotations.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

MAX_LISTED = 8
"""How many owned files a refusal names before it says "and N more"."""


def normalize(path: str) -> str:
    """One spelling per repo-relative path: no `./`, no empty parts, no trailing `/`; "" for
    the root. `..` stays: through a symlink `a/../b` need not be `b` (validation refuses it)."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return ("/" if path.startswith("/") else "") + "/".join(parts)


def parents(path: str) -> set[str]:
    """Every folder above `path` (repo-relative, normalized)."""
    out: set[str] = set()
    head = posixpath.dirname(normalize(path))
    while head and head not in out:  # "/" is its own dirname
        out.add(head)
        head = posixpath.dirname(head)
    return out


def covers(entry: str, path: str) -> bool:
    """`entry` is `path`, or a folder that holds it."""
    owned, wanted = normalize(entry), normalize(path)
    return bool(owned) and (wanted == owned or wanted.startswith(owned + "/"))


def owns(owned: Iterable[str], path: str) -> bool:
    """Whether any of `owned` covers `path`."""
    return any(covers(entry, path) for entry in owned)


def owners(table: Mapping[str, Sequence[str]], path: str) -> list[str]:
    """The subtasks (in table order) whose entries cover `path`."""
    return [name for name, owned in table.items() if owns(owned, path)]


def inside(root: str, path: str) -> str | None:
    """`path` (absolute) relative to `root`, both with symlinks resolved; None when outside."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real == real_root:
        return ""
    if not real.startswith(real_root.rstrip("/") + "/"):
        return None
    return real[len(real_root.rstrip("/")) + 1:]


def resolved(root: str, entry: str) -> str:
    """A repo-relative entry as the file it reaches through symlinks in the checkout at `root`;
    the entry itself when it leads outside."""
    real = inside(root, os.path.join(root, normalize(entry)))  # noqa: PTH118 - str paths, no pathlib
    return normalize(entry) if real is None else real


@dataclass(frozen=True)
class Boundaries:
    """What one session may edit: its worktree and files, and what belongs to others."""

    subtask: str
    worktree: str
    owned: tuple[str, ...]
    others: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The other subtasks of the run and their entries."""
    elsewhere: Mapping[str, str] = field(default_factory=dict)
    """Absolute folders that are off limits, with what they are: the main checkout, the other
    sessions' worktrees."""
    protected: Mapping[str, str] = field(default_factory=dict)
    """Absolute files and folders refused by name wherever they are (even in a scratch place):
    this tool's config and state, Claude Code's settings, shell start-up files."""
    scratch: tuple[str, ...] = ()
    """Folders outside the worktree a session may write (the temp dir, which the sandbox uses
    too). Anything else outside the worktree is refused."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    owner: str = ""
    """The other subtask the path belongs to, if any."""
    reason: str = ""
    """For a refusal: what the agent can do instead, in words it can act on."""


def judge(bounds: Boundaries, path: str, cwd: str = "") -> Verdict:
    """May this session write `path` (absolute, or relative to `cwd` / its worktree)?

    Every path is judged as the file it reaches (symlinks resolved, a dangling one by its
    target) and as written: a protected name is refused either way. Inside its worktree: yes
    for its own entries; no for another subtask's; for a path no one owns, yes only when the
    session owns nothing (a quick `run --tasks` split). Outside it: no, except in a scratch
    folder (the temp dir).
    """
    joined = path if path.startswith("/") else os.path.join(cwd or bounds.worktree, path)  # noqa: PTH118
    full = os.path.normpath(joined)
    guarded = _protected(bounds, full)
    if guarded:
        return _refused(bounds, f"{path} is {guarded}, which no session may change")
    rel = inside(bounds.worktree, full)
    if rel is not None:
        return _in_worktree(bounds, path, rel)
    for folder, label in sorted(bounds.elsewhere.items(), key=lambda kv: -len(kv[0])):
        if inside(folder, full) is not None:
            where = f"in {label}, outside this session's worktree {bounds.worktree}"
            return _refused(bounds, f"{path} is {where}")
    if any(inside(folder, full) is not None for folder in bounds.scratch):
        return Verdict(allowed=True)
    through = " (through a symlink)" if _lexically_inside(bounds.worktree, full) else ""
    return _refused(bounds, f"{path} leads outside this session's worktree {bounds.worktree}{through}")


def _refused(bounds: Boundaries, what: str) -> Verdict:
    return Verdict(allowed=False, reason=(
        f"{what}; edit {_listed(bounds.owned)} in {bounds.worktree} instead, "
        "or note the change for the merge"))


def _protected(bounds: Boundaries, full: str) -> str:
    """The label of the protected entry `full` is (or is in), as written or as resolved."""
    real = os.path.realpath(full)
    for entry, label in bounds.protected.items():
        for candidate in (full, real):
            if "*" in entry and fnmatch.fnmatchcase(candidate, entry):
                return label
            if _lexically_inside(entry, candidate) or _lexically_inside(os.path.realpath(entry), candidate):
                return label
    return ""


def _lexically_inside(root: str, path: str) -> bool:
    root = os.path.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def _in_worktree(bounds: Boundaries, path: str, rel: str) -> Verdict:
    mine = [resolved(bounds.worktree, e) for e in bounds.owned]
    if owns(mine, rel):
        return Verdict(allowed=True)
    theirs = {name: [resolved(bounds.worktree, e) for e in entries]
              for name, entries in bounds.others.items()}
    other = next(iter(owners(theirs, rel)), "")
    if not other and not mine:
        return Verdict(allowed=True)
    where = f"belongs to subtask {other}" if other else f"is not one of subtask {bounds.subtask}'s files"
    return Verdict(allowed=False, owner=other, reason=(
        f"{path} {where}; put the change in {_listed(bounds.owned)} or note it for the merge"))


def _listed(owned: Sequence[str]) -> str:
    if not owned:
        return "files no other subtask owns"
    shown = ", ".join(owned[:MAX_LISTED])
    return shown + (f" and {len(owned) - MAX_LISTED} more" if len(owned) > MAX_LISTED else "")
