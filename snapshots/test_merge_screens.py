"""SVG snapshots of the dashboard's part 2 — merge review, report, history — from recorded data
(no git, no tmux, no clock): the screens are pushed with a recorded check, report or history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.coordinate import Coordinate
from textual.widgets import DataTable

from engine.core import events as rev
from engine.core.models import ConflictRisk
from engine.merge.apply import VerifyFailed
from engine.merge.check import BranchCheck, CheckReport, PairCheck
from engine.merge.flow import Checked
from engine.merge.mergetree import FileConflict
from engine.merge.targets import Candidate, Selection
from engine.merge.verify import VerifyResult, VerifyRun
from engine.report.efficiency import Actual, Predicted, RunReport, SessionLine
from engine.report.history import HistoryLine
from engine.report.stages import Stage
from snapshots.test_screens import SMALL, WIDE, app_for, settle
from tui.history_screen import HistoryScreen
from tui.merge_screen import MergeProgressed, MergeScreen
from tui.report_screen import ReportScreen

TARGET_SHA = "4f1c2e9a7b" * 4
NAMES = ("parallel/auth-backend", "parallel/auth-frontend", "parallel/auth-tests")
HUNK = ("<<<<<<< parallel/auth-backend\nSESSION_TTL = 3600\n=======\nSESSION_TTL = 900\n"
        ">>>>>>> parallel/auth-frontend")
CONFLICT = FileConflict(file="api/settings.py", type="content",
                        message="CONFLICT (content): Merge conflict in api/settings.py", hunks=(HUNK,))
FILES = {NAMES[0]: ("api/auth_routes.py", "api/settings.py", "api/models.py"),
         NAMES[1]: ("web/login.tsx", "web/session.ts", "api/settings.py"),
         NAMES[2]: ("tests/test_auth.py",)}


def _branch(name: str, flags: tuple[str, ...] = ()) -> BranchCheck:
    return BranchCheck(name=name, sha=name[-4:] * 10, commits=0 if flags else 2,
                       files_changed=FILES[name], conflicts_with_target=(), flags=flags)


def _checked(pairs: tuple[PairCheck, ...], risk: ConflictRisk, reason: str, *,
             blocked: tuple[str, ...] = (), flags: tuple[str, ...] = ()) -> Checked:
    branches = (_branch(NAMES[0]), _branch(NAMES[1]), _branch(NAMES[2], flags))
    order = tuple(n for n in NAMES if n not in blocked and not (flags and n == NAMES[2]))
    report = CheckReport(target="main", target_sha=TARGET_SHA, branches=branches, pairs=pairs,
                         merge_order=(*order, *blocked), blocked=blocked, conflict_risk=risk,
                         risk_reason=reason)
    selection = Selection(target="main", target_sha=TARGET_SHA, run=None,
                          candidates=tuple(Candidate(branch=b.name, sha=b.sha) for b in branches))
    return Checked(selection=selection, report=report, skipped=())


def _pair(a: int, b: int, overlap: tuple[str, ...] = (),
          conflicts: tuple[FileConflict, ...] = ()) -> PairCheck:
    return PairCheck(a=NAMES[a], b=NAMES[b], overlapping_files=overlap,
                     conflicting_files=tuple(c.file for c in conflicts), conflicts=conflicts)


CLEAN = _checked((_pair(0, 1), _pair(0, 2), _pair(1, 2)), ConflictRisk.LOW,
                 "no branch touches a file another one changes")
OVERLAP = _checked((_pair(0, 1, ("api/settings.py",)), _pair(0, 2), _pair(1, 2)), ConflictRisk.MEDIUM,
                   "same files changed (merge cleanly): parallel/auth-backend × parallel/auth-frontend: "
                   "api/settings.py")
CONFLICTING = _checked((_pair(0, 1, ("api/settings.py",), (CONFLICT,)), _pair(0, 2), _pair(1, 2)),
                       ConflictRisk.HIGH, "conflicts: parallel/auth-backend × parallel/auth-frontend: "
                       "api/settings.py", blocked=(NAMES[1],), flags=("no commits",))


def review(checked: Checked, cell: tuple[int, int] | None = None) -> Any:
    async def run(pilot: Any) -> None:
        await settle(pilot)
        screen = MergeScreen("20261126-120122-ab12", recorded=checked, verify="make test")
        await pilot.app.push_screen(screen)
        await settle(pilot)
        if cell is not None:
            screen.query_one(DataTable).cursor_coordinate = Coordinate(*cell)
            await settle(pilot)
    return run


def test_merge_review_clean(snap_compare: Any, web_repo: Path) -> None:
    """Merge review of three branches that merge cleanly: risk LOW in green, the suggested order
    auth-backend → auth-frontend → auth-tests, verify 'make test'; the matrix is all green
    '✓ clean' (each branch against main and against each other, '—' on the diagonal); the first
    cell is selected and its panel lists the branch's commits and files. Footer (compact, the keys
    that apply): ⏎ diff, esc back, M merge, k skip, v verify, p PRs, c clean, R report, ^q, ? —
    no x resolve (nothing conflicts)."""
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=review(CLEAN))


def test_merge_review_overlap(snap_compare: Any, web_repo: Path) -> None:
    """Two branches change the same file but merge cleanly: risk MEDIUM in yellow, the
    backend × frontend cells '~ 1 shared' in yellow; that cell is selected and says both change
    api/settings.py and merge cleanly."""
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=review(OVERLAP, (0, 4)))


def test_merge_review_conflict(snap_compare: Any, web_repo: Path) -> None:
    """A real conflict: risk HIGH in red, 'blocked: parallel/auth-frontend' in the head, its row
    name red, the backend × frontend cells '✗ 1 conflict' in red; auth-tests is flagged 'no
    commits'. The selected cell (frontend × backend) shows '✗ api/settings.py (content)' and the
    hunk between <<<<<<< parallel/auth-backend and >>>>>>> parallel/auth-frontend, highlighted as
    a diff. The status line in red: 'M is off: parallel/auth-frontend conflict(s) with the merge —
    k skips it, x hands it to its agent'; the footer has x resolve and no M merge or p PRs."""
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=review(CONFLICTING, (1, 3)))


def test_merge_review_verify_failed(snap_compare: Any, web_repo: Path) -> None:
    """The clean review after a merge whose verify failed: the status line in red names the
    command and the branch that breaks it (parallel/auth-tests), says nothing was moved, and
    shows the command's output tail (the failing test)."""
    async def run(pilot: Any) -> None:
        await review(CLEAN)(pilot)
        tail = "tests/test_auth.py::test_login FAILED\nE   assert 401 == 200\n1 failed, 41 passed in 3.2s"
        failed = VerifyRun(commit="ab" * 20, ok=False, exit_code=1, seconds=3.2, tail=tail)
        result = VerifyResult(command="make test", ok=False, seconds=6.4, culprit=NAMES[2], tail=tail,
                              runs=(failed,))
        pilot.app.screen.show_verify_failed(VerifyFailed("verify failed", hint="", result=result))
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=run)


STAGES = (Stage(name="worktree_creation", modelled_seconds=5.0, measured_seconds=1.2, samples=3),
          Stage(name="setup", modelled_seconds=None, measured_seconds=14.0, samples=3),
          Stage(name="session_startup", modelled_seconds=10.0, measured_seconds=6.5, samples=3),
          Stage(name="context_building", modelled_seconds=30.0, measured_seconds=None, samples=0,
                note="not measured: the agents' signals do not mark the first edit"),
          Stage(name="merge_per_branch", modelled_seconds=15.0, measured_seconds=2.1, samples=3),
          Stage(name="verify", modelled_seconds=None, measured_seconds=21.0, samples=1))
SOURCES = {
    "sequential_minutes": "modelled from heuristic",
    "predicted": "modelled (overhead model with the constants in force at launch)",
    "actual.wall_seconds": "measured (launch to merge)",
    "actual.waiting_seconds": "measured (needs_input and merge confirmation)",
    "actual.stages": "measured (journal timings; medians per branch)",
    "realised_savings_pct": "measured wall time vs modelled sequential time",
    "specialization_bonus_pct": "modelled (spec)",
    "sessions.cost_usd": "measured (stream-json result), where the agent reports it",
}
REPORT = RunReport(
    run="20261126-120122-ab12", task="Implement user authentication with frontend and backend",
    agent="claude", outcome="merged",
    predicted=Predicted(sequential_minutes=90.0, splits=3, total_minutes=38.5, savings_pct=57.2,
                        stages={s.name: s.modelled_seconds for s in STAGES}, specialization_bonus_pct=5.0),
    actual=Actual(wall_seconds=2520.0, active_seconds=2400.0, waiting_seconds=120.0,
                  stages={s.name: s.measured_seconds for s in STAGES}),
    stages=STAGES,
    sessions=(SessionLine(name="auth-backend", agent="claude", seconds=1810.0, cost_usd=0.42, state="done",
                          commits=3, files_changed=4, lines_added=212, lines_removed=18),
              SessionLine(name="auth-frontend", agent="claude", seconds=2240.0, cost_usd=0.61, state="done",
                          commits=2, files_changed=3, lines_added=160, lines_removed=9),
              SessionLine(name="auth-tests", agent="claude", seconds=1205.0, cost_usd=None, state="done",
                          commits=None, files_changed=None)),
    realised_savings_pct=53.3, sources=SOURCES)


def test_report_after_merge(snap_compare: Any, web_repo: Path) -> None:
    """The report of a merged run: outcome 'merged' in green; predicted 38.5 min for N=3
    [modelled] beside the actual wall 42.0 min [measured]; realised savings 53% labelled
    'measured wall time vs modelled sequential time'; the stage table (context_building not
    measured, with its note) beside grouped bars, modelled vs measured per stage; per-session
    time, cost ('—' where unreported) and git counts; the sources list, measured in green and
    modelled in yellow."""
    async def run(pilot: Any) -> None:
        await settle(pilot)
        await pilot.app.push_screen(ReportScreen(REPORT.run, recorded=REPORT))
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=run)


HISTORY = (
    HistoryLine(run="20261126-120122-ab12", created_at=1795694482.0, task=REPORT.task, splits=3,
                agents=("claude",), predicted_minutes=38.5, actual_minutes=42.0, cost_usd=1.03,
                outcome="merged"),
    HistoryLine(run="20261125-093010-9f3e", created_at=1795599010.0, task="Add search to the catalogue API",
                splits=2, agents=("claude", "codex"), predicted_minutes=25.0, actual_minutes=31.5,
                cost_usd=0.77, outcome="partly merged"),
    HistoryLine(run="20261124-170455-04aa", created_at=1795539895.0, task="Try the demo agent", splits=4,
                agents=("demo",), predicted_minutes=None, actual_minutes=None, cost_usd=None,
                outcome="abandoned"),
)


def test_history(snap_compare: Any, web_repo: Path) -> None:
    """History: three runs newest first with start time (UTC), task, N, agents, predicted and
    actual minutes ('—' where none), cost and outcome coloured merged green, partly merged
    yellow, abandoned red; the first row selected, the footer offering enter report."""
    async def run(pilot: Any) -> None:
        await settle(pilot)
        await pilot.app.push_screen(HistoryScreen(recorded=HISTORY))
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=WIDE, run_before=run)


def test_history_80x24(snap_compare: Any, web_repo: Path) -> None:
    """History at 80×24: each run's outcome right beside its id (no scrolling sideways to it),
    then start, N, predicted and actual minutes; the task comes last."""
    async def run(pilot: Any) -> None:
        await settle(pilot)
        await pilot.app.push_screen(HistoryScreen(recorded=HISTORY))
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)


def test_merge_review_conflict_80x24(snap_compare: Any, web_repo: Path) -> None:
    """The conflict review at 80×24: the matrix above the selected cell (panels stack), the
    head's risk, order and blocked branch still readable, 'M is off: …' above the footer, and
    every key that applies visible in the footer: ⏎ diff, esc back, k skip, x resolve, v verify,
    c clean, R report, ^q Quit, ? Help."""
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=review(CONFLICTING, (1, 3)))


SKIPPED = Checked(selection=CLEAN.selection, report=CheckReport(
    target="main", target_sha=TARGET_SHA, branches=CLEAN.report.branches[:1], pairs=(),
    merge_order=(NAMES[0],), blocked=(), conflict_risk=ConflictRisk.LOW,
    risk_reason="no branch touches a file another one changes"),
    skipped=(NAMES[1], f"{NAMES[2]} (builds on {NAMES[1]})"))


def test_merge_review_skipped_80x24(snap_compare: Any, web_repo: Path) -> None:
    """auth-frontend skipped, and auth-tests with it (it builds on it): both stay listed, dim,
    '— skipped' in their cells and 'skipped: builds on parallel/auth-frontend' as auth-tests'
    flag; head 'skipped: parallel/auth-frontend, parallel/auth-tests (builds on …)'. The
    skipped auth-frontend row is selected: its panel says k brings it back, and the footer
    offers 'k unskip' (no diff: a skipped branch is not checked)."""
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=review(SKIPPED, (1, 0)))


def test_merge_review_merging_80x24(snap_compare: Any, web_repo: Path) -> None:
    """A merge streaming its stages at 80×24: 'merging…' with the preview and 'verifying with
    `make test`', then the engine's latest five stage lines, dim: auth-frontend (2/3) and
    auth-tests (3/3) merged, verify `make test` running on the merge up to parallel/auth-tests.
    The footer offers only what applies while it runs: ⏎ diff, ^q, ? (esc and R, which would
    leave the screen, are held until the merge ends)."""
    async def run(pilot: Any) -> None:
        await review(CLEAN)(pilot)
        screen = pilot.app.screen
        screen.set_state(merging=True)
        screen.refresh_bindings()
        screen.show_status("merging… Merge auth-backend → auth-frontend → auth-tests into main\n"
                           "verifying with `make test`")
        for i, name in enumerate(NAMES, 1):
            screen.post_message(MergeProgressed(rev.MergeStepStarted(
                run_id="r", target="main", branch=name, index=i, total=3)))
            screen.post_message(MergeProgressed(rev.MergeStepFinished(
                run_id="r", target="main", branch=name, index=i, total=3, commit=f"{i}" * 40, seconds=0.04)))
        screen.post_message(MergeProgressed(rev.VerifyStarted(
            run_id="r", command="make test", commit="3" * 40, upto=NAMES[2])))
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)


def test_report_80x24(snap_compare: Any, web_repo: Path) -> None:
    """The report at 80×24: the panels stack and the body scrolls. On the first screen the head
    (run, task, outcome merged, predicted vs actual, realised savings) and, below it, the stage
    table with all six stages, each with its modelled and measured seconds (— where none) and
    n; the footer esc back, ^q, ?. The chart, sessions and sources follow below (scrolled to)."""
    async def run(pilot: Any) -> None:
        await settle(pilot)
        await pilot.app.push_screen(ReportScreen(REPORT.run, recorded=REPORT))
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)


def test_report_80x24_scrolled_to_sessions(snap_compare: Any, web_repo: Path) -> None:
    """The same report after tab: the sessions table has the focus and is scrolled into view,
    all three sessions with time (30:10, 37:20, 20:05), cost ($0.42, $0.61, —), commits, files
    and +/− (— for auth-tests, whose branch is gone)."""
    async def run(pilot: Any) -> None:
        await settle(pilot)
        await pilot.app.push_screen(ReportScreen(REPORT.run, recorded=REPORT))
        await settle(pilot)
        await pilot.press("tab")
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)


FOUR = ("parallel/auth-backend", "parallel/auth-frontend", "parallel/auth-tests", "parallel/auth-docs")


def _four() -> Checked:
    branches = tuple(BranchCheck(name=n, sha=n[-4:] * 10, commits=1, files_changed=(f"{n[-4:]}.py",),
                                 conflicts_with_target=(), flags=()) for n in FOUR)
    report = CheckReport(target="main", target_sha=TARGET_SHA, branches=branches, pairs=(), merge_order=FOUR,
                         blocked=(), conflict_risk=ConflictRisk.LOW,
                         risk_reason="no branch touches a file another one changes")
    selection = Selection(target="main", target_sha=TARGET_SHA, run=None,
                          candidates=tuple(Candidate(branch=b.name, sha=b.sha) for b in branches))
    return Checked(selection=selection, report=report, skipped=())


def test_merge_review_four_branches_80x24(snap_compare: Any, web_repo: Path) -> None:
    """The --demo run's four branches at 80×24: the matrix's title says 'branches parallel/…'
    once and the rows name auth-backend … auth-docs alone, so every column is on screen."""
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=review(_four()))


def test_verify_prompt_80x24(snap_compare: Any, web_repo: Path) -> None:
    """`v` at 80×24: the prompt's first line is whole ('…before the target moves'), the
    command field holds `make test`, and the hint says enter sets it (empty: none)."""
    async def run(pilot: Any) -> None:
        await review(CLEAN)(pilot)
        await pilot.press("v")
        await settle(pilot)
    assert snap_compare(app_for(web_repo), terminal_size=SMALL, run_before=run)
