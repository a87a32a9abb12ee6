"""The read model: what a face holds of the engine besides the `Engine` and `engine.core`.

The app's one door is `engine.service.Engine` (through `tui.backend`); the values its commands
take and return, and the engine's own words for them (pure functions of those values), are
named here, so a face never imports the module that computes them. The `tui` contract in
pyproject.toml holds the app to `engine.service`, `engine.core` and this module.

Each name is imported when first asked for (PEP 562): the app's first frame loads only the
run views it shows, not the merge or the planner behind them.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.claude.planners import PlannerChoice
    from engine.core.planner_names import PLANNERS
    from engine.merge.apply import VerifyFailed
    from engine.merge.check import BranchCheck, CheckReport, PairCheck
    from engine.merge.flow import Checked, MergeSummary, Refusal, Which
    from engine.merge.mergetree import FileConflict
    from engine.merge.prs import OpenedPr
    from engine.merge.resolve import ResolveStarted
    from engine.planning.overhead import row_mark
    from engine.planning.pipeline import PlanOptions
    from engine.planning.text_report import planner_cost, waves_line
    from engine.report.efficiency import SPECIALIZATION_BONUS_PCT, RunReport
    from engine.report.history import HistoryLine
    from engine.run.attach import AttachPlan
    from engine.run.boundary import OUTSIDE
    from engine.run.cleanup import Leftover, leftover_lines
    from engine.run.diffs import FileDiff
    from engine.run.fold import RunState, fold, reduce
    from engine.run.status import status_of, windows_told
    from engine.run.tail import Batch
    from engine.run.views import RunStatus, SessionStatus

_WHERE = {
    "engine.merge.apply": ("VerifyFailed",),
    "engine.merge.check": ("BranchCheck", "CheckReport", "PairCheck"),
    "engine.merge.flow": ("Checked", "MergeSummary", "Refusal", "Which"),
    "engine.merge.mergetree": ("FileConflict",),
    "engine.merge.prs": ("OpenedPr",),
    "engine.merge.resolve": ("ResolveStarted",),
    "engine.planning.overhead": ("row_mark",),
    "engine.planning.pipeline": ("PlanOptions",),
    "engine.claude.planners": ("PlannerChoice",),
    "engine.core.planner_names": ("PLANNERS",),
    "engine.planning.text_report": ("planner_cost", "waves_line"),
    "engine.report.efficiency": ("SPECIALIZATION_BONUS_PCT", "RunReport"),
    "engine.report.history": ("HistoryLine",),
    "engine.run.attach": ("AttachPlan",),
    "engine.run.boundary": ("OUTSIDE",),
    "engine.run.cleanup": ("Leftover", "leftover_lines"),
    "engine.run.diffs": ("FileDiff",),
    "engine.run.fold": ("RunState", "fold", "reduce"),
    "engine.run.status": ("status_of", "windows_told"),
    "engine.run.tail": ("Batch",),
    "engine.run.views": ("RunStatus", "SessionStatus"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [  # the names `_WHERE` resolves (tests/test_tui_door.py keeps them one list)
    "OUTSIDE", "PLANNERS", "SPECIALIZATION_BONUS_PCT", "AttachPlan", "Batch",
    "BranchCheck", "CheckReport", "Checked", "FileConflict", "FileDiff", "HistoryLine", "Leftover",
    "MergeSummary", "OpenedPr", "PairCheck", "PlanOptions", "PlannerChoice", "Refusal",
    "ResolveStarted", "RunReport", "RunState", "RunStatus", "SessionStatus", "VerifyFailed",
    "Which", "fold", "leftover_lines", "planner_cost", "reduce", "row_mark", "status_of", "waves_line",
    "windows_told",
]


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # asked once
    return value
