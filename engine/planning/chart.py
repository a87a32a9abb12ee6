"""Terminal charts with plotext, as plain text the CLI prints.

plotext keeps global figure state, so every chart starts with `clear_figure`; the TUI
draws the same series through textual-plotext's per-widget `plt` instead.
"""

from __future__ import annotations

import re

from engine.core.models import OverheadTable

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def savings_chart(table: OverheadTable, *, width: int = 64, height: int = 14,
                  color: bool = False) -> str:
    """Total time against the number of splits, with the optimal row marked."""
    splits = [r.splits for r in table.rows]
    totals = [round(r.total_minutes, 2) for r in table.rows]
    best = table.row(table.optimal_splits)
    import plotext as plt  # noqa: PLC0415 - 20 ms, paid only when a chart is drawn

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    plt.plot(splits, totals, marker="braille", label="total (work + overhead)")
    plt.plot(splits, [round(r.overhead_minutes, 2) for r in table.rows], marker="braille",
             label="overhead")
    plt.scatter([best.splits], [round(best.total_minutes, 2)], marker="●", label="optimal")
    plt.xticks(splits)
    plt.xlabel("splits")
    plt.title(f"minutes for a {table.sequential_minutes:g}-minute task")
    text: str = plt.build()
    return text if color else _ANSI.sub("", text)


def stage_chart(names: list[str], modelled: list[float], measured: list[float], *, width: int = 72,
                height: int = 16) -> str:
    """Seconds per stage, modelled beside measured (0 where a side has no number)."""
    import plotext as plt  # noqa: PLC0415 - paid only when a chart is drawn

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    plt.multiple_bar(names, [modelled, measured], labels=["modelled", "measured"])
    plt.title("seconds per branch, per stage")
    text: str = plt.build()
    return _ANSI.sub("", text)
