"""The app goes through one door: its screens show the engine's numbers and rules, not copies;
every decision goes through one Approver port.

Screen 2's split table against `table --json` on a repo whose constants were measured (three
real demo runs: real git, a private tmux server); the read model names what it says it does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest

import engine.views
from engine.core.approval import Decision, approved
from engine.service import Engine, build_engine, run_inline
from engine.views import Leftover, Which, leftover_lines
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli, worktree_paths
from tests.test_report import demo_run
from tests.test_tui import settle
from tui.app import ParallelApp
from tui.split_screen import SplitScreen


def table_rows(capsys: pytest.CaptureFixture[str], repo: Path, *extra: str) -> list[tuple[float, ...]]:
    """`table --minutes 45 --json`'s rows, in the screen's columns (N, parallel, overhead, total)."""
    code, out, err = cli(capsys, "table", "--repo", str(repo), "--minutes", "45", "--json", *extra)
    assert code == 0, err
    return [(r["splits"], r["parallel_minutes"], r["overhead_minutes"], r["total_minutes"])
            for r in json.loads(out)["rows"]]


def same_figures(shown: list[tuple[str, ...]], rows: list[tuple[float, ...]]) -> bool:
    """The screen's one-decimal cells are the JSON's numbers (kept to 3 decimals), each rounded
    once: 2.5501 shows as 2.6 where the JSON's 2.55 would print 2.5, so compare within half a
    tenth, not as formatted text."""
    return len(shown) == len(rows) and all(
        len(s) == len(r) and all(abs(float(a) - b) <= 0.05 + 1e-3 for a, b in zip(s, r, strict=True))
        for s, r in zip(shown, rows, strict=True))


@pytest.fixture
def calibrated(repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
               monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo whose demo agent's constants were measured: calibration switches on after three
    measured runs (made before the test's event loop runs: the CLI runs its own)."""
    repo = repo_factory(FILES)
    monkeypatch.setenv("PARALLEL_TUI_DEFAULT_AGENT", "demo")  # the agent the runs calibrate
    for i in range(3):
        demo_run(capsys, repo, f"t{i}")
    return repo


@pytest.fixture
def tables(calibrated: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[tuple[float, ...]], ...]:
    """`table --json`'s rows with the measured constants, then with the seed's."""
    return table_rows(capsys, calibrated), table_rows(capsys, calibrated, "--seed-model")


@pytest.mark.tmux
async def test_split_screen_shows_the_calibrated_table_that_table_json_shows(
        calibrated: Path, tables: tuple[list[tuple[float, ...]], ...]) -> None:
    repo, (measured, seed) = calibrated, tables
    assert measured != seed, "the runs measured constants unlike the seed's"
    app = ParallelApp(build_engine(repo, planner="offline"), planner="offline", label="t", still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("escape", "2")
        await settle(pilot, app)
        assert isinstance(app.screen, SplitScreen)
        app.screen.query_one(".minutes").focus()
        await pilot.press("4", "5", "enter")
        await settle(pilot, app)
        table = app.screen.query_one("#overhead")
        shown = [tuple(str(c) for c in table.get_row_at(i)[:4])  # type: ignore[attr-defined]
                 for i in range(table.row_count)]  # type: ignore[attr-defined]
    assert same_figures(shown, measured), (shown, measured)
    assert not same_figures(shown, seed), "the screen shows the measured constants, not the seed's"


def test_the_read_model_names_resolve_and_are_the_engines_own() -> None:
    """Every name `engine.views` lists resolves to the object of the module that defines it."""
    for name in engine.views.__all__:
        value = getattr(engine.views, name)
        module = engine.views._MODULE_OF[name]
        assert value is getattr(__import__(module, fromlist=[name]), name)
    assert set(engine.views.__all__) == set(engine.views._MODULE_OF)


@pytest.mark.tmux
def test_every_decision_goes_through_one_approver_port(repo_factory: RepoFactory, tmux_socket: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Cleanup and merge ask the same port; an approver agrees only to what the person saw."""
    repo = repo_factory(FILES)
    demo_run(capsys, repo)
    engine = build_engine(repo, inline=True)
    asked: list[Decision] = []

    def no(decision: Decision) -> bool:
        asked.append(decision)
        return False

    assert run_inline(engine.merge(Which(), verify="", approve=no)) is None
    assert run_inline(engine.cleanup(approve=no)).declined
    merge, cleanup = asked
    assert (merge.action, cleanup.action) == ("merge", "cleanup")
    assert merge.detail == Engine.merge_preview(run_inline(engine.check(Which())), "")
    assert cleanup.detail == leftover_lines(cast("tuple[Leftover, ...]", cleanup.subject))
    assert cleanup.question == f"Clean up {len(cast('tuple[Leftover, ...]', cleanup.subject))} item(s)"
    assert len(worktree_paths(repo)) == 3, "declined: nothing was removed"
    assert run_inline(engine.cleanup(approve=approved("something else"))).declined
    done = run_inline(engine.cleanup(approve=approved(cleanup.detail)))
    assert done.result is not None and done.result.removed >= 2 and len(worktree_paths(repo)) == 1


def test_screens_reach_the_engine_only_through_the_backend() -> None:
    """No screen or widget holds the Engine: `backend.engine` is the door's own (and, until its
    rewrite on another branch, the run bridge's)."""
    tui = Path(__file__).resolve().parents[1] / "tui"
    reached = [p.name for p in sorted(tui.glob("*.py"))
               if p.name not in ("backend.py", "bridge.py") and "backend.engine" in p.read_text()]
    assert reached == []
