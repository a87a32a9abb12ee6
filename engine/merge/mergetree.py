"""`git merge-tree --write-tree --stdin` (git ≥ 2.39), read into conflicts of every kind.

merge-tree never touches an index or a working tree: it writes each merged tree into the
object store and says, by a status field, whether it holds conflicts. With `--stdin` one
git process merges a whole batch of pairs: `check`'s 36 merges of 8 branches on 5,000 files
took ~12 ms so, ~85 ms in a process each (bench/check.py: one batch per core). Content
conflicts leave `<<<<<<<`…`>>>>>>>` hunks in the written blob, so they are read from there;
modify/delete, rename/delete, add/add, binary, file/directory and mode conflicts have no
markers, so their type and what each side did come from merge-tree's informational messages
(`-z` form: count, paths, type, message).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from engine.core.errors import GitError
from engine.hosts.gitrepo import RepoGit

_TYPE_IN_MESSAGE = re.compile(r"^CONFLICT \(([^)]+)\)")
_SPECIFIC_FIRST = ("binary", "modify/delete", "rename/delete", "file/directory", "rename/rename",
                   "add/add", "submodule")
MAX_HUNK_LINES = 80


@dataclass(frozen=True, slots=True, kw_only=True)
class FileConflict:
    file: str
    type: str
    """`content`, `add/add`, `modify/delete`, `rename/delete`, `binary`, `file/directory`, …"""
    message: str
    hunks: tuple[str, ...] = ()
    """Each `<<<<<<<`…`>>>>>>>` block of a text conflict, as merge-tree wrote it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeMerge:
    tree: str
    conflicts: tuple[FileConflict, ...]

    @property
    def clean(self) -> bool:
        return not self.conflicts

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(c.file for c in self.conflicts)


Merge: TypeAlias = "tuple[str, str, tuple[str, str] | None]"
"""Ours, theirs (commits), and the labels (branch names) the conflict markers get, if any."""


MIN_GIT = "2.39"
"""The oldest git whose `merge-tree` takes `--write-tree --stdin`, which every check and merge uses."""
USAGE = 129
"""git's exit code for a usage error (an unknown option)."""


def merge_tree(g: RepoGit, ours: str, theirs: str, labels: tuple[str, str] | None = None) -> TreeMerge:
    """Merge two commits into a tree object; conflicts carry type, message and hunks, whose
    markers name `labels` (branch names) rather than the commit ids merged."""
    return merge_trees(g, [(ours, theirs, labels)])[0]


def merge_trees(g: RepoGit, merges: Sequence[Merge]) -> list[TreeMerge]:
    """Each merge of `merges` (commits by id: a line holds two words), in order, from one git
    process (`--stdin`): the same merges one `merge-tree` each would make, without a process
    start each."""
    if not merges:
        return []
    lines = "".join(f"{ours} {theirs}\n" for ours, theirs, _ in merges)
    done = g.call("merge-tree", "--write-tree", "-z", "--name-only", "--messages", "--stdin",
                  stdin=lines.encode("utf-8", "surrogateescape"), ok=(0, USAGE))
    if done.code == USAGE:  # git's answer to an option it does not know
        raise GitError("this git cannot merge without a work tree (`git merge-tree --write-tree --stdin`)",
                       hint=f"install git {MIN_GIT} or newer (`git --version` says which you have)")
    out = done.text
    fields, at = out.split("\0"), 0
    results = []
    for ours, theirs, labels in merges:
        try:
            clean, tree, names, messages, at = _section(fields, at)
        except (IndexError, ValueError):
            raise GitError(f"git merge-tree said less than {len(merges)} merges' results",
                           hint="run `git merge-tree --write-tree --stdin` by hand to see why") from None
        results.append(_merge(g, (ours, theirs, labels), clean, tree, names, messages))
    return results


def _section(fields: list[str], at: int) -> tuple[bool, str, list[str], list[str], int]:
    """One merge's part of `--stdin -z --messages` output from field `at`: status (1: clean),
    tree, conflicted names, an empty field, message records (count, paths, type, message), an
    empty field. Clean or not, the same shape (`--messages`). Also: where the next one starts."""
    clean, tree, at = fields[at] == "1", fields[at + 1], at + 2
    end = fields.index("", at)
    names = list(dict.fromkeys(fields[at:end]))
    at = start = end + 1
    while fields[at]:
        at += 3 + int(fields[at])
    return clean, tree, names, fields[start:at], at + 1


def _merge(g: RepoGit, merge: Merge, clean: bool, tree: str, names: list[str],
           messages: list[str]) -> TreeMerge:
    ours, theirs, labels = merge
    if clean:
        return TreeMerge(tree=tree, conflicts=())
    if not names:
        raise GitError(f"git merge-tree reported a conflict of {ours} and {theirs} but named no file",
                       hint="run `git merge-tree --write-tree` by hand to see why")
    found = _by_file(messages)
    names_of = {ours: labels[0], theirs: labels[1]} if labels else {}
    conflicts = tuple(_conflict(g, tree, name, found.get(name, []), names_of) for name in names)
    return TreeMerge(tree=tree, conflicts=conflicts)


def _by_file(fields: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Message fields → {path: [(type, message)]}, every path of each message."""
    out: dict[str, list[tuple[str, str]]] = {}
    i = 0
    while i < len(fields) and fields[i].isdigit():
        count = int(fields[i])
        paths = fields[i + 1:i + 1 + count]
        kind, message = ([*fields[i + 1 + count:i + 3 + count], "", ""])[:2]
        for path in paths:
            out.setdefault(path, []).append((kind, message.strip()))
        i += 3 + count
    return out


def _conflict(g: RepoGit, tree: str, name: str, notes: list[tuple[str, str]],
              names_of: dict[str, str]) -> FileConflict:
    kind, message = _most_specific(notes)
    hunks = _hunks(g, tree, name) if kind in ("content", "add/add") else ()
    for sha, label in names_of.items():
        message = message.replace(sha, label)
        hunks = tuple(h.replace(f"<<<<<<< {sha}", f"<<<<<<< {label}")
                      .replace(f">>>>>>> {sha}", f">>>>>>> {label}") for h in hunks)
    return FileConflict(file=name, type=kind, message=message, hunks=hunks)


def _most_specific(notes: list[tuple[str, str]]) -> tuple[str, str]:
    """The conflict's own type: `CONFLICT (add/add)` in the message beats the field's
    `CONFLICT (contents)`, and a binary file's warning beats its content conflict."""
    kinds: list[tuple[str, str]] = []
    for field, message in notes:
        match = _TYPE_IN_MESSAGE.match(message)
        kind = match.group(1) if match else field.removeprefix("CONFLICT (").removesuffix(")")
        if field.startswith("CONFLICT"):
            kinds.append((kind, message))
    if not kinds:
        return "content", "; ".join(m for _, m in notes) or "conflict"
    for special in _SPECIFIC_FIRST:
        for kind, message in kinds:
            if kind == special:
                return kind, message
    return kinds[0]


def _hunks(g: RepoGit, tree: str, name: str) -> tuple[str, ...]:
    """The marker blocks merge-tree left in the merged blob (none if it is binary or gone)."""
    blob = g.blob(f"{tree}:{name}")
    if not blob or b"\0" in blob[:8000]:
        return ()
    hunks: list[str] = []
    block: list[str] | None = None
    for line in blob.decode("utf-8", "replace").splitlines():
        if line.startswith("<<<<<<< "):
            block = [line]
        elif block is not None:
            block.append(line)
            if line.startswith(">>>>>>> "):
                hunks.append("\n".join(block[:MAX_HUNK_LINES]))
                block = None
    return tuple(hunks)
