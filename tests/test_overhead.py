"""The spec's overhead model: exact table, optimum, break-even, verdict, properties."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.core.config import ParallelConfig
from engine.core.numfmt import fixed
from engine.planning.overhead import overhead_table

SPEC_PARALLEL = ["45.0", "27.0", "18.0", "13.5", "10.8", "9.0", "7.7"]
SPEC_OVERHEAD = ["0.0", "1.4", "2.2", "2.9", "3.6", "4.3", "5.0"]
SPEC_TOTAL = ["45.0", "28.4", "20.2", "16.4", "14.4", "13.3", "12.7"]
SPEC_SAVINGS = ["0", "37", "55", "64", "68", "70", "72"]


def test_45_minutes_reproduces_the_spec_table() -> None:
    table = overhead_table(45.0, ParallelConfig())
    rows = table.rows[:7]
    assert [fixed(r.parallel_minutes) for r in rows] == SPEC_PARALLEL
    assert [fixed(r.overhead_minutes) for r in rows] == SPEC_OVERHEAD
    assert [fixed(r.total_minutes) for r in rows] == SPEC_TOTAL
    assert [fixed(r.savings_pct, 0) for r in rows] == SPEC_SAVINGS
    assert table.optimal_splits == 4
    assert table.break_even_splits == 2
    assert table.is_worth_parallelizing
    assert len(table.rows) == 10


class Case(NamedTuple):
    test_id: str
    minutes: float
    config: ParallelConfig
    repo_max_splits: int
    optimal: int
    worth: bool


CASES = [
    Case("tiny-task-never-splits", 4.0, ParallelConfig(), 10, 1, False),
    Case("big-task-splits-more", 240.0, ParallelConfig(), 10, 5, True),
    Case("capped-by-sessions", 240.0, ParallelConfig(max_concurrent_sessions=3), 10, 3, True),
    Case("capped-by-repo", 240.0, ParallelConfig(), 2, 2, True),
    Case("capped-by-worktrees", 240.0, ParallelConfig(max_worktrees=2), 10, 2, True),
    Case("huge-overhead-not-worth", 10.0, ParallelConfig(context_building_time=600.0), 10, 1, False),
    Case("strict-gain-threshold", 45.0, ParallelConfig(min_efficiency_gain_pct=90), 10, 4, False),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_optimum_and_verdict(case: Case) -> None:
    table = overhead_table(case.minutes, case.config, repo_max_splits=case.repo_max_splits)
    assert table.optimal_splits == case.optimal
    assert table.is_worth_parallelizing is case.worth
    assert table.reason


def test_short_task_reason_names_the_threshold() -> None:
    table = overhead_table(4.0, ParallelConfig())
    assert "min_task_time_for_2_splits" in table.reason


def test_existing_worktrees_reduce_the_cap() -> None:
    table = overhead_table(240.0, ParallelConfig(max_worktrees=5), existing_worktrees=3)
    assert table.split_cap == 2
    assert "max_worktrees" in table.cap_reason


constants = st.fixed_dictionaries({
    "worktree_creation_time": st.floats(0, 300),
    "session_startup_time": st.floats(0, 300),
    "context_building_time": st.floats(0, 600),
    "merge_time_per_branch": st.floats(0, 300),
    "coordination_factor": st.floats(1, 3),
    "max_concurrent_sessions": st.integers(1, 20),
    "max_worktrees": st.integers(1, 20),
})


@given(minutes=st.floats(0.5, 1000), values=constants, repo_cap=st.integers(1, 10))
def test_properties_of_the_model(minutes: float, values: dict[str, float], repo_cap: int) -> None:
    config = ParallelConfig(**values)  # type: ignore[arg-type]
    table = overhead_table(minutes, config, repo_max_splits=repo_cap)
    for r in table.rows:
        assert r.total_minutes >= r.overhead_minutes
        assert r.total_minutes == pytest.approx(r.parallel_minutes + r.overhead_minutes)
    assert 1 <= table.optimal_splits <= min(10, config.max_concurrent_sessions,
                                            config.max_worktrees, repo_cap)
    if table.break_even_splits is not None:
        assert table.row(table.break_even_splits).total_minutes < minutes


@given(minutes=st.floats(1, 500), field=st.sampled_from(
    ["worktree_creation_time", "session_startup_time", "context_building_time",
     "merge_time_per_branch", "coordination_factor"]), bump=st.floats(0.01, 100))
def test_savings_never_grow_when_a_cost_grows(minutes: float, field: str, bump: float) -> None:
    base = ParallelConfig()
    dearer = dataclasses.replace(base, **{field: getattr(base, field) + bump})
    for cheap, costly in zip(overhead_table(minutes, base).rows,
                             overhead_table(minutes, dearer).rows, strict=True):
        assert costly.savings_pct <= cheap.savings_pct + 1e-9


def test_a_cap_of_one_is_named_as_the_reason() -> None:
    table = overhead_table(45.0, ParallelConfig(), repo_max_splits=1)
    assert not table.is_worth_parallelizing
    assert table.reason == ("splitting would pay from 2 splits, but the repo's structure "
                            "(max_splits=1) allows only 1")
