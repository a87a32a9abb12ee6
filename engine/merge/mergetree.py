"""One `git merge-tree --write-tree` (git ≥ 2.38), read into conflicts of every kind.

merge-tree never touches an index or a working tree: it writes the merged tree into the
object store and says, with exit 1, that it holds conflicts. Content conflicts leave
`<<<<<<<`…`>>>>>>>` hunks in the written blob, so they are read from there; modify/delete,
rename/delete, add/add, binary, file/directory and mode conflicts have no markers, so their
type and what each side did come from merge-tree's informational messages (`-z` form:
count, paths, type, message).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def merge_tree(g: RepoGit, ours: str, theirs: str, labels: tuple[str, str] | None = None) -> TreeMerge:
    """Merge two commits into a tree object; conflicts carry type, message and hunks, whose
    markers name `labels` (branch names) rather than the commit ids merged."""
    result = g.call("merge-tree", "--write-tree", "-z", "--name-only", ours, theirs, ok=(0, 1))
    tree, names, messages = _split(result.text)
    if result.code == 0:
        return TreeMerge(tree=tree, conflicts=())
    if not names:
        raise GitError(f"git merge-tree reported a conflict of {ours} and {theirs} but named no file",
                       hint="run `git merge-tree --write-tree` by hand to see why")
    found = _by_file(messages)
    names_of = {ours: labels[0], theirs: labels[1]} if labels else {}
    conflicts = tuple(_conflict(g, tree, name, found.get(name, []), names_of) for name in names)
    return TreeMerge(tree=tree, conflicts=conflicts)


def _split(raw: str) -> tuple[str, list[str], list[str]]:
    """Tree id, conflicted names (deduplicated, in order), and the message fields."""
    head, _, tail = raw.partition("\0\0")
    fields = head.split("\0")
    names = list(dict.fromkeys(f for f in fields[1:] if f))
    return fields[0], names, tail.split("\0")


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
