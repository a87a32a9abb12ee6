"""The embedded planner: splits a task with no API key, from its wording and the repo.

It names the parts the task names ("with frontend and backend", "a, b and c"), adds tests
and docs when more splits pay, and splits a one-part task across the repo's modules. Each
file is claimed by at most one subtask, so its drafts are disjoint by construction; the
shared validation still checks them like any other planner's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from engine.models import Subtask
from engine.overhead import parallel_minutes
from engine.planner_port import Draft, PlanRequest
from engine.repo_layout import Layout, area_of, read_layout
from engine.task_text import TaskShape, read_task, slug

MAX_FILES_PER_SUBTASK = 12
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


class OfflinePlanner:
    """Rule-based drafts; deterministic for the same task and repo."""

    name = "offline"

    async def draft(self, request: PlanRequest) -> Draft:
        shape = read_task(request.task)
        parts = candidate_parts(shape, request)
        notes: list[str] = []
        if len(parts) < request.splits:
            notes.append(f"the task names {len(parts)} independent part(s); planned "
                         f"{len(parts)} instead of {request.splits}")
        chosen = fold_parts(parts, max(1, request.splits))
        layout = read_layout(request.repo, request.files)
        minutes = parallel_minutes(request.estimate.sequential_minutes, len(chosen),
                                   request.config)
        subtasks = assign_files(chosen, layout, request.files, round(minutes, 1))
        return Draft(subtasks=subtasks, planner=self.name, notes=tuple(notes))


def candidate_parts(shape: TaskShape, request: PlanRequest) -> list[_Part]:
    """Parts in priority order: the main work, then tests and docs.

    The main work is the layers the task names (backend, frontend), else the features it
    lists, else one part per code module for a sweeping verb, else one core part. Tests and
    docs, named or not, come after it, so folding never drops the main work.
    """
    verb = shape.verb.capitalize()
    layers = [f for f in _FACET_ORDER[:2] if f in shape.facets]
    parts: list[_Part] = []
    if layers:
        parts += [_Part(name=f"{shape.stem}-{facet}", area=facet, stem=shape.stem,
                        description=f"{verb} {shape.subject}: {_FACET_WORK[facet]}") for facet in layers]
    elif len(shape.features) > 1:
        modules = _code_modules(request)
        for feature in shape.features:
            stem = slug(" ".join(feature.split()[:3]), limit=24)
            parts.append(_Part(name=stem, area=None, stem=stem, description=f"{verb} {feature}",
                               module=_named_module(feature, modules)))
    elif shape.verb in _WIDE_VERBS and len(code_modules := _code_modules(request)) >= 2:
        for module in code_modules[: request.splits]:
            parts.append(_Part(name=slug(f"{shape.stem}-{module}"), area=None, stem=shape.stem,
                               module=module, description=f"{verb} {shape.subject} in {module}/"))
    else:
        parts.append(_Part(name=f"{shape.stem}-core", area=None, stem=shape.stem,
                           description=f"{verb} {shape.subject}"))
    extras = sorted(("tests", "docs"), key=lambda f: f not in shape.facets)  # named ones first
    for extra in extras:
        parts.append(_Part(name=f"{shape.stem}-{extra}", area=extra, stem=shape.stem,
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
        out.append(_Part(name=name, description=part.description, area=part.area,
                         stem=part.stem, module=part.module))
    return out


def fold_parts(parts: list[_Part], splits: int) -> list[_Part]:
    """Keep the first `splits - 1` parts and fold the rest into the last one."""
    if len(parts) <= splits:
        return parts
    kept, rest = parts[: splits - 1], parts[splits - 1:]
    if len(rest) == 1:
        return [*kept, rest[0]]
    merged = _Part(name=rest[0].name, area=rest[0].area, stem=rest[0].stem, module=rest[0].module,
                   description="; ".join(p.description for p in rest))
    return [*kept, merged]


def assign_files(parts: Sequence[_Part], layout: Layout, files: Sequence[str],
                 minutes: float) -> tuple[Subtask, ...]:
    """Give each part its existing and new files; a file goes to the first part that wants it.

    Parts that own a whole module folder claim first, so no other part's file lands inside it.
    """
    claimed: set[str] = {f"{p.module}/" for p in parts if p.module is not None}
    owned: dict[str, tuple[list[str], list[str]]] = {}
    for part in parts:
        if part.module is not None:
            owned[part.name] = ([f"{part.module}/"], [])
            continue
        modify = [f for f in _related(part, files) if not _taken(f, claimed)]
        create = [c for c in _new_files(part, layout) if not _taken(c, claimed) and c not in files][:1]
        claimed.update(modify + create)
        owned[part.name] = (modify, create)
    return tuple(Subtask(name=p.name, description=p.description, files_to_modify=tuple(owned[p.name][0]),
                         files_to_create=tuple(owned[p.name][1]), estimated_minutes=minutes)
                 for p in parts)


def _new_files(part: _Part, layout: Layout) -> list[str]:
    """Where a new file for the part goes, then a folder of its own if that place is taken."""
    name = part.stem if part.area else part.name
    preferred = layout.new_file(part.area, name)
    return [preferred, f"{part.name}/{PurePosixPath(preferred).name}"]


def _taken(path: str, claimed: set[str]) -> bool:
    """Claimed exactly, or inside a folder (`dir/`) another part owns."""
    return path in claimed or any(c.endswith("/") and path.startswith(c) for c in claimed)


def _related(part: _Part, files: Sequence[str]) -> list[str]:
    """Existing files whose path names the part's stem and that sit in the part's area."""
    stem = re.escape(part.stem)
    pattern = re.compile(rf"(^|[/_.-]){stem}", re.IGNORECASE)
    wanted = (part.area,) if part.area else ("backend", "frontend")
    hits = [f for f in files if pattern.search(f) and area_of(f) in wanted]
    if part.area == "docs" and "README.md" in files:
        hits.insert(0, "README.md")
    return hits[:MAX_FILES_PER_SUBTASK]
