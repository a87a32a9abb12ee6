"""The "with waves" estimate: a plan with dependencies is timed by its critical path (the
longest chain of subtask minutes) plus the overhead, beside the spec's table, which stays as
it is; the verdict judges such a plan by it, and a pure chain is still not parallelised."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from engine.core.config import ParallelConfig
from engine.core.models import ConflictRisk, Subtask
from engine.planning.overhead import overhead_minutes, overhead_table, waves_estimate
from engine.planning.pipeline import revalidate
from engine.planning.plan_file import load_plan_file
from engine.planning.validation import decide
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli
from tui.split_screen import _waves
from tui.state import UiState

CONFIG = ParallelConfig()


def _sub(name: str, minutes: float = 0.0, *deps: str) -> Subtask:
    return Subtask(name=name, description=name, estimated_minutes=minutes, depends_on=deps)


def test_the_critical_path_replaces_max_minutes() -> None:
    plan = [_sub("A", 20, ), _sub("B", 10, "A"), _sub("C", 15)]
    est = waves_estimate(plan, 45.0, CONFIG)
    assert est is not None and est.critical_path == ("A", "B") and est.critical_minutes == 30.0
    assert est.parallel_minutes == pytest.approx(30.0 * CONFIG.coordination_factor)
    assert est.total_minutes == pytest.approx(est.parallel_minutes + overhead_minutes(3, CONFIG))
    assert est.savings_pct == pytest.approx((45.0 - est.total_minutes) / 45.0 * 100)
    independent = overhead_table(45.0, CONFIG).row(3)
    assert est.total_minutes > independent.total_minutes, "waves cost more than independent work"


def test_minutes_are_scaled_to_the_estimate_or_shared_equally() -> None:
    scaled = waves_estimate([_sub("A", 1), _sub("B", 2, "A")], 60.0, CONFIG)
    assert scaled is not None and scaled.critical_minutes == pytest.approx(60.0)
    equal = waves_estimate([_sub("A"), _sub("B", 0, "A"), _sub("C"), _sub("D")], 40.0, CONFIG)
    assert equal is not None and equal.critical_path == ("A", "B") and equal.critical_minutes == 20.0


def test_no_waves_estimate_without_dependencies_or_with_a_loop() -> None:
    assert waves_estimate([_sub("A"), _sub("B")], 45.0, CONFIG) is None
    assert waves_estimate([_sub("A", 0, "B"), _sub("B", 0, "A")], 45.0, CONFIG) is None


def test_the_verdict_judges_waves_and_still_refuses_a_pure_chain() -> None:
    table = overhead_table(120.0, CONFIG)
    chain = [_sub("A"), _sub("B", 0, "A"), _sub("C", 0, "B")]
    verdict = decide(chain, table, ConflictRisk.LOW, [["A"], ["B"], ["C"]], [], 20.0,
                     waves_estimate(chain, 120.0, CONFIG))
    assert not verdict.parallelize and "sequential dependencies" in verdict.reason
    pays = [_sub("A"), _sub("B"), _sub("C"), _sub("D", 0, "A")]
    verdict = decide(pays, table, ConflictRisk.LOW, [["A", "B", "C"], ["D"]], [], 20.0,
                     waves_estimate(pays, 120.0, CONFIG))
    assert verdict.parallelize and "with waves (critical path A → D)" in verdict.reason
    verdict = decide(pays, table, ConflictRisk.LOW, [["A", "B", "C"], ["D"]], [], 60.0,
                     waves_estimate(pays, 120.0, CONFIG))
    assert not verdict.parallelize and "with waves (critical path A → D) the gain is" in verdict.reason


def _plan_file(tmp_path: Path) -> Path:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"task": "t", "estimate": {"sequential_minutes": 90}, "subtasks": [
        {"name": "models", "description": "m", "files_to_modify": ["src/a.py"], "estimated_minutes": 30},
        {"name": "api", "description": "a", "files_to_modify": ["src/b.py"], "estimated_minutes": 30,
         "depends_on": ["models"]},
        {"name": "docs", "description": "d", "files_to_modify": ["README.md"], "estimated_minutes": 30}]}))
    return plan


def test_plan_shows_the_waves_estimate_beside_the_unchanged_table(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    plan = _plan_file(tmp_path)
    code, out, err = cli(capsys, "plan", "--repo", str(repo), "--validate", str(plan), "--json")
    assert code == 0, err
    waves = json.loads(out)["waves"]
    assert waves["critical_path"] == ["models", "api"] and waves["critical_minutes"] == 60.0
    code, out, err = cli(capsys, "plan", "--repo", str(repo), "--validate", str(plan))
    assert code == 0, err
    assert "With waves: " in out and "critical path models → api (60.0 min of work" in out
    assert "Splits | Parallel Time | Overhead | Total  | Savings" in out, "the spec's table stays"


def test_the_split_screen_shows_waves_for_a_plan_with_dependencies(
        repo_factory: RepoFactory, tmp_path: Path) -> None:
    repo = repo_factory(FILES)
    checked = asyncio.run(revalidate(load_plan_file(_plan_file(tmp_path)), repo, CONFIG))
    assert "[b]With waves: " in _waves(UiState(checked=checked))
    assert _waves(UiState()) == ""
