"""The offline planner's drafts are disjoint and inside the repo for any task and tree."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.analysis.profile import find_modules, languages
from engine.core.config import ParallelConfig
from engine.core.models import Churn, RepoProfile
from engine.planning.estimate import estimate
from engine.planning.offline import OfflinePlanner
from engine.planning.overhead import overhead_table
from engine.planning.port import PlanRequest
from engine.planning.validation import find_overlaps, tracked_dirs, unsafe_path

segment = st.sampled_from(["api", "auth", "src", "components", "tests", "docs", "billing", "ui",
                           "core", "utils", "web", "server", "lib", "pages"])
leaf = st.sampled_from(["auth.py", "login.tsx", "index.ts", "test_auth.py", "README.md", "x.go",
                        "billing.py", "a.py", "styles.css", "routes.py"])
paths = st.lists(st.builds(lambda d, f: "/".join([*d, f]), st.lists(segment, max_size=3), leaf),
                 min_size=1, max_size=60, unique=True)
words = st.sampled_from(["auth", "billing", "login page", "password reset", "search",
                         "notifications", "logging", "payments", "profile"])
tasks = st.builds(
    lambda verb, parts, tail: f"{verb} {' and '.join(parts)}{tail}",
    st.sampled_from(["Implement", "Refactor", "Add", "Fix", "Document", "Build"]),
    st.lists(words, min_size=1, max_size=4, unique=True),
    st.sampled_from(["", " with frontend and backend", " with tests", " with api, ui and docs"]),
)
clause_tasks = st.builds(  # "move sessions to Redis, rate-limit the login endpoint, with tests, and do not …"
    lambda clauses, tail: ", ".join(f"{verb} {what}" for verb, what in clauses) + tail,
    st.lists(st.tuples(st.sampled_from(["move", "hash", "rate-limit", "add", "fix", "protect"]), words),
             min_size=2, max_size=5),
    st.sampled_from(["", ", with tests and docs", ", and do not break the public API"]),
)


def profile_of(files: list[str]) -> RepoProfile:
    return RepoProfile(root="/r", head="0" * 40, files=len(files), loc=0,
                       modules=find_modules(files, {}, 2), languages=languages(files, {}),
                       churn=Churn(days=30, commits=1, files=0), worktrees=(), complexity_score=0.5,
                       max_splits=10, max_splits_reason="")


@settings(max_examples=150, deadline=None)
@given(files=paths, task=st.one_of(tasks, clause_tasks), splits=st.integers(1, 10))
def test_drafts_are_disjoint_and_safe(files: list[str], task: str, splits: int) -> None:
    config = ParallelConfig()
    est = estimate(task, 0.5, minutes=60)
    request = PlanRequest(task=task, repo=profile_of(files), files=tuple(files), splits=splits,
                          overhead=overhead_table(60, config), estimate=est, config=config)
    draft = asyncio.run(OfflinePlanner().draft(request))
    assert 1 <= len(draft.subtasks) <= splits
    assert find_overlaps(draft.subtasks, tracked_dirs(files)) == ()
    assert len({s.name for s in draft.subtasks}) == len(draft.subtasks)
    for sub in draft.subtasks:
        assert all(unsafe_path(p) is None for p in sub.files())
        assert all(p not in files for p in sub.files_to_create)
