"""The app drives the real engine: type a task, the table, chart and plan appear."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static

from tui.app import ParallelApp


async def test_typing_a_task_shows_table_and_plan(web_repo: Path) -> None:
    app = ParallelApp(repo=web_repo, planner="offline")
    async with app.run_test(size=(140, 50)) as pilot:
        app.query_one(Input).value = "Implement user authentication with frontend and backend"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one(DataTable)
        assert table.row_count == 10
        text = str(app.query_one("#plan-text", Static).render())
        assert "auth-backend" in text
        assert "security-engineer" in text


async def test_an_empty_task_shows_the_engine_error(web_repo: Path) -> None:
    app = ParallelApp(repo=web_repo, planner="offline")
    async with app.run_test() as pilot:
        app.query_one(Input).value = "Add search with api and ui"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one(DataTable).row_count == 10
        app.query_one(Input).value = ""
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "task text is empty" in str(app.query_one("#plan-text", Static).render())
        assert app.query_one(DataTable).row_count == 0, "the previous task's numbers are gone"
