"""Merge review, report and history on the real engine: real git, a private tmux, the demo agent."""

from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import time
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Static

from engine.service import build_engine
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.merge_helpers import chain_plan
from tests.run_helpers import FILES, cli, status_json
from tests.test_tui import settle
from tui.app import ParallelApp
from tui.diff_screen import DiffScreen
from tui.history_screen import HistoryScreen
from tui.merge_modals import Confirm, VerifyPrompt
from tui.merge_screen import MergeScreen
from tui.report_screen import ReportScreen
from tui.sessions_screen import SessionsScreen

pytestmark = pytest.mark.tmux


async def demo_run(repo: Path, capsys: pytest.CaptureFixture[str], tasks: str = "a,b") -> str:
    """The CLI's own `run --wait` (it runs its own event loop, so in a thread)."""
    code, _, err = await asyncio.to_thread(cli, capsys, "run", "--repo", str(repo), "--tasks", tasks,
                                           "--prompt", "do it", "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    return str((await asyncio.to_thread(status_json, capsys, repo))["run_id"])


def make_app(repo: Path, run_id: str) -> ParallelApp:
    return ParallelApp(build_engine(repo, planner="offline", agent="demo"), planner="offline",
                       label="test-repo", still=True, open_run=run_id)


async def open_review(pilot: Pilot[None], app: ParallelApp) -> MergeScreen:
    await settle(pilot, app)
    assert isinstance(app.screen, SessionsScreen)
    await pilot.press("m")
    await settle(pilot, app)
    assert isinstance(app.screen, MergeScreen)
    return app.screen


def text_of(screen: Screen[None], selector: str) -> str:
    """What a Static shows, as plain text (Rich groups and syntax included)."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(screen.query_one(selector, Static).content)
    return console.export_text()


FOOTERS = {
    "MergeScreen": {"escape", "q", "M", "k", "v", "p", "c", "enter", "R", "question_mark", "ctrl+q"},
    "ReportScreen": {"escape", "q", "H", "question_mark", "ctrl+q"},
    "HistoryScreen": {"enter", "escape", "q", "question_mark", "ctrl+q"},
    "Confirm": {"y", "n", "escape", "q"},
}
"""Every footer of part 2's screens; each key is exercised by a test in this file. The merge
review's shows only the keys that apply: x (resolve) for a conflicting branch, k as unskip on a
skipped one, M and p only when the merge may go ahead, nothing that changes anything while a
merge runs."""


def footer(app: ParallelApp) -> set[str]:
    return {b.binding.key for b in app.active_bindings.values() if b.binding.show and b.enabled}


def footer_actions(app: ParallelApp) -> set[str]:
    return {b.binding.action for b in app.active_bindings.values() if b.binding.show and b.enabled}


async def select(pilot: Pilot[None], screen: MergeScreen, branch: str) -> None:
    table = screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(branch), column=0)
    await pilot.pause()


def selected_branch(screen: MergeScreen) -> str:
    table = screen.query_one(DataTable)
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


def merging(worktree: Path) -> bool:
    """A merge with markers waits in the worktree (the agent has not committed it yet)."""
    return subprocess.run(["git", "-C", str(worktree), "rev-parse", "-q", "--verify", "MERGE_HEAD"],
                          capture_output=True, check=False).returncode == 0


def cells(screen: MergeScreen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def assert_sessions_measured(report: ReportScreen) -> None:
    """Each session's time (a demo session takes under a second: tenths, not `0:00`) and its
    commit, which outlive the branch the merge deleted."""
    table = report.query_one("#report-sessions", DataTable)
    sessions = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
    assert [s[5] for s in sessions] == ["1", "1"], f"commits survive the merge's cleanup: {sessions}"
    assert all(re.fullmatch(r"\d+\.\ds", s[3]) and s[3] != "0.0s" for s in sessions), sessions


async def test_demo_run_reviewed_merged_by_keyboard_and_reported(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    app = make_app(repo, run_id)
    async with app.run_test(size=(140, 44)) as pilot:
        review = await open_review(pilot, app)
        rows = [r[:3] for r in cells(review)]
        assert rows == [["a", "1", "✓ clean"], ["b", "1", "✓ clean"]], "parallel/ is said once, above"
        assert review.query_one("#matrix").border_title == "Conflict matrix — branches parallel/…"
        assert cells(review)[0][3:5] == ["—", "✓ clean"], "a × a is the diagonal, a × b is clean"
        assert "parallel/a → parallel/b" in text_of(review, "#merge-head")
        await pilot.press("M")
        assert isinstance(app.screen, Confirm)
        assert "Merge parallel/a → parallel/b into main (now " in app.screen.text
        await pilot.press("n")
        await settle(pilot, app)
        assert not (repo / "demo" / "a.md").exists(), "declined: nothing merged"
        await pilot.press("M", "y")
        await settle(pilot, app)
        for name in "ab":
            assert (repo / "demo" / f"{name}.md").is_file(), "the target holds the work"
        assert "Merge parallel/b into main" in git(repo, "log", "--format=%s", "-3", "main")
        assert isinstance(app.screen, ReportScreen), "a merge opens the run's report"
        assert_merged_report(app.screen)
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.screen is review and cells(review) == [], "back from the report: checked again"
        assert_emptied(review)
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, SessionsScreen)
        await board_after_cleanup(pilot, app)
        await pilot.press("H")
        await settle(pilot, app)
        history = app.screen
        assert isinstance(history, HistoryScreen) and history.lines[0].run == run_id
        assert history.lines[0].outcome == "merged"
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ReportScreen) and app.screen.run_id == run_id


def assert_emptied(review: MergeScreen) -> None:
    """Back from the report after a merge: the review says so, and no stale panel title stays."""
    head = review.query_one("#merge-head", Static)
    assert text_of(review, "#merge-head").strip() == "merged into main; nothing left to merge"
    assert "red" not in str(head.content.style), "news, not an error"  # type: ignore[union-attr]
    assert review.query_one("#matrix").border_title == "Conflict matrix", "no stale panel title"
    assert review.query_one("#merge-detail").border_title == "selected cell"


def assert_merged_report(report: ReportScreen) -> None:
    assert "merged" in text_of(report, "#report-head")
    stages = {str(r[0]): str(r[2]) for r in (report.query_one("#stages", DataTable).get_row_at(i)
                                             for i in range(6))}
    assert stages["merge_per_branch"] != "—" and stages["worktree_creation"] != "—", stages
    assert "measured (launch to merge)" in text_of(report, "#sources")
    assert_sessions_measured(report)


async def board_after_cleanup(pilot: Pilot[None], app: ParallelApp) -> None:
    """The run had finished (the bridge stopped), then the merge cleaned its sessions up: back on
    the board, their state is read again and the keys that need a window or a branch are gone."""
    run = app.state.run
    assert run is not None and all(s.detail == "cleaned up" for s in run.sessions), run
    assert all(s.commits == 1 for s in run.sessions), "the merged sessions' commits, not 0"
    assert not {"attach", "send", "stop", "diff"} & footer_actions(app), footer_actions(app)
    errors = sum(n.severity == "error" for n in app._notifications)
    await pilot.press("enter")
    await settle(pilot, app)
    assert isinstance(app.screen, SessionsScreen)
    assert sum(n.severity == "error" for n in app._notifications) == errors, "enter attaches nothing"
    await pilot.press("m")
    await settle(pilot, app)
    assert isinstance(app.screen, SessionsScreen), "nothing to merge: the review does not open"
    assert app._notifications and list(app._notifications)[-1].message == \
        "nothing to merge: this run's branches were merged or cleaned up"


async def test_conflicting_run_shows_hunks_and_refuses_until_a_branch_is_skipped(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    for name in "ab":
        worktree = repo.parent / f"{repo.name}.parallel" / name
        (worktree / "README.md").write_text(f"# demo by {name}\n")
        git(worktree, "commit", "-qam", f"{name} edits the title")
    before = git(repo, "rev-parse", "main")
    app = make_app(repo, run_id)
    async with app.run_test(size=(140, 44)) as pilot:
        review = await open_review(pilot, app)
        assert cells(review)[0][4] == "✗ 1 conflict", "a × b conflicts"
        await pilot.press("right", "right", "right", "right")  # a's row, b's column
        detail = review.query_one("#merge-detail")
        assert detail.border_title == "parallel/a × parallel/b"
        body = text_of(review, "#merge-cell")
        assert "✗ README.md (content)" in body
        assert "<<<<<<< parallel/a" in body and ">>>>>>> parallel/b" in body, "the hunk is shown"
        assert "M is off: parallel/b conflict(s) with the merge" in text_of(review, "#merge-status")
        assert "M" not in footer(app) and "p" not in footer(app) and "x" not in footer(app)
        await pilot.press("M")
        await settle(pilot, app)
        assert isinstance(app.screen, MergeScreen), "no confirmation: the merge is refused"
        assert git(repo, "rev-parse", "main") == before
        await pilot.press("down")
        assert "x" in footer(app), "the conflicting branch can be handed to its agent"
        await skip_b_then_back_then_skip_again(pilot, app, review)
        await pilot.press("M")
        assert isinstance(app.screen, Confirm)
        assert app.screen.text.startswith("Merge parallel/a into main")
        await pilot.press("y")
        await settle(pilot, app)
        assert (repo / "README.md").read_text() == "# demo by a\n"
        assert git(repo, "rev-parse", "-q", "--verify", "parallel/b"), "the skipped branch is kept"


async def skip_b_then_back_then_skip_again(pilot: Pilot[None], app: ParallelApp, review: MergeScreen) -> None:
    await pilot.press("k")
    await settle(pilot, app)
    assert [r[:3] for r in cells(review)] == [["a", "2", "✓ clean"], ["b", "—", "skipped"]]
    assert "skipped: parallel/b" in text_of(review, "#merge-head")
    assert "skipped parallel/b — k on it brings it back" in text_of(review, "#merge-status")
    assert "M is off" not in text_of(review, "#merge-status")
    assert "unskip" in footer_actions(app) and "skip" not in footer_actions(app), "b is selected"
    await pilot.press("k")
    await settle(pilot, app)
    assert [r[2] for r in cells(review)] == ["✓ clean", "✓ clean"], "k again brings b back"
    assert "parallel/b is back" in text_of(review, "#merge-status") and "M" not in footer(app)
    await pilot.press("k")
    await settle(pilot, app)


def both_edit_the_title(repo: Path) -> dict[str, Path]:
    """The demo run's a and b both change README.md's first line: they conflict. Their worktrees."""
    worktrees = {name: repo.parent / f"{repo.name}.parallel" / name for name in "ab"}
    for name, worktree in worktrees.items():
        (worktree / "README.md").write_text(f"# demo by {name}\n")
        git(worktree, "commit", "-qam", f"{name} edits the title")
    return worktrees


async def until_read_again(pilot: Pilot[None], review: MergeScreen) -> None:
    """After `x`: no key pressed, the matrix reads again once the agent committed its resolution."""
    deadline = time.monotonic() + 30
    while any("conflict" in c for row in cells(review) for c in row):
        assert time.monotonic() < deadline, f"the matrix was not read again: {cells(review)}"
        await pilot.pause(0.2)


async def test_x_hands_the_conflict_to_its_agent_then_everything_merges(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    both_edit_the_title(repo)
    app = make_app(repo, run_id)
    async with app.run_test(size=(140, 44)) as pilot:
        review = await open_review(pilot, app)
        await pilot.press("down", "x")
        deadline = time.monotonic() + 10
        while "resolving" not in text_of(review, "#merge-status"):
            assert time.monotonic() < deadline, text_of(review, "#merge-status")
            await pilot.pause(0.1)
        assert "resolving README.md" in text_of(review, "#merge-status")
        assert "started a new session" in text_of(review, "#merge-status")
        worktree = repo.parent / f"{repo.name}.parallel" / "b"
        await until_read_again(pilot, review)
        assert not merging(worktree), "the matrix changed once the agent committed"
        assert "parallel/b committed its resolution" in text_of(review, "#merge-status")
        await settle(pilot, app)
        await pilot.press("M", "y")
        await settle(pilot, app)
        assert (repo / "README.md").read_text() == "# demo by b\n# demo by a\n", "both sides merged"


async def test_verify_failure_names_the_branch_and_shows_the_output(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    before = git(repo, "rev-parse", "main")
    app = make_app(repo, run_id)
    async with app.run_test(size=(140, 44)) as pilot:
        review = await open_review(pilot, app)
        await pilot.press("v")
        assert isinstance(app.screen, VerifyPrompt)
        app.screen.query_one("#verify-command").value = "echo checking; test ! -f demo/b.md"  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert review.state.verify == "echo checking; test ! -f demo/b.md"
        assert "verify: echo checking" in text_of(review, "#merge-head")
        await pilot.press("M")
        assert isinstance(app.screen, Confirm) and "after `echo checking" in app.screen.text
        await pilot.press("y")
        await settle(pilot, app)
        status = text_of(review, "#merge-status")
        assert "✗ verify" in status and "parallel/b breaks it" in status and "checking" in status
        assert git(repo, "rev-parse", "main") == before, "nothing moved"
        verify, upto = "verify `echo checking; test ! -f demo/b.md`", "on the merge up to parallel"
        assert [_plain(line) for line in review.state.progress] == [
            "… merging parallel/a into main (1/2)", "✓ merged parallel/a (1/2) as SHA in Ns",
            "… merging parallel/b into main (2/2)", "✓ merged parallel/b (2/2) as SHA in Ns",
            f"… {verify} {upto}/b", f"✗ verify failed (exit 1) {upto}/b in Ns: checking",
            f"… bisecting: {verify} {upto}/a", f"✓ verify passed {upto}/a in Ns",
            f"✗ {verify} failed: adding parallel/b breaks it"], "the engine's stages, in order"
        assert "M" in footer(app), "the merge finished: its keys are back"


def _plain(line: str) -> str:
    """A progress line without what varies between runs (shas, seconds)."""
    return re.sub(r"\b[0-9a-f]{10}\b", "SHA", re.sub(r"\b\d+\.\d+s\b", "Ns", line))


def gated(gate: Path) -> str:
    """A verify command that waits for `gate` (at most 15 s: a failed test never hangs)."""
    return f"for i in $(seq 300); do [ -f {gate} ] && break; sleep 0.05; done"


async def merge_until_verify_waits(pilot: Pilot[None], review: MergeScreen) -> None:
    """`M`, `y`, then wait until the (gated) verify command is running."""
    await pilot.press("M", "y")
    deadline = time.monotonic() + 20
    while "… verify `for i" not in text_of(review, "#merge-status"):
        assert time.monotonic() < deadline, text_of(review, "#merge-status")
        await pilot.pause(0.05)


async def test_merge_stages_stream_into_the_review_while_the_merge_runs(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """The verify command waits for a gate file: while it runs, the review shows the stages so
    far and offers no key that would change anything or leave (esc, R, H, 2 are held with a
    note: the outcome is told here); then the merge completes and opens the one report."""
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    gate = tmp_path / "gate"
    app = make_app(repo, run_id)
    async with app.run_test(size=(100, 30)) as pilot:
        review = await open_review(pilot, app)
        review.set_state(verify=gated(gate))
        try:
            await merge_until_verify_waits(pilot, review)
            status = text_of(review, "#merge-status")
            assert "merging… Merge parallel/a → parallel/b into main" in status
            assert "✓ merged parallel/a (1/2) as " in status and "✓ merged parallel/b (2/2) as " in status
            assert "on the merge up to parallel/b" in status
            assert footer(app) == {"enter", "question_mark", "ctrl+q"}, "nothing to change or leave now"
            for key in ("escape", "R", "H", "2"):
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is review, f"{key} is held while the merge runs"
            assert "merge running — wait for it" in text_of(review, "#merge-status")
            app.push_screen(ReportScreen(run_id))  # a report opened before the merge ended
            await pilot.pause()
            assert not (repo / "demo" / "a.md").exists(), "the target has not moved yet"
        finally:
            gate.touch()
        await settle(pilot, app)
        assert isinstance(app.screen, ReportScreen)
        assert "outcome merged" in text_of(app.screen, "#report-head")
        assert (repo / "demo" / "a.md").is_file() and (repo / "demo" / "b.md").is_file()
        assert review.state.progress[-1].startswith("✓ verify passed on the merge up to parallel/b in ")
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.screen is review, "the merged report replaced the one opened before: none stale below"


async def test_esc_twice_leaves_a_running_merge_which_goes_on(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """A verify that hangs must not trap the person: a second esc leaves the review (the note
    says the merge goes on), and the merge still completes and is journaled for the report."""
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    gate = tmp_path / "gate"
    app = make_app(repo, run_id)
    async with app.run_test(size=(100, 30)) as pilot:
        review = await open_review(pilot, app)
        review.set_state(verify=gated(gate))
        try:
            await merge_until_verify_waits(pilot, review)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is review, "the first esc is held"
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is not review, "the second one leaves"
        finally:
            gate.touch()
    deadline = time.monotonic() + 20
    while not (repo / "demo" / "b.md").is_file():
        assert time.monotonic() < deadline, "the merge went on after the screen closed"
        await asyncio.sleep(0.1)
    report = await asyncio.to_thread(cli, capsys, "report", "--repo", str(repo), "--run", run_id, "--json")
    assert report[0] == 0 and '"outcome": "merged"' in report[1], report


async def test_k_twice_on_a_branch_skips_it_and_brings_it_back(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The cursor follows the branch k acted on (to the skipped rows and back), so k, k on
    parallel/a never skips parallel/b."""
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    app = make_app(repo, run_id)
    async with app.run_test(size=(140, 44)) as pilot:
        review = await open_review(pilot, app)
        await select(pilot, review, "parallel/a")
        await pilot.press("k")
        await settle(pilot, app)
        assert [r[:3] for r in cells(review)] == [["b", "1", "✓ clean"], ["a", "—", "skipped"]]
        assert selected_branch(review) == "parallel/a", "the cursor went with it"
        await pilot.press("k")
        await settle(pilot, app)
        assert [r[2] for r in cells(review)] == ["✓ clean", "✓ clean"] and review.state.skip == ()
        assert selected_branch(review) == "parallel/a"


async def test_k_brings_a_skipped_branch_back_with_its_dependents_unless_skipped_on_their_own(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """`api` builds on `models`: skipping models skips api, and bringing models back brings api
    back; api skipped on its own stays skipped, and k on a branch skipped only because it builds
    on a skipped one says to bring that one back first."""
    repo = repo_factory(FILES)
    plan = chain_plan(tmp_path)
    code, _, err = await asyncio.to_thread(cli, capsys, "run", "--repo", str(repo), "--plan", str(plan),
                                           "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    app = make_app(repo, str((await asyncio.to_thread(status_json, capsys, repo))["run_id"]))
    async with app.run_test(size=(140, 44)) as pilot:
        review = await open_review(pilot, app)
        await select(pilot, review, "parallel/models")
        await pilot.press("k")
        await settle(pilot, app)
        assert "skipped parallel/models; also skipped parallel/api (builds on parallel/models)" in \
            text_of(review, "#merge-status")
        assert [r[0] for r in cells(review) if r[2] == "skipped"] == ["api", "models"]
        await select(pilot, review, "parallel/api")
        assert "unskip" in footer_actions(app)
        await pilot.press("k")
        await settle(pilot, app)
        assert "parallel/api stays skipped: it builds on parallel/models" in text_of(review, "#merge-status")
        await select(pilot, review, "parallel/models")
        await pilot.press("k")
        await settle(pilot, app)
        assert "parallel/models is back; parallel/api (built on it) comes back too" in \
            text_of(review, "#merge-status")
        assert all(r[2] != "skipped" for r in cells(review))
        for name in ("parallel/api", "parallel/models"):  # api on its own, then models
            await select(pilot, review, name)
            await pilot.press("k")
            await settle(pilot, app)
        await select(pilot, review, "parallel/models")
        await pilot.press("k")
        await settle(pilot, app)
        status = text_of(review, "#merge-status")
        assert "parallel/models is back; parallel/api stays skipped (skipped on its own)" in status
        assert [r[0] for r in cells(review) if r[2] == "skipped"] == ["api"]


async def test_merge_review_keys_diff_resolve_prs_cleanup(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    app = make_app(repo, run_id)
    async with app.run_test(size=(140, 44)) as pilot:
        review = await open_review(pilot, app)
        assert footer(app) == FOOTERS["MergeScreen"]
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, DiffScreen) and "demo/a.md" in [d.path for d in app.screen.diffs]
        await pilot.press("escape", "x")
        await settle(pilot, app)
        assert text_of(review, "#merge-status").strip() == "", "x does not apply to a clean branch"
        await pilot.press("p")
        await settle(pilot, app)
        assert isinstance(app.screen, Confirm)
        assert app.screen.text == "Push parallel/a, parallel/b; PRs: parallel/a → main, parallel/b → main"
        await pilot.press("n", "c")
        await settle(pilot, app)
        assert isinstance(app.screen, Confirm), "cleanup lists what it would remove first"
        assert "worktree" in app.screen.text and "parallel/a" in app.screen.text
        await pilot.press("escape")
        await settle(pilot, app)
        assert git(repo, "rev-parse", "-q", "--verify", "parallel/a"), "declined: nothing removed"
        await pilot.press("R")
        await settle(pilot, app)
        assert isinstance(app.screen, ReportScreen) and "not merged" in text_of(app.screen, "#report-head")
        assert footer(app) == FOOTERS["ReportScreen"]
        await pilot.press("q", "p")
        assert isinstance(app.screen, Confirm) and footer(app) == FOOTERS["Confirm"]
        await pilot.press("escape", "escape", "H")
        await settle(pilot, app)
        assert isinstance(app.screen, HistoryScreen) and footer(app) == FOOTERS["HistoryScreen"]


async def test_report_at_80x24_shows_every_stage_and_session(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    """At 80×24 the panels stack and the body scrolls: the report opens at its top (the run's
    id on screen), the stage table is tall enough for all its rows (header and border
    included) and on screen; tabbing to the sessions scrolls them into view, every row too."""
    repo = repo_factory(FILES)
    run_id = await demo_run(repo, capsys)
    app = make_app(repo, run_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("R")
        await settle(pilot, app)
        report = app.screen
        assert isinstance(report, ReportScreen)
        await pilot.pause(0.3)
        assert report.query_one("#report-body").scroll_y == 0, "the report opens at its top"
        head = report.query_one("#report-head")
        assert f"Run {run_id}" in text_of(report, "#report-head")
        assert report.region.contains_region(head.region) and head.region.y == 1, head.region
        for selector, rows in (("#stages", 6), ("#report-sessions", 2)):
            table = report.query_one(selector, DataTable)
            if selector != "#stages":
                await pilot.press("tab")
            await settle(pilot, app)
            assert app.focused is table, app.focused
            assert table.row_count == rows
            region, screen = table.region, report.region
            assert region.height >= rows + 3, f"{selector}: {rows} rows in {region}"
            assert screen.contains_region(region), f"{selector} at {region} is off the 80×24 screen"


async def test_p_confirms_each_push_and_each_stacked_prs_base_in_the_engines_words(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """A chain (api builds on models): `p`'s confirmation is the engine's own preview, which
    says api's PR goes against parallel/models, not main; declined, nothing is pushed."""
    repo = repo_factory(FILES)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"task": "t", "estimate": {"sequential_minutes": 30}, "subtasks": [
        {"name": "models", "description": "the models", "files_to_create": ["demo/models.md"]},
        {"name": "api", "description": "the api", "files_to_create": ["demo/api.md"],
         "depends_on": ["models"]}]}))
    code, _, err = await asyncio.to_thread(cli, capsys, "run", "--repo", str(repo), "--plan", str(plan),
                                           "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    run_id = str((await asyncio.to_thread(status_json, capsys, repo))["run_id"])
    app = make_app(repo, run_id)
    async with app.run_test(size=(140, 44)) as pilot:
        review = await open_review(pilot, app)
        await pilot.press("p")
        await settle(pilot, app)
        assert isinstance(app.screen, Confirm)
        checked = review.state.checked
        assert checked is not None and app.screen.text == app.backend.pr_preview(checked)
        assert app.screen.text == ("Push parallel/models, parallel/api; PRs: parallel/models → main, "
                                   "parallel/api → parallel/models (parallel/api stacked on the branch it "
                                   "builds on)")
        await pilot.press("n")
        await settle(pilot, app)
        assert app.screen is review and "opened" not in text_of(review, "#merge-status")
