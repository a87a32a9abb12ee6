"""`report`, `history` and calibration on real demo runs (real git, a private tmux server)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from engine.core.config import ParallelConfig
from engine.report.calibration import calibrate
from engine.run.journal import journal_path, open_journal
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES, cli, status_json

pytestmark = pytest.mark.tmux


def demo_run(capsys: pytest.CaptureFixture[str], repo: Path, tasks: str = "a,b") -> None:
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", tasks, "--prompt", "write it",
                       "--agent", "demo", "--yes", "--wait")
    assert code == 0, err


def report_json(capsys: pytest.CaptureFixture[str], repo: Path) -> dict[str, object]:
    code, out, err = cli(capsys, "report", "--repo", str(repo), "--json")
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def test_merged_demo_run_reports_measured_stages_beside_the_model(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    demo_run(capsys, repo)
    assert cli(capsys, "merge", "--repo", str(repo), "--yes", "--verify", "true")[0] == 0
    data = report_json(capsys, repo)
    assert data["outcome"] == "merged"
    predicted, actual = data["predicted"], data["actual"]
    assert isinstance(predicted, dict) and isinstance(actual, dict)
    assert predicted["splits"] == 2 and predicted["sequential_minutes"] > 0
    assert set(predicted["stages"]) == set(actual["stages"])  # key for key
    assert predicted["stages"]["worktree_creation"] == 8.0, "the spec's seed constant"
    assert actual["stages"]["worktree_creation"] > 0 and actual["stages"]["merge_per_branch"] > 0
    assert actual["stages"]["verify"] > 0 and actual["stages"]["context_building"] is None
    assert 0 < actual["wall_seconds"] < 120
    assert actual["active_seconds"] == pytest.approx(actual["wall_seconds"] - actual["waiting_seconds"],
                                                     abs=0.01)
    sources = data["sources"]
    assert isinstance(sources, dict)
    assert sources["realised_savings_pct"] == "measured wall time vs modelled sequential time"
    assert sources["specialization_bonus_pct"] == "modelled (spec)"
    sessions = data["sessions"]
    assert isinstance(sessions, list) and [s["state"] for s in sessions] == ["done", "done"]
    code, out, _ = cli(capsys, "report", "--repo", str(repo))
    assert code == 0 and "realised savings" in out and "seconds per branch, per stage" in out


def test_history_tells_merged_from_abandoned(repo_factory: RepoFactory, tmux_socket: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    demo_run(capsys, repo, "one")
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--force")[0] == 0
    demo_run(capsys, repo, "two")
    assert cli(capsys, "merge", "--repo", str(repo), "--yes")[0] == 0
    code, out, err = cli(capsys, "history", "--repo", str(repo), "--json")
    assert code == 0, err
    runs = json.loads(out)["runs"]
    assert [r["outcome"] for r in runs] == ["merged", "abandoned"]
    assert all(r["predicted_minutes"] and r["splits"] == 1 and r["agents"] == ["demo"] for r in runs)


def test_calibration_switches_on_after_three_measured_runs_per_agent(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_factory(FILES)
    for i in range(3):
        demo_run(capsys, repo, f"t{i}")
        with open_journal() as journal:
            config, sources = calibrate(journal, str(repo), "demo", ParallelConfig())
        by_name = {s.name: s for s in sources}
        expected = "measured" if i == 2 else "seed"
        assert by_name["worktree_creation_time"].source == expected
    measured = by_name["worktree_creation_time"]
    assert measured.runs == 3 and measured.median is not None and measured.median < 8.0
    assert config.worktree_creation_time == measured.median
    with open_journal() as journal:
        _, claude = calibrate(journal, str(repo), "claude", ParallelConfig())
        _, seed = calibrate(journal, str(repo), "demo", ParallelConfig(), seed=True)
    assert all(s.source == "seed" for s in claude), "a demo run never calibrates Claude"
    assert all(s.source == "seed" for s in seed)
    monkeypatch.setenv("PARALLEL_TUI_DEFAULT_AGENT", "demo")
    code, out, err = cli(capsys, "table", "--repo", str(repo), "--minutes", "45", "--json")
    assert code == 0, err
    table = json.loads(out)
    wt = {c["name"]: c for c in table["model"]["constants"]}["worktree_creation_time"]
    assert wt["source"] == "measured" and wt["runs"] == 3
    assert wt["median"] == pytest.approx(measured.median, abs=1e-3)
    assert table["rows"][1]["overhead_minutes"] < 1.4, "measured constants are smaller than the seed"
    code, out, _ = cli(capsys, "table", "--repo", str(repo), "--minutes", "45", "--json", "--seed-model")
    assert {c["source"] for c in json.loads(out)["model"]["constants"]} == {"seed"}
    code, out, err = cli(capsys, "plan", "--repo", str(repo), "Add a login page with tests", "--json")
    assert code == 0, err
    assert {c["name"]: c["source"] for c in json.loads(out)["model"]}["worktree_creation_time"] == "measured"
    monkeypatch.setenv("PARALLEL_TUI_DEFAULT_AGENT", "claude")
    code, out, _ = cli(capsys, "table", "--repo", str(repo), "--minutes", "45")
    assert "worktree_creation_time 8 (seed)" in out


def test_an_old_journal_without_stage_rows_still_reports(repo_factory: RepoFactory,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:  # the schema before estimates, merges and timings were kept
        db.executescript("""
            CREATE TABLE runs (id TEXT PRIMARY KEY, repo TEXT NOT NULL, base_sha TEXT NOT NULL,
              base_ref TEXT NOT NULL, agent TEXT NOT NULL, tmux_socket TEXT NOT NULL,
              tmux_session TEXT NOT NULL, task TEXT NOT NULL, created_at REAL NOT NULL, pid INTEGER NOT NULL);
        """)
        db.execute("INSERT INTO runs VALUES ('old-run', ?, 'abc', 'main', 'demo', 'x', 'y', 'old', 1.0, 1)",
                   (str(repo),))
    data = report_json(capsys, repo)
    assert data["run"] == "old-run" and data["predicted"] is None
    stages = data["stages"]
    assert isinstance(stages, list)
    assert all(s["measured_seconds"] is None and s["note"] for s in stages)


def test_after_a_merge_each_session_keeps_its_time_and_commits(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The merge cleans up the merged branches; the report still counts each session's commits
    (the merge commits keep the branches' tips) and its measured time (the journal)."""
    repo = repo_factory(FILES)
    demo_run(capsys, repo)
    before = status_json(capsys, repo)["sessions"]
    assert isinstance(before, list)
    assert [(s["has_window"], s["cleaned"]) for s in before] == [(True, False)] * 2
    assert cli(capsys, "merge", "--repo", str(repo), "--yes", "--no-verify")[0] == 0
    after = status_json(capsys, repo)["sessions"]
    assert isinstance(after, list)
    assert [(s["has_window"], s["cleaned"]) for s in after] == [(False, True)] * 2
    assert not git(repo, "branch", "--list", "parallel/*").strip(), "the merge deleted the branches"
    sessions = report_json(capsys, repo)["sessions"]
    assert isinstance(sessions, list) and [s["name"] for s in sessions] == ["a", "b"]
    for s in sessions:
        assert s["seconds"] > 0 and s["commits"] == 1 and s["files_changed"] == 1, s
        assert s["lines_added"] > 0, s
    code, out, _ = cli(capsys, "report", "--repo", str(repo))
    assert code == 0 and out.count("1 commit(s), 1 file(s), +") == 2, out
