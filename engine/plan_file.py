"""Reading a plan back from JSON (`plan -o plan.json`, edited by hand or by a script).

A plan file is untrusted input: it must be JSON, name subtasks with string fields, and
keep every path inside the repo. Anything else is a PlanError naming the problem.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from engine.errors import PlanError
from engine.models import AgentMatch, Estimate, Subtask
from engine.validation import unsafe_path


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanFile:
    task: str
    subtasks: tuple[Subtask, ...]
    estimate: Estimate
    repo_root: str | None


def load_plan_file(path: Path) -> PlanFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise PlanError(f"plan file {path} does not exist",
                        hint="write one with `parallel-tui plan ... -o plan.json`") from None
    except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        raise PlanError(f"plan file {path} is not valid JSON ({_short(exc)})",
                        hint="fix the JSON or write a new plan with `parallel-tui plan -o`") from None
    if not isinstance(data, dict) or not isinstance(data.get("subtasks"), list):
        raise PlanError(f"plan file {path} has no `subtasks` list",
                        hint="a plan file is the JSON `parallel-tui plan --json` prints")
    subtasks = tuple(_subtask(item, i) for i, item in enumerate(data["subtasks"]))
    names = [s.name for s in subtasks]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise PlanError(f"plan file {path} names subtask(s) {', '.join(map(repr, dupes))} more than once",
                        hint="give every subtask its own name")
    bad = [f"{s.name}: {p} ({why})" for s in subtasks for p in s.files() if (why := unsafe_path(p))]
    if bad:
        raise PlanError(f"plan file {path} names paths outside the repo: {'; '.join(bad)}",
                        hint="use paths relative to the repository root")
    return PlanFile(task=str(data.get("task", "")), subtasks=subtasks,
                    estimate=_estimate(data.get("estimate")), repo_root=_root(data.get("repo")))


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def _number(raw: object, what: str, *, default: float | None = None, positive: bool = False) -> float:
    """A finite number (not a bool), > 0 when `positive`, else ≥ 0; PlanError naming it otherwise."""
    if raw is None and default is not None:
        return default
    ok = isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw)
    if not ok or raw < 0 or (positive and raw == 0):  # type: ignore[operator]
        raise PlanError(f"plan file: {what} is {raw!r}, not a finite number "
                        f"{'> 0' if positive else '≥ 0'}", hint=f"write a number for {what}")
    return float(raw)  # type: ignore[arg-type]


def _subtask(item: object, index: int) -> Subtask:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise PlanError(f"subtask #{index + 1} has no name",
                        hint="every subtask needs a `name` string")
    name = item["name"]
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("files_to_modify", "files_to_create", "depends_on"):
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PlanError(f"subtask {name!r}: `{key}` is not a list of strings",
                            hint=f'write "{key}": ["path", ...]')
        lists[key] = tuple(value)
    minutes = _number(item.get("estimated_minutes"), f"subtask {name!r} estimated_minutes", default=0.0)
    return Subtask(name=name, description=str(item.get("description", "")),
                   estimated_minutes=minutes, files_to_modify=lists["files_to_modify"],
                   files_to_create=lists["files_to_create"], depends_on=lists["depends_on"],
                   agent=_agent(item.get("agent")))


def _agent(raw: object) -> AgentMatch | None:
    """The matched specialist, if the plan carries one (hand-written plans may not)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        return None
    confidence = raw.get("confidence", 0.0)
    finite = isinstance(confidence, int | float) and math.isfinite(confidence)
    return AgentMatch(name=raw["name"], skill=str(raw.get("skill", "")),
                      confidence=min(1.0, max(0.0, float(confidence))) if finite else 0.0,
                      why=str(raw.get("why", "")))


def _estimate(raw: object) -> Estimate:
    data = raw if isinstance(raw, dict) else {}
    if data.get("sequential_minutes") is None:
        raise PlanError("plan file has no estimate.sequential_minutes",
                        hint="keep the `estimate` object that `plan --json` wrote")
    minutes = _number(data["sequential_minutes"], "estimate.sequential_minutes", positive=True)
    scope = data.get("scope", "medium")
    return Estimate(scope=scope if scope in ("small", "medium", "large") else "medium",
                    sequential_minutes=minutes, source="flag",
                    base_minutes=_number(data.get("base_minutes"), "estimate.base_minutes", default=minutes),
                    complexity_factor=_number(data.get("complexity_factor"), "estimate.complexity_factor",
                                              default=1.0))


def _root(raw: object) -> str | None:
    if isinstance(raw, dict) and isinstance(raw.get("root"), str):
        return str(raw["root"])
    return None


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120]
