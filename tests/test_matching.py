"""Agent matching: the spec's matrices, evidence combined, config rules, summary."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from engine.core.config import AgentRule
from engine.core.models import Subtask
from engine.planning.matching import assignment_summary, match, task_rows


class MatchCase(NamedTuple):
    test_id: str
    description: str
    files: tuple[str, ...]
    agent: str
    skill: str


CASES = [
    MatchCase("jwt-is-security", "Implement JWT authentication middleware",
              ("api/auth.py", "middleware/jwt.py"), "security-engineer", "/sc:implement --focus security"),
    MatchCase("login-ui-is-frontend", "Create login/logout UI components",
              ("components/Login.tsx",), "frontend-architect", "/ui:design"),
    MatchCase("tests-are-quality", "Write unit and integration tests", ("tests/auth.test.py",),
              "quality-engineer", "/sc:test"),
    MatchCase("rest-endpoint", "Add a REST endpoint for invoices", ("billing/views.py",),
              "backend-architect", "/sc:implement"),
    MatchCase("refactor", "Refactor and clean up legacy debt", (), "refactoring-expert", "/sc:improve"),
    MatchCase("bugfix", "Fix the crash on empty input", (), "root-cause-analyst", "/sc:troubleshoot"),
    MatchCase("docs", "Update the README", ("README.md",), "technical-writer", "/sc:document"),
    MatchCase("perf", "Optimize query caching", (), "performance-engineer",
              "/sc:analyze --focus performance"),
    MatchCase("deploy", "Deploy with Docker", ("Dockerfile",), "devops-architect", "/sc:build"),
    MatchCase("design", "Design the plugin structure", (), "system-architect", "/sc:design"),
    MatchCase("files-only", "Do the thing", ("routes/a.py", "routes/b.py"), "backend-architect",
              "/sc:implement"),
    MatchCase("nothing", "Do the thing", ("x.txt",), "general-purpose", "/sc:implement"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_matrix(case: MatchCase) -> None:
    m = match(Subtask(name="t", description=case.description, files_to_modify=case.files), task_rows())
    assert (m.name, m.skill) == (case.agent, case.skill)
    assert m.why


def test_short_tokens_need_whole_words() -> None:
    # "decide" contains "cd" and "circuit" starts with "ci": neither means devops
    m = match(Subtask(name="t", description="decide the circuit layout"), task_rows())
    assert m.name != "devops-architect"


def test_files_that_agree_raise_confidence() -> None:
    alone = match(Subtask(name="t", description="Write tests"), task_rows())
    agreed = match(Subtask(name="t", description="Write tests", files_to_create=("tests/test_a.py",)),
                   task_rows())
    assert agreed.confidence > alone.confidence == pytest.approx(0.8)
    assert match(Subtask(name="t", description="x", files_to_create=("tests/a.py",)),
                 task_rows()).confidence == pytest.approx(0.7)


def test_config_rules_come_first() -> None:
    rule = AgentRule(pattern="billing|invoice", agent="payments-expert", skill="/pay", confidence=0.9)
    m = match(Subtask(name="t", description="Add invoice export endpoint"), task_rows([rule]))
    assert (m.name, m.skill, m.confidence) == ("payments-expert", "/pay", 0.9)


def test_assignment_summary_groups_by_agent() -> None:
    rows = task_rows()
    subs = [Subtask(name=n, description=d) for n, d in
            [("a", "Write tests"), ("b", "Dashboard UI"), ("c", "More tests")]]
    subs = [Subtask(name=s.name, description=s.description, agent=match(s, rows)) for s in subs]
    assert assignment_summary(subs) == {"quality-engineer": ("a", "c"), "frontend-architect": ("b",)}
