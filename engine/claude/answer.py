"""Turning Claude's tool input into subtasks, and the fixes the planner makes on its own.

The model's answer is untrusted input: a wrong type makes it unusable (the planner then
falls back or fails); a subtask with no description or no files is incomplete (asked once
more, then unusable); fixable faults are fixed and said in a note: paths outside the repo
are dropped, a count outside 1..10 is clamped, repeated names get a suffix, and overlaps
and files to modify that do not exist, if they survive the repair round, are merged and
dropped.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from engine.core.models import Conventions, Overlap, Subtask
from engine.planning import shape
from engine.planning.overhead import MAX_ROWS
from engine.planning.validation import find_overlaps, unsafe_path

_CONVENTION_KEYS = tuple(f.name for f in dataclasses.fields(Conventions))


class UnusableAnswer(ValueError):
    """The tool input does not have the plan's shape; the message says what is wrong."""


class IncompleteAnswer(UnusableAnswer):
    """The shape is right but a subtask says no work (no description) or owns no files: worth
    one repair request, since the model can fill it in."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadAnswer:
    subtasks: tuple[Subtask, ...]
    notes: tuple[str, ...]
    conventions: Conventions | None = None
    """The conventions the model reported, or None when it gave none."""


def read_answer(tool_input: object, *, task: str, default_minutes: float) -> ReadAnswer:
    """Parse and tidy one `emit_plan` input; raise UnusableAnswer when it has the wrong shape."""
    if not isinstance(tool_input, Mapping):
        raise UnusableAnswer("the tool input is not an object")
    raw = tool_input.get("subtasks")
    if not isinstance(raw, list):
        raise UnusableAnswer("the tool input has no subtasks list")
    notes: list[str] = []
    subtasks = [_subtask(item, i, default_minutes, notes) for i, item in enumerate(raw, 1)]
    subtasks = _unique(subtasks, notes)
    if not subtasks:
        notes.append("Claude returned 0 subtasks; clamped to 1 covering the whole task")
        subtasks = [Subtask(name="task", description=task, estimated_minutes=default_minutes)]
    if len(subtasks) > MAX_ROWS:
        notes.append(f"Claude returned {len(subtasks)} subtasks; clamped to {MAX_ROWS} by folding "
                     f"{', '.join(s.name for s in subtasks[MAX_ROWS - 1:])} into one")
        subtasks = [*subtasks[: MAX_ROWS - 1], merge(subtasks[MAX_ROWS - 1:])]
    return ReadAnswer(subtasks=tuple(subtasks), notes=tuple(notes),
                      conventions=read_conventions(tool_input.get("conventions"), notes))


def read_conventions(raw: object, notes: list[str]) -> Conventions | None:
    """The answer's `conventions`: its string fields kept, anything else left out with a note."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        notes.append("ignored Claude's conventions: not an object")
        return None
    kept = {k: " ".join(v.split()) for k in _CONVENTION_KEYS if isinstance(v := raw.get(k), str)}
    wrong = [k for k in _CONVENTION_KEYS if k in raw and k not in kept]
    if wrong:
        notes.append(f"ignored Claude's conventions.{', conventions.'.join(wrong)}: not text")
    return Conventions(**kept) if any(kept.values()) else None


def _subtask(item: object, index: int, default_minutes: float, notes: list[str]) -> Subtask:
    if not isinstance(item, Mapping):
        raise UnusableAnswer(f"subtask {index} is not an object")
    name = _text(item, "name", index).strip() or f"part-{index}"
    description = _text(item, "description", index).strip()
    try:
        minutes = shape.number(item.get("estimated_minutes", default_minutes),
                               f"subtask {index} estimated_minutes", low=-math.inf, high=math.inf)
    except shape.ShapeError as exc:
        raise UnusableAnswer(str(exc)) from None
    modify = _paths(item, "files_to_modify", name, notes)
    create = _paths(item, "files_to_create", name, notes)
    if not description:
        raise IncompleteAnswer(f"subtask {index} ({name}) has no description")
    if not modify and not create:
        raise IncompleteAnswer(f"subtask {index} ({name}) names no files to modify or create")
    return Subtask(name=name, description=description, files_to_modify=modify, files_to_create=create,
                   depends_on=tuple(dict.fromkeys(_strings(item, "depends_on", index))),
                   estimated_minutes=max(0.0, float(minutes)))


def _text(item: Mapping[str, object], key: str, index: int) -> str:
    try:
        return shape.text(item.get(key), f"subtask {index} {key}")
    except shape.ShapeError as exc:
        raise UnusableAnswer(str(exc)) from None


def _strings(item: Mapping[str, object], key: str, index: int | str) -> list[str]:
    """The same check as a plan file's (`engine.planning.shape`): a list of plain strings."""
    try:
        value = shape.string_list(item.get(key), f"subtask {index} {key}")
    except shape.ShapeError as exc:
        raise UnusableAnswer(str(exc)) from None
    return [v.strip() for v in value if v.strip()]


def _paths(item: Mapping[str, object], key: str, name: str, notes: list[str]) -> tuple[str, ...]:
    """Repo-relative paths; any that would leave the repo are dropped, with a note."""
    kept: list[str] = []
    for path in _strings(item, key, name):
        clean = path.removeprefix("./")
        why = unsafe_path(clean)
        if why:
            notes.append(f"dropped {path!r} from {name}: {why}")
        elif clean not in kept:
            kept.append(clean)
    return tuple(kept)


def unknown_files(subtasks: Sequence[Subtask], files: Collection[str],
                  dirs: Collection[str]) -> dict[str, tuple[str, ...]]:
    """Subtask name → the files it would modify that are not in the tree (a file or a folder/)."""
    out = {}
    for sub in subtasks:
        missing = tuple(p for p in sub.files_to_modify
                        if p not in files and f"{p.rstrip('/')}/" not in dirs)
        if missing:
            out[sub.name] = missing
    return out


def drop_unknown(subtasks: Sequence[Subtask],
                 unknown: Mapping[str, tuple[str, ...]]) -> tuple[tuple[Subtask, ...], tuple[str, ...]]:
    """Remove files to modify that do not exist (after the repair round), saying which."""
    notes = [f"dropped {', '.join(unknown[s.name])} from {s.name}: not in the repository"
             for s in subtasks if s.name in unknown]
    kept = tuple(dataclasses.replace(s, files_to_modify=tuple(
        p for p in s.files_to_modify if p not in unknown.get(s.name, ()))) for s in subtasks)
    return kept, tuple(notes)


def tidy(subtasks: tuple[Subtask, ...], notes: Sequence[str], files: Collection[str],
         dirs: Collection[str]) -> tuple[tuple[Subtask, ...], tuple[str, ...]]:
    """The last fixes on an answer: files to modify that do not exist are dropped, subtasks that
    still share a file are merged; each said in a note."""
    kept, drop_notes = drop_unknown(subtasks, unknown_files(subtasks, files, dirs))
    left = find_overlaps(kept, dirs)
    if not left:
        return kept, (*notes, *drop_notes)
    merged, merge_notes = merge_overlapping(kept, left)
    return merged, (*notes, *drop_notes, *merge_notes)


def _unique(subtasks: list[Subtask], notes: list[str]) -> list[Subtask]:
    seen: set[str] = set()
    out = []
    for sub in subtasks:
        name, n = sub.name, 1
        while name in seen:
            n += 1
            name = f"{sub.name}-{n}"
        if name != sub.name:
            notes.append(f"renamed a second subtask {sub.name!r} to {name!r}")
        seen.add(name)
        out.append(dataclasses.replace(sub, name=name))
    return out


def merge(group: Sequence[Subtask]) -> Subtask:
    """One subtask doing the work of `group`, sequentially: its files, minutes and deps summed."""
    first = group[0]
    names = {s.name for s in group}
    modify = _ordered(p for s in group for p in s.files_to_modify)
    create = [p for p in _ordered(p for s in group for p in s.files_to_create) if p not in modify]
    return Subtask(name=first.name, description="; ".join(s.description for s in group),
                   files_to_modify=tuple(modify), files_to_create=tuple(create),
                   depends_on=tuple(d for d in _ordered(d for s in group for d in s.depends_on)
                                    if d not in names),
                   estimated_minutes=sum(s.estimated_minutes for s in group))


def merge_overlapping(subtasks: Sequence[Subtask],
                      overlaps: Sequence[Overlap]) -> tuple[tuple[Subtask, ...], tuple[str, ...]]:
    """Merge every group of subtasks linked by a shared file; rename deps to the survivor."""
    parent = {s.name: s.name for s in subtasks}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    for overlap in overlaps:
        first, *rest = [n for n in overlap.subtasks if n in parent]
        for other in rest:
            parent[root(other)] = root(first)
    groups: dict[str, list[Subtask]] = {}
    for sub in subtasks:
        groups.setdefault(root(sub.name), []).append(sub)
    survivor = {s.name: group[0].name for group in groups.values() for s in group}
    notes = []
    merged = []
    for group in groups.values():
        one = merge(group) if len(group) > 1 else group[0]
        if len(group) > 1:
            shared = sorted({o.file for o in overlaps if set(o.subtasks) & {s.name for s in group}})
            notes.append(f"merged {', '.join(s.name for s in group)} into {one.name}: they still "
                         f"shared {', '.join(shared)} after one repair request")
        deps = _ordered(survivor.get(d, d) for d in one.depends_on)
        merged.append(dataclasses.replace(one, depends_on=tuple(d for d in deps if d != one.name)))
    return tuple(merged), tuple(notes)


def _ordered(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
