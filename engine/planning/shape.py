"""The one check of a plan's shape, whichever way it comes in: a plan file (`plan
--validate`, `run --plan`, the app's load), Claude's answer, and (as problems) every draft
`validate` sees, the app's edit dialog's included.

A plan is untrusted input. JSON lets a field hold the wrong type (an object where a list
belongs would be read as its keys, a string as its characters), a number too large for a
float (401 digits), or text no terminal, file or journal can hold (a lone surrogate such as
`\\ud800`, which JSON's `\\u` escapes allow): each is refused with one line naming the field,
never crashed on later.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable

from engine.core.models import Subtask


class ShapeError(ValueError):
    """A field of the wrong type or value; the message names it (safe to print)."""


def text(raw: object, what: str, *, default: str = "") -> str:
    """A string, or `default` when absent; one with a lone surrogate is not text."""
    if raw is None:
        return default
    if not isinstance(raw, str):
        raise ShapeError(f"{what} is a {_kind(raw)}, not a string")
    if bad := unencodable(raw):
        raise ShapeError(f"{what} holds {bad}, which is not text (a lone surrogate)")
    return raw


def string_list(raw: object, what: str) -> tuple[str, ...]:
    """A JSON list of strings, or () when absent: never an object's keys or a string's letters."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ShapeError(f"{what} is a {_kind(raw)}, not a list of strings")
    return tuple(text(v, f"{what}[{i}]") for i, v in enumerate(raw))


def number(raw: object, what: str, *, low: float, high: float) -> float:
    """A finite number (not a bool) in low..high. A huge JSON integer is compared as an integer
    first: turning it into a float is what raised OverflowError."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ShapeError(f"{what} is {_shown(raw)}, not a number")
    if isinstance(raw, int):
        if low <= raw <= high and abs(raw) <= _FLOAT_MAX:  # compared exactly, before any float()
            return float(raw)
        raise ShapeError(f"{what} is {_digits(raw)}, not a number in {low:g}..{high:,.0f}")
    if not math.isfinite(raw) or not low <= raw <= high:
        raise ShapeError(f"{what} is {raw!r}, not a number in {low:g}..{high:,.0f}")
    return raw


_FLOAT_MAX = int(sys.float_info.max)


def unencodable(value: str) -> str:
    """The first character UTF-8 cannot encode (a lone surrogate), escaped; '' when none."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return ascii(value[exc.start])[1:-1]
    return ""


def subtask_problems(subtasks: Iterable[Subtask]) -> list[str]:
    """The same rules for subtasks already built (the edit dialog's, a planner's): a field of
    the wrong type or holding a lone surrogate, named; [] when every field is well made."""
    out = []
    for i, sub in enumerate(subtasks, 1):
        who = f"subtask #{i}"
        try:
            name = text(sub.name, f"{who} name")
            who = f"subtask {name!r}"
            text(sub.description, f"{who} description")
            for field in ("files_to_modify", "files_to_create", "depends_on"):
                value = getattr(sub, field)
                string_list(list(value) if isinstance(value, tuple) else value, f"{who} {field}")
            number(sub.estimated_minutes, f"{who} estimated_minutes", low=0, high=math.inf)
        except ShapeError as exc:
            out.append(str(exc))
    return out


def _kind(raw: object) -> str:
    names = {dict: "JSON object", list: "list", str: "string", bool: "true/false", type(None): "null"}
    return names.get(type(raw), "number" if isinstance(raw, int | float) else type(raw).__name__)


def _shown(raw: object) -> str:
    """A short value as written (`'x'`, `True`), escaped; else what kind of value it is."""
    if isinstance(raw, str | bool) and len(str(raw)) <= 40:
        return ascii(raw)
    return f"a {_kind(raw)}"


def _digits(raw: int) -> str:
    digits = len(str(abs(raw))) if abs(raw) < 10**4000 else 4000  # str() of a giant int is refused
    return f"a {digits}-digit number" if digits > 15 else str(raw)
