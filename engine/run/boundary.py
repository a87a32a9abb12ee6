"""Boundary watch: is any session changing files it does not own, or another's files?

Plans give each subtask its own files so branches merge cleanly; this checks what the
agents actually did, with the engine's one ownership rule (`engine.core.ownership`): a
session that owns folder `src/` may change `src/a.py`. A session with no owned files (quick
`run --tasks`) is only checked against the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.core.ownership import owns

OUTSIDE = "outside its files"
"""The reason of a file a session changed that its subtask does not own (merge review's flag too)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundaryWarning:
    session: str
    file: str
    reason: str
    """`outside its files` or `also changed by <names>`."""


def boundary_warnings(changed: Mapping[str, tuple[str, ...]],
                      owned: Mapping[str, tuple[str, ...]]) -> tuple[BoundaryWarning, ...]:
    """Warnings per session and file, in session order then file order."""
    touched: dict[str, list[str]] = {}
    for name, files in changed.items():
        for f in files:
            touched.setdefault(f, []).append(name)
    out = []
    for name, files in changed.items():
        mine = owned.get(name, ())
        for f in files:
            others = [n for n in touched[f] if n != name]
            if others:
                reason = f"also changed by {', '.join(others)}"
                out.append(BoundaryWarning(session=name, file=f, reason=reason))
            elif mine and not owns(mine, f):
                out.append(BoundaryWarning(session=name, file=f, reason=OUTSIDE))
    return tuple(out)
