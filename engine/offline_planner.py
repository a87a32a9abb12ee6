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
    """Parts in priority order: the task's own, then tests and docs, then modules."""
    verb = shape.verb.capitalize()
    parts: list[_Part] = []
    if shape.facets:
        for facet in sorted(shape.facets, key=_FACET_ORDER.index):
            parts.append(_Part(name=f"{shape.stem}-{facet}", area=facet, stem=shape.stem,
                               description=f"{verb} {shape.subject}: {_FACET_WORK[facet]}"))
    elif len(shape.features) > 1:
        for feature in shape.features:
            stem = slug(" ".join(feature.split()[:3]), limit=24)
            parts.append(_Part(name=stem, area=None, stem=stem, description=f"{verb} {feature}"))
    elif shape.verb in _WIDE_VERBS and len(code_modules := _code_modules(request)) >= 2:
        for module in code_modules[: request.splits]:
            parts.append(_Part(name=slug(f"{shape.stem}-{module}"), area=None, stem=shape.stem,
                               module=module, description=f"{verb} {shape.subject} in {module}/"))
    else:
        parts.append(_Part(name=f"{shape.stem}-core", area=None, stem=shape.stem,
                           description=f"{verb} {shape.subject}"))
    for extra in ("tests", "docs"):
        if extra not in shape.facets:
            parts.append(_Part(name=f"{shape.stem}-{extra}", area=extra, stem=shape.stem,
                               description=f"{_FACET_WORK[extra].capitalize()} for {shape.subject}"))
    return _unique_names(parts)


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
    """Give each part its existing and new files; a file goes to the first part that wants it."""
    claimed: set[str] = set()
    subtasks = []
    for part in parts:
        if part.module is not None:
            modify: list[str] = [f"{part.module}/"]
            create: list[str] = []
        else:
            modify = [f for f in _related(part, files) if not _taken(f, claimed)]
            create = [layout.new_file(part.area, part.stem if part.area else part.name)]
            create = [c for c in create if not _taken(c, claimed) and c not in files]
        claimed.update(modify + create)
        subtasks.append(Subtask(name=part.name, description=part.description,
                                files_to_modify=tuple(modify), files_to_create=tuple(create),
                                estimated_minutes=minutes))
    return tuple(subtasks)


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
