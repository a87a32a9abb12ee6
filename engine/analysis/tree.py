"""What a checkout's tree says about planned paths: symlinks that leave it, submodules, folders.

A path like `escape/pwn.txt` reads as harmless text, yet `escape` may be a tracked symlink to
`/somewhere`, so an agent told to write it writes outside the repository; and `alias/x.py`
may be `src/auth/x.py` under a second name. Only the file system can tell, so every planned
path is resolved against the real path of the checkout an agent will write in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.hosts.gitcli import git_bytes

_SUBMODULE = b"160000"


@dataclass(frozen=True, slots=True, kw_only=True)
class RepoTree:
    """The facts validation needs about one checkout; `root=None` checks paths as text only."""

    root: Path | None = None
    files: tuple[str, ...] = ()
    """Every tracked path (`git ls-files`), submodules included."""
    dirs: frozenset[str] = frozenset()
    """Every folder holding a tracked file, with a trailing `/`."""
    submodules: frozenset[str] = frozenset()


def read_tree(repo: Path) -> RepoTree:
    """One `git ls-files -s` gives the tracked folders and the submodules (mode 160000)."""
    files: list[str] = []
    submodules: set[str] = set()
    for entry in git_bytes(repo, "ls-files", "-s", "-z").split(b"\0"):
        if not entry:
            continue
        meta, _, raw = entry.partition(b"\t")
        name = raw.decode("utf-8", "surrogateescape")
        files.append(name)
        if meta.startswith(_SUBMODULE):
            submodules.add(name)
    return RepoTree(root=repo, files=tuple(files), dirs=frozenset(folders_of(files)),
                    submodules=frozenset(submodules))


def folders_of(files: list[str] | tuple[str, ...] | set[str] | frozenset[str]) -> set[str]:
    """Every folder that holds one of `files`, with a trailing slash."""
    out: set[str] = set()
    for name in files:
        for parent in PurePosixPath(name).parents:
            if str(parent) == ".":
                break
            text = f"{parent}/"
            if text in out:
                break
            out.add(text)
    return out


def path_escape(root: Path, path: str) -> str | None:
    """Why `path`, resolved in the checkout at `root` (symlinks followed), leaves it or lands in
    `.git`; None when it stays inside. The run engine may call this for each worktree it writes in.
    A symlink with an absolute target is refused even when it points inside: in a worktree it
    still points at the main checkout, so the agent would write outside its worktree."""
    real_root = Path(os.path.realpath(root))
    target = Path(os.path.realpath(real_root / path))
    link = _first_link(real_root, path)
    via = f" through symlink {link[0]} -> {link[1]}" if link else ""
    try:
        inside = target.relative_to(real_root)
    except ValueError:
        return f"leaves the repository{via}"
    if inside.parts[:1] == (".git",):
        return f"inside .git{via}"
    if not inside.parts:
        return f"names the whole repository{via}"
    if absolute := _absolute_link(real_root, path):
        return f"goes through symlink {absolute[0]} -> {absolute[1]}, which leads out of a worktree"
    return None


def real_name(root: Path, path: str) -> str:
    """The repo-relative name of the file `path` reaches (symlinks followed), for spotting
    one file planned under two names; `path` itself when it leaves the checkout."""
    real_root = Path(os.path.realpath(root))
    target = Path(os.path.realpath(real_root / path))
    try:
        inside = target.relative_to(real_root)
    except ValueError:
        return path
    return "" if str(inside) == "." else inside.as_posix()


def _first_link(root: Path, path: str) -> tuple[str, str] | None:
    """The first component of `path` that is a symlink, and where it points."""
    current = root
    try:
        for part in PurePosixPath(path).parts:
            current = current / part
            if current.is_symlink():
                return current.relative_to(root).as_posix(), str(current.readlink())
            if not current.exists():
                return None
    except OSError:  # a name too long, a permission denied: nothing to name
        return None
    return None


def _absolute_link(root: Path, path: str, max_hops: int = 40) -> tuple[str, str] | None:
    """The first symlink met while resolving `path` under `root` whose target is absolute."""
    pending = list(PurePosixPath(path).parts)
    current, hops = root, 0
    try:
        while pending and hops <= max_hops:
            part = pending.pop(0)
            step = current / part
            if part == "..":
                current = current.parent
            elif step.is_symlink():
                hops += 1
                target = step.readlink()
                if target.is_absolute():
                    return os.path.relpath(step, root), str(target)
                pending[:0] = target.parts
            else:
                current = step
    except OSError:  # unreadable: the realpath check above has the last word
        return None
    return None
