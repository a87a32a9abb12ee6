"""The quick form of a run (`run --tasks "api,ui" --prompt ...`): names become subtasks.

A rule, not parsing: every face that offers "just these names" must get the same subtasks
(each told its part of the shared prompt, each matched to a specialist agent).
"""

from __future__ import annotations

import dataclasses

from engine.core.errors import UsageError
from engine.core.models import Subtask
from engine.planning.matching import match, task_rows


def quick_subtasks(names_csv: str, prompt: str) -> tuple[str, tuple[Subtask, ...]]:
    """(task, subtasks) from comma-separated names; UsageError for none or a repeated name."""
    names = [n.strip() for n in names_csv.split(",") if n.strip()]
    if not names:
        raise UsageError("--tasks names no subtasks", hint='pass names separated by commas: --tasks "a,b"')
    if len({n.casefold() for n in names}) != len(names):
        raise UsageError(f"--tasks repeats a name: {names_csv}",
                         hint="give every subtask its own name (names that differ only in case are one name)")
    rows = task_rows()
    quick = (Subtask(name=n, description=f"{prompt}\n\nYour part: {n}" if prompt else n) for n in names)
    return prompt, tuple(dataclasses.replace(s, agent=match(s, rows)) for s in quick)
