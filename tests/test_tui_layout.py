"""Layout rules the snapshots show, asserted: notifications take the line above the footer
(no toast over a panel), and the wide board's cost column tells a subscription's rate-limit
use instead of a notional cost."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.widgets import Static

from engine.service import build_engine
from snapshots.recorded_run import NOW, RECORDED
from tui import board_rows
from tui.app import ParallelApp


async def test_a_notification_takes_the_line_above_the_footer(web_repo: Path) -> None:
    app = ParallelApp(build_engine(web_repo, planner="offline", agent="demo"), planner="offline", still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.notify("api: needs input", severity="warning")
        await pilot.pause()
        line = app.screen.query_one("#notice", Static)
        assert line.display and "api: needs input" in str(line.render())
        assert line.region.y == 22, "the row right above the footer"
        assert not app.screen.query("Toast"), "no toast drawn over the panels"
        app.clear_notifications()
        await pilot.pause()
        assert not line.display, "the row is given back when nothing is to tell"


def test_wide_rows_tell_rate_limits_for_subscriptions_and_cost_otherwise() -> None:
    backend, frontend = RECORDED.sessions[:2]
    paying = dataclasses.replace(backend, cost_usd=0.42, tokens=48210, output_at=NOW - 95)
    subscribed = dataclasses.replace(frontend, cost_usd=1.93, rate_limit_pct=37.4)
    cells = dict(zip(board_rows.WIDE_COLUMNS, board_rows.row(paying, wide=True, now=NOW, room=40),
                     strict=True))
    assert (cells["quiet"], cells["tokens"], cells["cost / limit"], cells["host"]) == \
        ("1m", "48.2k", "$0.42", "local")
    assert board_rows.money(subscribed) == "limit 37 %", "not the notional $1.93"
    long = dataclasses.replace(paying, last_line="x" * 100)
    assert board_rows.last_line(long, 20) == "x" * 19 + "…"
    assert len(board_rows.row(paying, wide=False, now=NOW)) == len(board_rows.NARROW_COLUMNS)
