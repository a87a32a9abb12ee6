"""One conversion from engine records to JSON, so every `--json` speaks the same shape.

The cached `analyze --json` prints plain records through `dumps`, so this module imports
neither `dataclasses` (its `inspect` is ~5 ms) nor pathlib nor typing: a record that is a
dataclass was built by a module that loaded it already.
"""

from __future__ import annotations

import json
import math
import os
from enum import Enum

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeAlias

Json: TypeAlias = "bool | int | float | str | list[Json] | dict[str, Json] | None"


def to_jsonable(value: object) -> Json:
    """Dataclasses become objects, tuples lists, enums their value, paths strings; a float that
    is not finite (a cost parsed from `1e999`) becomes null, which JSON (and SQLite's JSON) can read."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return round(value, 3) if math.isfinite(value) else None
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, os.PathLike):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):  # only a record built by a module that loaded it
        import dataclasses  # noqa: PLC0415 - so loaded already: nothing to pay here

        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


def dumps(value: object) -> str:
    """Pretty JSON for people and `jq` alike; non-ASCII kept as is."""
    return json.dumps(to_jsonable(value), indent=2, ensure_ascii=False)
