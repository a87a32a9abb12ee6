"""Reading a plan back from JSON (`plan -o plan.json`, edited by hand or by a script).

A plan file is untrusted input: it must be JSON, name subtasks with string fields and hold
numbers in range; anything else is a PlanError naming the problem. Keys it does not know are
named in warnings. The plan's rules are checked by validation, which reports them all at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from engine.core.errors import PlanError
from engine.core.models import AgentMatch, Conventions, Estimate, Plan, Subtask
from engine.planning import shape
from engine.planning.estimate import MAX_MINUTES, MIN_MINUTES


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanFile:
    task: str
    subtasks: tuple[Subtask, ...]
    estimate: Estimate | None
    """None when the file has none (hand-written): the caller derives one and labels it."""
    repo_root: str | None
    warnings: tuple[str, ...] = ()
    """Keys this reader does not know, a task filled in (named, never silently dropped)."""
    conventions: Conventions = field(default_factory=Conventions)


_TOP_KEYS = frozenset(f.name for f in fields(Plan))
_SUBTASK_KEYS = frozenset(f.name for f in fields(Subtask))
_ESTIMATE_KEYS = frozenset(f.name for f in fields(Estimate))
_CONVENTION_KEYS = tuple(f.name for f in fields(Conventions))
MAX_COMPLEXITY_FACTOR = 1_000.0


def load_plan_file(path: Path) -> PlanFile:
    """The plan's subtasks, checked for shape and number ranges only: the rules (paths, overlaps,
    dependencies, resources) are `engine.planning.validation.validate`'s, which names every problem."""
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("subtasks"), list):
        raise PlanError(f"plan file {path} has no `subtasks` list",
                        hint="a plan file is the JSON `parallel-tui plan --json` prints")
    subtasks = tuple(_subtask(item, i) for i, item in enumerate(data["subtasks"]))
    task, warnings = _text(data.get("task"), "`task`"), _unknown_keys(data)
    if not task.strip() and subtasks:
        task = "\n\n".join(s.description.strip() for s in subtasks if s.description.strip())
        warnings.append("plan file: no `task`; every session is told its subtasks' descriptions "
                        "joined as the task (add the task as written, so each agent hears all of it)")
    return PlanFile(task=task, subtasks=subtasks, estimate=_estimate(data.get("estimate")),
                    repo_root=_root(data.get("repo")), warnings=tuple(warnings),
                    conventions=_conventions(data.get("conventions")))


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise PlanError(f"plan file {path} does not exist",
                        hint="write one with `parallel-tui plan ... -o plan.json`") from None
    except IsADirectoryError:
        raise PlanError(f"plan file {path} is a folder", hint="pass the plan's JSON file") from None
    except RecursionError:
        raise PlanError(f"plan file {path} is nested too deeply to be a plan",
                        hint="a plan file is the JSON `parallel-tui plan --json` prints") from None
    except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        raise PlanError(f"plan file {path} is not valid JSON ({_short(exc)})",
                        hint="fix the JSON or write a new plan with `parallel-tui plan -o`") from None


def _unknown_keys(data: dict[str, object]) -> list[str]:
    """One warning per key no reader uses: a typo (`files_to_delete`) must not pass unseen."""
    out = [f"plan file: unknown key `{_safe(k)}` at top level (ignored)" for k in data if k not in _TOP_KEYS]
    raw = data.get("estimate")
    if isinstance(raw, dict):
        out += [f"plan file: unknown key `{_safe(k)}` in estimate (ignored)" for k in raw
                if k not in _ESTIMATE_KEYS]
    raw = data.get("conventions")
    if isinstance(raw, dict):
        out += [f"plan file: unknown key `{_safe(k)}` in conventions (ignored)" for k in raw
                if k not in _CONVENTION_KEYS]
    items = data.get("subtasks")
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict):
            out += [f"plan file: unknown key `{_safe(k)}` in subtask {item.get('name')!r} (ignored)"
                    for k in item if k not in _SUBTASK_KEYS]
    return out


def _safe(key: str) -> str:
    """A key as it can be printed (a lone surrogate escaped)."""
    return ascii(key)[1:-1] if shape.unencodable(key) else key


def _text(raw: object, what: str) -> str:
    """A string field, or "" when absent; a list or number there is a mistake, not text."""
    try:
        return shape.text(raw, what)
    except shape.ShapeError as exc:
        raise PlanError(f"plan file: {exc}", hint=f"write {what} as a string (plain text)") from None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def _number(raw: object, what: str, *, default: float | None = None, low: float = 0.0,
            high: float = MAX_MINUTES, zero: bool = True) -> float:
    """A number (not a bool) in low..high, or 0 when `zero`; PlanError naming it otherwise."""
    if raw is None and default is not None:
        return default
    if zero and raw == 0 and not isinstance(raw, bool):
        return 0.0
    try:
        return shape.number(raw, what, low=low, high=high)
    except shape.ShapeError as exc:
        span = f"{'0 or ' if zero and low > 0 else ''}{low:g}..{high:,.0f}"
        raise PlanError(f"plan file: {exc}", hint=f"write a number in {span} for {what}") from None


def _subtask(item: object, index: int) -> Subtask:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise PlanError(f"subtask #{index + 1} has no name",
                        hint="every subtask needs a `name` string")
    name = _text(item["name"], f"subtask #{index + 1} `name`")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("files_to_modify", "files_to_create", "depends_on"):
        try:
            lists[key] = shape.string_list(item.get(key), f"subtask {name!r}: `{key}`")
        except shape.ShapeError as exc:
            raise PlanError(str(exc), hint=f'write "{key}": ["path", ...]') from None
    minutes = _number(item.get("estimated_minutes"), f"subtask {name!r} estimated_minutes", default=0.0,
                      low=MIN_MINUTES)
    return Subtask(name=name, description=_text(item.get("description"), f"subtask {name!r} `description`"),
                   estimated_minutes=minutes, files_to_modify=lists["files_to_modify"],
                   files_to_create=lists["files_to_create"], depends_on=lists["depends_on"],
                   agent=_agent(item.get("agent")))


def _conventions(raw: object) -> Conventions:
    """Where the repo keeps tests, docs and changelog entries, as the planner wrote it down."""
    if raw is None:
        return Conventions()
    if not isinstance(raw, dict):
        raise PlanError(f"plan file: `conventions` is {type(raw).__name__}, not an object",
                        hint='write "conventions": {"tests": "...", "test_command": "..."}, or leave it out')
    return Conventions(**{k: _text(raw.get(k), f"conventions.{k}") for k in _CONVENTION_KEYS})


def _agent(raw: object) -> AgentMatch | None:
    """The matched specialist, if the plan carries one (hand-written plans may not)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        return None
    confidence = raw.get("confidence", 0.0)
    finite = isinstance(confidence, int | float) and not isinstance(confidence, bool) \
        and -1e6 < confidence < 1e6  # compared exactly: a 401-digit int never reaches float()
    return AgentMatch(name=_text(raw["name"], "agent.name"), skill=_text(raw.get("skill"), "agent.skill"),
                      confidence=min(1.0, max(0.0, float(confidence))) if finite else 0.0,
                      why=_text(raw.get("why"), "agent.why"))


def _estimate(raw: object) -> Estimate | None:
    if raw is not None and not isinstance(raw, dict):
        raise PlanError(f"plan file: `estimate` is {type(raw).__name__}, not an object",
                        hint='write "estimate": {"sequential_minutes": 45}, or leave it out')
    data = raw or {}
    if data.get("sequential_minutes") is None:
        return None
    minutes = _number(data["sequential_minutes"], "estimate.sequential_minutes", low=MIN_MINUTES,
                      zero=False)
    scope = data.get("scope", "medium")
    return Estimate(scope=scope if scope in ("small", "medium", "large") else "medium",
                    sequential_minutes=minutes, source=_source(data.get("source")),
                    base_minutes=_number(data.get("base_minutes"), "estimate.base_minutes", default=minutes),
                    complexity_factor=_number(data.get("complexity_factor"), "estimate.complexity_factor",
                                              default=1.0, high=MAX_COMPLEXITY_FACTOR))


def _source(raw: object) -> Literal["scope", "flag", "subtasks"]:
    """Keep the label the plan was written with (how its estimate was made)."""
    sources: dict[object, Literal["scope", "flag", "subtasks"]] = {"scope": "scope", "subtasks": "subtasks"}
    return sources.get(raw, "flag")


def _root(raw: object) -> str | None:
    if isinstance(raw, dict) and isinstance(raw.get("root"), str):
        return _text(raw["root"], "repo.root")
    return None


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120]
