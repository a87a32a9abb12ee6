"""The embedded planner: splits a task with no API key, from its wording and the repo.

It names the parts the task names ("with frontend and backend", "a, b and c"), adds tests
and docs when more splits pay, and splits a one-part task across the repo's modules. Each
file is claimed by at most one subtask, so its drafts are disjoint by construction; the
shared validation still checks them like any other planner's.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from engine.analysis.layout import area_of, read_layout
from engine.analysis.localize import index_for, rank
from engine.analysis.localize_index import FileIndex
from engine.core.models import FileReason, Subtask
from engine.planning.localize_plan import MAX_PLAN_FILES, SIDE_FILES, FilePicker, PartFiles
from engine.planning.overhead import parallel_minutes
from engine.planning.port import Draft, PlanRequest
from engine.planning.task_text import TaskShape, read_task, slug

_CREATIVE_VERBS = {"implement", "add", "build", "create", "write", "design", "introduce", "make",
                   "support", "document"}
"""Verbs that bring something new: their parts propose a new file beside the related ones."""
_SWEEP_WORDS = {"across", "throughout", "entire", "whole", "everywhere", "codebase", "all"}
_WIDE_VERBS = {"refactor", "improve", "migrate", "update", "rework", "document", "fix"}
_FACET_ORDER = ("backend", "frontend", "tests", "docs")
_FACET_WORK = {
    "backend": "server-side logic and data handling", "frontend": "user interface components",
    "tests": "unit and integration tests", "docs": "documentation and usage notes",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Part:
    name: str
    description: str
    area: str | None
    stem: str
    module: str | None = None
    query: str = ""
    """What to rank the repo's files by: the part's own words."""


class OfflinePlanner:
    """Rule-based drafts; deterministic for the same task and repo."""

    name = "offline"

    def __init__(self, index: FileIndex | None = None) -> None:
        self.index = index
        """The repo's file index; read (or built) from the state directory when not given."""

    async def draft(self, request: PlanRequest) -> Draft:
        shape = read_task(request.task)
        index = self.index if self.index is not None else await asyncio.to_thread(
            index_for, Path(request.repo.root), request.repo.head, request.files)
        parts = candidate_parts(shape, request, spread=_is_sweeping(shape, index, request))
        notes: list[str] = []
        if len(parts) < request.splits:
            notes.append(f"the task names {len(parts)} independent part(s); planned "
                         f"{len(parts)} instead of {request.splits}")
        chosen = fold_parts(parts, max(1, request.splits))
        picker = FilePicker(index=index, files=request.files, head=shape.head,
                            layout=read_layout(request.repo, request.files))
        minutes = parallel_minutes(request.estimate.sequential_minutes, len(chosen),
                                   request.config)
        subtasks = assign_files(chosen, picker, round(minutes, 1),
                                creative=shape.verb in _CREATIVE_VERBS)
        return Draft(subtasks=subtasks, planner=self.name, notes=tuple(notes))


def _is_sweeping(shape: TaskShape, index: FileIndex, request: PlanRequest) -> bool:
    """A wide verb ("refactor", "fix") sweeps the modules only when the task says so ("across the
    codebase") or names nothing the repo's paths or symbols hold; otherwise it is one change."""
    if shape.verb not in _WIDE_VERBS:
        return False
    if _SWEEP_WORDS & set(re.findall(r"[a-z]+", request.task.lower())):
        return True
    return not any(r.words for r in rank(index, request.task, limit=10, within=request.files))


def candidate_parts(shape: TaskShape, request: PlanRequest, *, spread: bool = True) -> list[_Part]:
    """Parts in priority order: the main work, then tests and docs.

    The main work is the layers the task names (backend, frontend), else the features it
    lists, else one part per code module for a sweeping task (`spread`), else one core part.
    Tests and docs, named or not, come after it, so folding never drops the main work.
    """
    verb = shape.verb.capitalize()
    layers = [f for f in _FACET_ORDER[:2] if f in shape.facets]
    parts: list[_Part] = []
    if layers:
        parts += [_Part(name=f"{shape.stem}-{facet}", area=facet, stem=shape.stem, query=shape.subject,
                        description=f"{verb} {shape.subject}: {_FACET_WORK[facet]}") for facet in layers]
    elif len(shape.features) > 1:
        modules = _code_modules(request)
        for feature in shape.features:
            stem = slug(" ".join(feature.split()[:3]), limit=24)
            parts.append(_Part(name=stem, area=None, stem=stem, description=f"{verb} {feature}",
                               module=_named_module(feature, modules), query=feature))
    elif spread and shape.verb in _WIDE_VERBS and len(code_modules := _code_modules(request)) >= 2:
        for module in code_modules[: request.splits]:
            parts.append(_Part(name=slug(f"{shape.stem}-{module}"), area=None, stem=shape.stem,
                               module=module, description=f"{verb} {shape.subject} in {module}/"))
    else:
        parts.append(_Part(name=f"{shape.stem}-core", area=None, stem=shape.stem, query=request.task,
                           description=f"{verb} {shape.subject}"))
    extras = sorted(("tests", "docs"), key=lambda f: f not in shape.facets)  # named ones first
    for extra in extras:
        parts.append(_Part(name=f"{shape.stem}-{extra}", area=extra, stem=shape.stem, query=shape.subject,
                           description=f"{_FACET_WORK[extra].capitalize()} for {shape.subject}"))
    return _unique_names(parts)


def _named_module(text: str, modules: list[str]) -> str | None:
    """The repo module a feature names by its folder name ("… in the tui" → `tui`)."""
    words = set(re.findall(r"[a-z0-9_-]+", text.lower()))
    return next((m for m in modules if m.rsplit("/", 1)[-1].lower() in words), None)


def _code_modules(request: PlanRequest) -> list[str]:
    """Modules holding code; tests/ and docs/ get their own tests and docs subtasks."""
    return [m.path for m in request.repo.modules if area_of(f"{m.path}/x") not in ("tests", "docs")]


def _unique_names(parts: list[_Part]) -> list[_Part]:
    seen: dict[str, int] = {}
    out = []
    for part in parts:
        count = seen.get(part.name, 0)
        seen[part.name] = count + 1
        name = part.name if count == 0 else f"{part.name}-{count + 1}"
        out.append(replace(part, name=name))
    return out


def fold_parts(parts: list[_Part], splits: int) -> list[_Part]:
    """Keep the first `splits - 1` parts and fold the rest into the last one."""
    if len(parts) <= splits:
        return parts
    kept, rest = parts[: splits - 1], parts[splits - 1:]
    if len(rest) == 1:
        return [*kept, rest[0]]
    merged = replace(rest[0], description="; ".join(p.description for p in rest))
    return [*kept, merged]


def assign_files(parts: Sequence[_Part], picker: FilePicker, minutes: float, *,
                 creative: bool) -> tuple[Subtask, ...]:
    """Give each part its existing and new files from the task's ranking; a file goes to the
    first part that wants it. Parts that own a whole module folder claim first, so no other
    part's file lands inside it; tests follow the code the main parts change."""
    picker.claimed.update(f"{p.module}/" for p in parts if p.module is not None)
    owned: dict[str, PartFiles] = {}
    main = [p for p in parts if p.module is None and p.area not in ("tests", "docs")]
    budget = MAX_PLAN_FILES - SIDE_FILES * (len(parts) - len(main)) - sum(p.module is not None for p in parts)
    for part in parts:
        if part.module is not None:
            folder = f"{part.module}/"
            owned[part.name] = PartFiles(modify=[folder], reasons=[FileReason(
                path=folder, rank=None, why="the whole module: the task sweeps the repo's modules")])
        elif part.area not in ("tests", "docs"):
            owned[part.name] = picker.main(part.query, part.area, part.stem, creative=creative,
                                           limit=budget // max(1, len(main)))
    sources = [f for files in owned.values() for f in files.modify if not f.endswith("/")]
    for part in parts:
        if part.area == "tests" and part.module is None:
            owned[part.name] = picker.tests(sources, part.query, part.stem, creative=creative)
        elif part.area == "docs" and part.module is None:
            owned[part.name] = picker.docs(part.query, part.stem, creative=creative)
    return tuple(Subtask(name=p.name, description=p.description,
                         files_to_modify=tuple(owned[p.name].modify),
                         files_to_create=tuple(owned[p.name].create), estimated_minutes=minutes,
                         file_reasons=tuple(owned[p.name].reasons))
                 for p in parts)
