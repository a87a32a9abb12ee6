"""The checklist does not fail its own plan, nor claim what is not set up: a re-split to N on
purpose passes "optimal splits", and a merge is called verified only with a verify command."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.planning.pipeline import PlanOptions
from engine.service import build_engine

TASK = "Implement user authentication with frontend and backend"


def item(plan: object, start: str) -> tuple[bool, str]:
    found = next(c for c in plan.checklist if c.item.startswith(start))  # type: ignore[attr-defined]
    return found.ok, found.detail


async def test_a_resplit_on_purpose_passes_and_says_so(web_repo: Path) -> None:
    engine = build_engine(web_repo, planner="offline", agent="demo")
    optimal = (await engine.plan(TASK, PlanOptions())).overhead.optimal_splits
    other = 2 if optimal != 2 else 3
    plan = await engine.plan(TASK, PlanOptions(splits=other))
    assert len(plan.subtasks) == other
    ok, detail = item(plan, "Optimal splits")
    assert ok, detail
    assert detail.endswith(f"the plan has {other}: re-split to {other} on purpose"), detail
    checked = await engine.validate(plan.subtasks[:1], task=TASK, agent="demo")
    ok, detail = item(checked, "Optimal splits")
    assert ok and "the subtasks as approved and edited" in detail, detail


async def test_merge_is_verified_only_with_a_verify_command(web_repo: Path) -> None:
    engine = build_engine(web_repo, planner="offline", agent="demo")
    ok, detail = item(await engine.plan(TASK, PlanOptions()), "Merge strategy")
    assert ok and "verified" not in detail.replace("no verify", ""), detail
    assert "no verify command" in detail
    engine.config = dataclasses.replace(engine.config, test_command="make test")
    ok, detail = item(await engine.plan(TASK, PlanOptions()), "Merge strategy")
    assert "verified by `make test`" in detail, detail
