"""Subtask → specialist agent and skill, with a confidence and a one-line why.

The spec's two matrices are data: task-description patterns and file-path patterns. Both
kinds of evidence are counted per agent; agreement raises confidence, and rules from
config (`[[agent_rules]]`) join the description matrix ahead of the built-in rows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from engine.core.config import AgentRule
from engine.core.models import AgentMatch, Subtask


@dataclass(frozen=True, slots=True, kw_only=True)
class _Row:
    pattern: re.Pattern[str]
    agent: str
    skill: str
    confidence: float
    why: str


def _stems(alternation: str) -> re.Pattern[str]:
    """Word-start match for stems (`auth` → authentication); short tokens must be whole words."""
    parts = [rf"\b{re.escape(t)}" if len(t) > 3 else rf"\b{re.escape(t)}s?\b"
             for t in alternation.split("|")]
    return re.compile("|".join(parts), re.IGNORECASE)


TASK_MATRIX: tuple[tuple[str, str, str, str], ...] = (
    ("auth|login|jwt|oauth", "security-engineer", "/sc:implement --focus security",
     "Security-sensitive authentication code"),
    ("api|endpoint|rest|graphql", "backend-architect", "/sc:implement", "API and server-side logic"),
    ("component|ui|frontend|react", "frontend-architect", "/ui:design",
     "Frontend UI components and styling"),
    ("test|spec|coverage|mock", "quality-engineer", "/sc:test", "Test implementation and coverage"),
    ("refactor|cleanup|debt", "refactoring-expert", "/sc:improve", "Restructuring existing code"),
    ("bug|fix|error|debug", "root-cause-analyst", "/sc:troubleshoot", "Finding and fixing a fault"),
    ("doc|readme|comment", "technical-writer", "/sc:document", "Documentation work"),
    ("perf|optim|cache", "performance-engineer", "/sc:analyze --focus performance",
     "Performance-sensitive code"),
    ("deploy|docker|ci|cd", "devops-architect", "/sc:build", "Build and deployment"),
    ("architect|design|structure", "system-architect", "/sc:design", "System structure"),
)
"""The spec's Agent Matching Matrix: pattern, agent, skill, why (80% each)."""

FILE_MATRIX: tuple[tuple[str, str, str], ...] = (
    (r"(^|/)tests?/|\.test\.|\.spec\.|(^|/)test_[^/]*$|_test\.go$", "quality-engineer", "/sc:test"),
    (r"(^|/)docs/|\.md$", "technical-writer", "/sc:document"),
    (r"(^|/)(components|pages|ui)/", "frontend-architect", "/ui:design"),
    (r"(^|/)(api|routes|controllers)/", "backend-architect", "/sc:implement"),
    (r"(^|/)(auth|security)/", "security-engineer", "/sc:implement --focus security"),
)
"""The spec's File Path Matching table."""

DEFAULT = AgentMatch(name="general-purpose", skill="/sc:implement", confidence=0.5,
                     why="No specialist pattern in the description or the file paths")


def task_rows(extra: Sequence[AgentRule] = ()) -> tuple[_Row, ...]:
    custom = tuple(_Row(pattern=_stems(r.pattern), agent=r.agent, skill=r.skill,
                        confidence=r.confidence, why=r.why or f"Matches {r.pattern}") for r in extra)
    return custom + tuple(_Row(pattern=_stems(p), agent=a, skill=s, confidence=0.8, why=w)
                          for p, a, s, w in TASK_MATRIX)


_FILE_ROWS = tuple((re.compile(p, re.IGNORECASE), a, s) for p, a, s in FILE_MATRIX)


def _alternative(row: _Row, word: str) -> str:
    """The matrix stem a word matched ("authentication" → "auth"): evidence counts stems."""
    lowered = word.lower()
    stems = [p.split(r"\b")[1].removesuffix("s?").replace("\\", "") for p in row.pattern.pattern.split("|")]
    return next((s for s in stems if lowered.startswith(s)), lowered)


def match(subtask: Subtask, rows: Sequence[_Row]) -> AgentMatch:
    """Description evidence decides (the spec's 80%); file paths break ties and confirm.

    Evidence is counted in distinct stems, so a subject repeated in every subtask
    ("authentication") does not outvote the word that sets this subtask apart.
    """
    text = f"{subtask.name.replace('-', ' ')} {subtask.description}"
    words: dict[str, list[str]] = defaultdict(list)
    first: dict[str, _Row] = {}
    for row in rows:
        found = [_alternative(row, m.group(0)) for m in row.pattern.finditer(text)]
        if found:
            words[row.agent].extend(found)
            first.setdefault(row.agent, row)
    files: dict[str, list[str]] = defaultdict(list)
    skills: dict[str, str] = {}
    for path in subtask.files():
        for pattern, agent, skill in _FILE_ROWS:
            if pattern.search(path):
                files[agent].append(path)
                skills.setdefault(agent, skill)
    return _combine(words, first, files, skills)


def _combine(words: dict[str, list[str]], first: dict[str, _Row], files: dict[str, list[str]],
             skills: dict[str, str]) -> AgentMatch:
    agents = set(words) | set(files)
    if not agents:
        return DEFAULT
    order = list(first)  # matrix order breaks ties, as the spec lists rows by priority
    best = max(agents, key=lambda a: (len(set(words[a])), len(files[a]),
                                      -order.index(a) if a in order else -99))
    if best in first:
        row = first[best]
        confidence = row.confidence + (0.1 if files[best] else 0.0)
        why = f"{row.why}: description says {', '.join(dict.fromkeys(words[best]))}"
        if files[best]:
            why += f"; {len(files[best])} file(s) like {files[best][0]}"
        return AgentMatch(name=best, skill=row.skill, confidence=min(0.95, confidence), why=why)
    return AgentMatch(name=best, skill=skills[best], confidence=0.7,
                      why=f"File paths: {len(files[best])} file(s) like {files[best][0]}")


def assignment_summary(subtasks: Sequence[Subtask]) -> dict[str, tuple[str, ...]]:
    """Agent → the subtasks it takes, in plan order (the spec's AGENT ASSIGNMENT SUMMARY)."""
    summary: dict[str, list[str]] = defaultdict(list)
    for sub in subtasks:
        summary[sub.agent.name if sub.agent else DEFAULT.name].append(sub.name)
    return {agent: tuple(names) for agent, names in summary.items()}
