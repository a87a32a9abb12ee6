"""SVG snapshots of the app's screens (`make snap-update` after looking at the report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui.app import ParallelApp


def test_task_entry_after_planning(snap_compare: Any, web_repo: Path) -> None:
    """The auth task planned offline: the table's row 4 is marked optimal (←), the chart
    shows total minutes falling from 45, and the plan lists auth-backend first."""
    app = ParallelApp(repo=web_repo, planner="offline", label="demo-repo")

    async def plan(pilot: Any) -> None:
        pilot.app.query_one("#task-input").value = ("Implement user authentication with "
                                                    "frontend and backend")
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        await pilot.pause()  # the chart repaints one refresh after its data changes

    assert snap_compare(app, terminal_size=(140, 48), run_before=plan)
