"""The embedded planner: splits a task with no API key, from its wording and the repo.

It names the parts the task names ("with frontend and backend", "a, b and c"); a task that is
one change is one part, its tests, docs and changelog entry included, and features whose files
sit together are one part too. A sweeping task that says so ("across the codebase") gets one
part per module. Files come from the task's ranking of the repo and the repo's conventions
(`engine.analysis.conventions`); each is claimed by at most one subtask, so its drafts are
disjoint by construction; the shared validation still checks them like any other planner's.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from engine.analysis import cochange
from engine.analysis.cochange import History
from engine.analysis.conventions import RepoConventions, conventions_at
from engine.analysis.layout import area_of, read_layout
from engine.analysis.localize import index_for
from engine.analysis.localize_index import FileIndex
from engine.core.errors import GitError
from engine.core.models import FileReason, Subtask
from engine.planning.localize_plan import MAX_PLAN_FILES, FilePicker, PartFiles, is_code
from engine.planning.port import Draft, PlanRequest
from engine.planning.task_text import TaskShape, asks_for_new_module, read_task, slug

_CREATIVE_VERBS = {"implement", "add", "build", "create", "write", "design", "introduce", "make",
                   "support", "document"}
"""Verbs that bring something new: their parts propose a new file beside the related ones."""
_SWEEP = re.compile(r"\b(?:across|throughout|everywhere|codebase|code\s+base)\b|"
                    r"\b(?:all|entire|whole|every)\s+(?:of\s+)?(?:the\s+|our\s+)?"
                    r"(?:repo|repository|project|code|source|modules|packages|files|folders|directories)\b",
                    re.IGNORECASE)
"""A task that says it sweeps the code ("across the codebase", "in all modules"); "all parents"
or "for all customers" is about something else."""
_WIDE_VERBS = {"refactor", "improve", "migrate", "update", "rework", "document", "fix"}
SIDE_FILES = 2
"""Files a tests part or a docs part names at most."""
_LAYER_HINTS = {
    "backend": ("endpoint", "endpoints", "api", "server", "database", "route", "routes", "session",
                "sessions",
                "password", "passwords", "token", "tokens", "hash", "hashing", "backend", "db"),
    "frontend": ("form", "forms", "page", "pages", "component", "components", "ui", "button", "buttons",
                 "screen", "frontend", "client", "style", "styles"),
}
"""Words that place a requirement on one side of a web app ("rate-limit the login endpoint")."""
_CLAUSE_STOP = {"the", "a", "an", "to", "of", "for", "in", "on", "with", "every", "all", "each", "our", "my"}
_FACET_ORDER = ("backend", "frontend", "tests", "docs")
CHANGELOG_SHARE = 0.2
"""A repo whose recent commits record a changelog entry this often expects one with every change."""
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
    anchor: str | None = None
    """The existing file to change when the part's own words name none (the best one in its area)."""


class OfflinePlanner:
    """Rule-based drafts; deterministic for the same task and repo."""

    name = "offline"

    def __init__(self, index: FileIndex | None = None) -> None:
        self.index = index
        """The repo's file index; read (or built) from the state directory when not given."""

    async def draft(self, request: PlanRequest) -> Draft:
        shape = read_task(request.task)
        root = Path(request.repo.root)
        index = self.index if self.index is not None else await asyncio.to_thread(
            index_for, root, request.repo.head, request.files)
        conventions = request.repo_conventions
        if conventions is None:
            conventions = await asyncio.to_thread(_conventions, root, request.repo.head, request.files)
        history = await asyncio.to_thread(_history, root, request.repo.head)
        parts = candidate_parts(shape, request, spread=_is_sweeping(shape, request),
                                docs=bool(conventions.docs_dir))
        picker = FilePicker(index=index, files=request.files, head=shape.head,
                            layout=read_layout(request.repo, request.files),
                            conventions=conventions, history=history)
        notes: list[str] = []
        if shape.clauses:
            parts, shared = _merge_by_top_file(parts, picker, request.task)
            if len(parts) < request.splits:
                why = "; ".join(f"{n} share {path}" for path, n in shared)
                notes.append(f"the task names {len(shape.features)} requirements"
                             + (f"; {why}" if why else "") + f": planned {len(parts)} of the "
                             f"{request.splits} requested")
        elif len(parts) < request.splits:
            notes.append(f"the task names {len(parts)} independent part(s); planned "
                         f"{len(parts)} instead of {request.splits}")
        chosen = fold_parts(parts, max(1, request.splits))
        subtasks = assign_files(chosen, picker, request.estimate.sequential_minutes, shape=shape,
                                task=request.task, changelog=_wants_changelog(shape, conventions, history))
        if len(subtasks) < len(chosen):
            notes.append(f"{len(chosen) - len(subtasks)} part(s) found no file of their own and joined "
                         f"another: planned {len(subtasks)}")
        return Draft(subtasks=subtasks, planner=self.name, notes=tuple(notes))


def _conventions(root: Path, head: str, files: Sequence[str]) -> RepoConventions:
    if not head or not root.is_dir():
        return RepoConventions()
    try:
        return conventions_at(root, head, files)
    except GitError:
        return RepoConventions()


def _history(root: Path, head: str) -> History | None:
    if not head or not root.is_dir():
        return None
    try:
        return cochange.read_history(root, head)
    except GitError:
        return None


def _wants_changelog(shape: TaskShape, conventions: RepoConventions, history: History | None) -> bool:
    """The task asks for a changelog entry, or the repo records one with most changes."""
    if not conventions.changelog_kind:
        return False
    if "changelog" in shape.facets:
        return True
    if history is None or history.commits < cochange.MIN_WINDOW:
        return False
    where = conventions.changelog_path
    touched = sum(n for p, n in history.changes.items() if p == where or p.startswith(f"{where}/"))
    return touched >= CHANGELOG_SHARE * history.commits


def _is_sweeping(shape: TaskShape, request: PlanRequest) -> bool:
    """A wide verb ("refactor", "fix") sweeps the modules only when the task says so ("across the
    codebase"); otherwise it is one change, found by the ranking (its text signal finds what no
    path or symbol names)."""
    return not shape.clauses and shape.verb in _WIDE_VERBS and bool(_SWEEP.search(request.task))


def candidate_parts(shape: TaskShape, request: PlanRequest, *, spread: bool = True,
                    docs: bool = True) -> list[_Part]:
    """Parts in priority order: the main work, then tests and docs when the work has several parts.

    The main work is the layers the task names (backend, frontend), else the features it
    lists, else one part per code module for a sweeping task (`spread`), else one part: a
    one-change task is one session, its tests and docs part of the same change. A task of
    several parts gets a tests part (and a docs part when the repo has docs, `docs`, or the task
    names them) after its main parts, so folding never drops the main work.
    """
    verb = shape.verb.capitalize()
    layers = [f for f in _FACET_ORDER[:2] if f in shape.facets]
    parts: list[_Part] = []
    if layers:
        parts += [_Part(name=f"{shape.stem}-{facet}", area=facet, stem=shape.stem, query=shape.subject,
                        description=f"{verb} {shape.subject}: {_FACET_WORK[facet]}") for facet in layers]
    elif shape.clauses:  # requirements in their own words; each part owes its own tests and docs
        return _unique_names([_clause_part(feature, shape.scope) for feature in shape.features])
    elif len(shape.features) > 1:
        modules = _code_modules(request)
        for feature in shape.features:
            stem = slug(" ".join(feature.split()[:3]), limit=24)
            parts.append(_Part(name=stem, area=None, stem=stem, description=f"{verb} {feature}",
                               module=_named_module(feature, modules), query=f"{shape.scope} {feature}"))
    elif spread and shape.verb in _WIDE_VERBS and len(code_modules := _code_modules(request)) >= 2:
        for module in code_modules[: request.splits]:
            parts.append(_Part(name=slug(f"{shape.stem}-{module}"), area=None, stem=shape.stem,
                               module=module, description=f"{verb} {shape.subject} in {module}/"))
    else:
        return [_Part(name=shape.stem, area=None, stem=shape.stem, query=request.task,
                      description=_one_change(request.task, shape))]
    wanted = {"tests": True, "docs": docs or "docs" in shape.facets}
    extras = sorted((f for f in ("tests", "docs") if wanted[f]), key=lambda f: f not in shape.facets)
    for extra in extras:
        parts.append(_Part(name=f"{shape.stem}-{extra}", area=extra, stem=shape.stem, query=shape.subject,
                           description=f"{_FACET_WORK[extra].capitalize()} for {shape.subject}"))
    return _unique_names(parts)


def _clause_part(feature: str, scope: str) -> _Part:
    """A requirement written as a verb phrase: named after its verb and object, described in its
    own words, ranked by them."""
    words = [w for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9-]*", feature) if w.lower() not in _CLAUSE_STOP]
    obj = slug(" ".join(words[1:3]), limit=24) if len(words) > 1 else slug(feature, limit=24)
    lowered = {w.lower() for w in words}
    areas = [a for a, hints in _LAYER_HINTS.items() if lowered & set(hints)]
    return _Part(name=slug(" ".join(words[:3]), limit=32), area=areas[0] if len(areas) == 1 else None,
                 stem=obj, query=f"{scope} {feature}".strip(), description=feature[:1].upper() + feature[1:])


def _merge_by_top_file(parts: list[_Part], picker: FilePicker,
                       task: str) -> tuple[list[_Part], list[tuple[str, int]]]:
    """Requirements whose best file is the same one are one part: two sessions never edit one
    file. A requirement whose own words name no file takes the file the whole task ranks first
    on its side of the app (`anchor`); one with neither joins the first part that has a file.
    Returns the parts and, per shared file, how many requirements wanted it."""
    out: list[_Part] = []
    by_file: dict[str, int] = {}
    shared: dict[str, int] = {}
    homeless: list[_Part] = []
    for given in parts:
        part = given
        top = picker.top_source(part.query, part.area)
        if top is None and part.area is not None:
            top = picker.top_source(task, part.area)
            part = replace(part, anchor=top)
        if top is None:
            homeless.append(part)
            continue
        if top not in by_file:
            by_file[top] = len(out)
            out.append(part)
            continue
        host = out[by_file[top]]
        shared[top] = shared.get(top, 1) + 1
        out[by_file[top]] = replace(host, description=f"{host.description}; {part.description}",
                                    query=f"{host.query} {part.query}", anchor=host.anchor or part.anchor)
    if not out:
        return homeless, []
    for part in homeless:
        out[0] = replace(out[0], description=f"{out[0].description}; {part.description}")
    return out, list(shared.items())


def _one_change(task: str, shape: TaskShape) -> str:
    """The task itself, and what the one session also owes: its tests, docs, changelog entry."""
    owed = [f for f in ("tests", "docs", "changelog") if f in shape.facets]
    text = " ".join(task.split())
    return text if not owed else f"{text} (one change: code, {', '.join(owed)})"


def _named_module(text: str, modules: list[str]) -> str | None:
    """The repo module a feature places itself in by folder name ("… in the tui" → `tui`, "the
    engine module"); a folder name used as a plain word ("wildcard middleware") places nothing."""
    lowered = text.lower()
    for module in modules:
        name = re.escape(module.rsplit("/", 1)[-1].lower())
        if re.search(rf"\b(?:in|across|throughout|of)\s+(?:the\s+)?{name}\b|^{name}$|"
                     rf"\b{name}\s+(?:module|package|folder|layer|side)\b", lowered):
            return module
    return None


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
    merged = replace(rest[0], description="; ".join(p.description for p in rest),
                     query=" ".join(p.query for p in rest))
    return [*kept, merged]


def assign_files(parts: Sequence[_Part], picker: FilePicker, sequential: float, *, shape: TaskShape,
                 task: str, changelog: bool) -> tuple[Subtask, ...]:
    """Give each part its files from the task's ranking; a file goes to the first part that wants
    it. Parts that own a whole module folder claim first, so no other part's file lands inside
    it; tests follow the code the main parts change. The parts' minutes add up to `sequential`."""
    picker.claimed.update(f"{p.module}/" for p in parts if p.module is not None)
    owned: dict[str, PartFiles] = {}
    main = [p for p in parts if p.module is None and p.area not in ("tests", "docs")]
    side = {p.area for p in parts if p.module is None and p.area is not None and p.area in ("tests", "docs")}
    budget = MAX_PLAN_FILES - SIDE_FILES * len(side) - changelog - sum(p.module is not None for p in parts)
    share = max(1, budget // max(1, len(main)))
    new_module = asks_for_new_module(task)
    for part in parts:
        if part.module is not None:
            folder = f"{part.module}/"
            owned[part.name] = PartFiles(modify=[folder], reasons=[FileReason(
                path=folder, rank=None, why="the whole module: the task sweeps the repo's modules")])
        elif part.area not in ("tests", "docs"):
            fallback = not shape.clauses and (len(main) == 1 or shape.verb in _CREATIVE_VERBS)
            owned[part.name] = _main_files(part, picker, shape, limit=share, new_module=new_module,
                                           fallback=fallback, side=side)
    sources = [f for files in owned.values() for f in [*files.modify, *files.create] if is_code(f)]
    sources += [p.module for p in parts if p.module is not None]  # a swept module: its tests by name
    for part in parts:
        if part.module is None and part.area in ("tests", "docs"):
            out = owned[part.name] = PartFiles()
            if part.area == "tests":
                picker.tests(out, sources, create=True, limit=SIDE_FILES)
            else:
                picker.docs(out, picker.ranking(part.query), part.stem, create="docs" in shape.facets)
    parts = _with_files(_one_change_parts(parts, owned, picker, clauses=shape.clauses), owned)
    main = [p for p in parts if p.module is None and p.area not in ("tests", "docs")]
    if len(main) == 1 and len(parts) > 1 and not any(p.module for p in parts):
        parts = _fold_into(main[0], parts, owned)  # one change left: its tests and docs are part of it
    first = (main or list(parts))[0] if parts else None
    top = owned[first.name].modify[:1] if first is not None else []
    if changelog and first is not None and ("changelog" in shape.facets or picker.recorded_with(*top)):
        issue = re.search(r"(?:#|\bissue\s+|\bgh-)(\d+)\b", task, re.IGNORECASE)
        picker.changelog(owned[first.name], slug(" ".join(shape.subject.split()[:4]), limit=32), shape.verb,
                         issue=issue.group(1) if issue else "")
    minutes = _minutes(parts, owned, sequential)
    return tuple(Subtask(name=p.name, description=p.description,
                         files_to_modify=tuple(owned[p.name].modify),
                         files_to_create=tuple(owned[p.name].create), estimated_minutes=minutes[p.name],
                         file_reasons=tuple(owned[p.name].reasons))
                 for p in parts)


def _main_files(part: _Part, picker: FilePicker, shape: TaskShape, *, limit: int, new_module: bool,
                fallback: bool, side: set[str]) -> PartFiles:
    """A main part's files: what the ranking names, a new module only when the task asks for one
    (or nothing exists to change for the task's only part or a part that adds something), and,
    when no other part owns them, its tests and docs; one requirement of a listed several keeps to
    its share (`limit`) of the plan's files, its tests and docs included."""
    room = limit - (1 if new_module else 0) - (2 if shape.clauses else 0)
    out, ranking = picker.follow(part.query, part.area, max(1, room), others=side)
    if not out.modify and part.anchor is not None:
        picker.take(out, part.anchor,
                    f"the task's best {part.area} file; the requirement's own words name none")
    if new_module or (not out.modify and fallback):
        picker.new_module(out, part.stem, part.area, ranking)
    code = [f for f in [*out.modify, *out.create] if is_code(f)]
    if "tests" not in side:
        room = limit if shape.clauses else MAX_PLAN_FILES - 1
        picker.tests(out, code, create="tests" in shape.facets, limit=room)
    if shape.clauses and out.count() >= limit:
        return out  # one requirement of several: its share of the plan's files is spent
    documented = "docs" in shape.facets or shape.verb in _CREATIVE_VERBS  # what is new gets documented
    if out.count() < limit and "docs" not in side and documented:
        picker.docs(out, ranking, part.stem, create="docs" in shape.facets)
    return out


def _one_change_parts(parts: Sequence[_Part], owned: dict[str, PartFiles], picker: FilePicker, *,
                      clauses: bool = False) -> list[_Part]:
    """Features whose files sit in the same folder, or change together in the repo's history, are
    one change: their files join the first such part, and the later part goes."""
    out: list[_Part] = []
    for part in parts:
        mine = owned[part.name]
        host = next((p for p in out if p.module is None and part.module is None and p.area == part.area
                     and p.area not in ("tests", "docs")
                     and _same_change(owned[p.name], mine, picker, folders=not clauses)), None)
        if host is None:
            out.append(part)
            continue
        target = owned[host.name]
        for path, reason in zip([*mine.modify, *mine.create], mine.reasons, strict=False):
            target.add(path, reason.why, new=path in mine.create)
        owned[part.name] = PartFiles()
        out[out.index(host)] = replace(host, description=f"{host.description}; {part.description}")
    return out


def _same_change(a: PartFiles, b: PartFiles, picker: FilePicker, *, folders: bool = True) -> bool:
    first = a.modify[:2]  # what exists: new files placed beside the same anchor say nothing
    second = b.modify[:2]
    if not first or not second:
        return False
    near = {str(PurePosixPath(p).parent) for p in first} if folders else set()
    return any(str(PurePosixPath(p).parent) in near or picker.coupled(p, q) for p in second for q in first)


def _fold_into(host: _Part, parts: Sequence[_Part], owned: dict[str, PartFiles]) -> list[_Part]:
    target = owned[host.name]
    for part in parts:
        if part is host:
            continue
        mine = owned[part.name]
        for reason in mine.reasons:
            target.add(reason.path, reason.why, new=reason.path in mine.create)
    return [host]


def _with_files(parts: Sequence[_Part], owned: dict[str, PartFiles]) -> list[_Part]:
    """Parts that found nothing to change are dropped; a dropped feature's words join the first
    part, so the work it names is still someone's."""
    kept = [p for p in parts if p.module is not None or owned[p.name].count()]
    if not kept:
        return list(parts[:1])
    dropped = [p.description for p in parts if p not in kept and p.area not in ("tests", "docs")]
    if dropped:
        kept[0] = replace(kept[0], description="; ".join([kept[0].description, *dropped]))
    return kept


def _minutes(parts: Sequence[_Part], owned: dict[str, PartFiles], sequential: float) -> dict[str, float]:
    """The sequential estimate shared by the files each part names, to a tenth, summing exactly."""
    weights = {p.name: max(1, owned[p.name].count()) for p in parts}
    total = sum(weights.values())
    out = {name: round(sequential * w / total, 1) for name, w in weights.items()}
    if parts:
        last = parts[-1].name
        out[last] = round(round(sequential, 1) - sum(v for k, v in out.items() if k != last), 1)
    return out
