"""What the Claude planners say to the model: the system rules, the facts, the plan's schema.

Plain strings and dicts with no SDK import, so the prompt can be read and tested without
loading `anthropic`. The SDK planner, the Claude Code planner (`claude -p --json-schema`) and
`plan --context` (for `/parallel`, drafting in the session it runs in) all build from here, so
the model gets the same facts whichever way it is asked: the numbers a person sees in `plan`
(the overhead table, the optimum, break-even), the repo profile, the files the task most likely
touches with why, and the repo's conventions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.analysis.cochange import PastCommit, read_history
from engine.analysis.layout import area_of, covering_tests
from engine.analysis.localize import Ranked, index_for, query_terms, rank
from engine.analysis.similar import most_like
from engine.core.errors import GitError
from engine.core.models import Conventions, OverheadTable, Overlap, RepoProfile
from engine.core.numfmt import fixed
from engine.core.risk import SHARED_CONFIG
from engine.planning.overhead import MAX_ROWS
from engine.planning.port import PlanRequest

if TYPE_CHECKING:  # types only: importing anthropic costs about a second
    from anthropic.types import ToolChoiceToolParam, ToolParam

TOOL_NAME = "emit_plan"
MAX_LISTED_FILES = 150
"""A repo this small is listed whole; a bigger one gets the ranked candidates and its modules."""
MAX_CANDIDATES = 40
PAST_CHANGES = 5
"""The past commits most like the task that the model is shown, with their files."""
MAX_PAST_FILES = 10


@dataclass(frozen=True, slots=True)
class Briefing:
    """What the repo says about the task before any model reads it."""

    ranked: list[Ranked] = field(default_factory=list)
    """The files the task most likely touches, best first."""
    tests: dict[str, str] = field(default_factory=dict)
    """A ranked file → the test module that covers it, where one is obvious."""
    past: list[PastCommit] = field(default_factory=list)
    """The past commits whose subjects are most like the task, with the files they changed."""


def system_rules(answer: str = f"calling {TOOL_NAME}") -> str:
    """The splitting rules; `answer` is how the plan is given (calling `emit_plan` for the SDK
    planner, calling `StructuredOutput` for Claude Code's `--json-schema`, a plan file)."""
    return f"""\
You split one coding task into subtasks that separate AI coding agents do at the same time,
each in its own git worktree, merged back afterwards. Answer only by {answer}.
Rules:
1. No file in two subtasks: every path in files_to_modify or files_to_create belongs to
   exactly one subtask. A folder path (ending in /) claims every file inside it.
2. Dependencies are explicit: if a subtask needs another's work (a file it creates, an API
   it adds), list that subtask's name in depends_on. Prefer subtasks that need none.
3. Shared config files (package.json, pyproject.toml, lock files, Makefile, settings) are
   avoided, or owned by exactly one subtask.
4. Paths are relative to the repository root, use /, and never start with / or contain ..
5. Give {MAX_ROWS} subtasks at most; use the requested count unless the task has fewer
   independent parts. Names are short kebab-case slugs, unique within the plan.
6. estimated_minutes is the agent's working time for that subtask alone.
7. Every requirement of the task lands in some subtask's description (each agent also reads
   the whole task, but does only its own part); tests and docs go where the conventions say.
"""


SYSTEM = system_rules()


def plan_schema() -> dict[str, object]:
    """The plan's JSON schema: the forced tool's input, Claude Code's `--json-schema`, and what
    `plan --context` hands a session drafting the plan itself."""
    path_list: dict[str, object] = {"type": "array", "items": {"type": "string"}}
    subtask: dict[str, object] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "kebab-case slug, unique"},
            "description": {"type": "string", "description": "what the agent must do"},
            "files_to_modify": {**path_list, "description": "existing files or folders/"},
            "files_to_create": {**path_list, "description": "new files"},
            "depends_on": {**path_list, "description": "names of subtasks to finish first"},
            "estimated_minutes": {"type": "number", "minimum": 0},
        },
        "required": ["name", "description", "files_to_modify", "files_to_create", "depends_on",
                     "estimated_minutes"],
    }
    text: dict[str, object] = {"type": "string"}
    conventions: dict[str, object] = {
        "type": "object",
        "description": "where this repo keeps what a change touches besides its code, as the repo "
                       "shows it; empty when not found",
        "properties": {
            "tests": {**text, "description": "where and how tests live"},
            "docs": {**text, "description": "where docs live, in which format"},
            "changelog": {**text, "description": "how a change is recorded"},
            "test_command": {**text, "description": "the command that runs the tests"},
        },
    }
    return {
        "type": "object",
        "properties": {"subtasks": {"type": "array", "items": subtask, "minItems": 1,
                                    "maxItems": MAX_ROWS},
                       "conventions": conventions},
        "required": ["subtasks"],
    }


def tool_schema() -> ToolParam:
    """The forced tool: its input schema is the plan's shape."""
    return {
        "name": TOOL_NAME,
        "description": "Return the plan: the subtasks, each owning a disjoint set of files.",
        "input_schema": plan_schema(),
    }


def tool_choice() -> ToolChoiceToolParam:
    """Force the tool, so the answer is structured input rather than prose."""
    return {"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True}


def rank_candidates(request: PlanRequest) -> Briefing:
    """The files the task most likely touches, the test that covers each where one is obvious,
    and the past commits most like the task. Reads the repo's index and history (blocking): call
    it from a thread when a loop is running."""
    index = index_for(Path(request.repo.root), request.repo.head, request.files)
    ranked = rank(index, request.task, limit=MAX_CANDIDATES, within=request.files)
    test_files = [f for f in request.files if area_of(f) == "tests"]
    tests = {r.path: found[0] for r in ranked
             if area_of(r.path) != "tests" and (found := covering_tests(r.path, test_files))}
    return Briefing(ranked=ranked, tests=tests, past=past_changes(request))


def past_changes(request: PlanRequest) -> list[PastCommit]:
    """The repo's past commits most like the task: how a change like this one was made here
    (which tests, docs, templates went with the code), the files a task's words do not name."""
    root, head = Path(request.repo.root), request.repo.head
    if not head or not root.is_dir():
        return []
    try:
        history = read_history(root, head)
    except GitError:
        return []
    words = [(t.term, t.weight) for t in query_terms(request.task)]
    return [c for _, c in most_like(history.past, words, PAST_CHANGES)]


def user_prompt(request: PlanRequest, briefing: Briefing | None = None, *,
                answer: str = f"Call {TOOL_NAME}", explore: bool = False) -> str:
    """The task, the requested count, the overhead analysis, the repo profile, the files the
    task most likely touches (ranked by `engine.analysis.localize`) so the model names real
    paths, the past commits like it, and the conventions known so far. With `explore`, the model
    may read the repo first."""
    briefing = briefing or Briefing()
    sections = [
        f"Task:\n{request.task}",
        f"Requested number of subtasks: {request.splits}",
        "Overhead analysis:\n" + "\n".join(overhead_lines(request.overhead)),
        "Repository profile:\n" + "\n".join(profile_lines(request.repo)),
        "Files this task most likely touches, best first (path: why; names it defines; its test):\n"
        + "\n".join(candidate_lines(briefing.ranked, briefing.tests)),
        *(["Past commits in this repo most like the task (subject: the files it changed), most alike "
           "first; changes like this one touched these files here:\n" + "\n".join(past_lines(briefing.past))]
          if briefing.past else []),
        "Conventions found so far (confirm or fill them in `conventions`):\n"
        + "\n".join(convention_lines(request.conventions)),
    ]
    if len(request.files) <= MAX_LISTED_FILES:
        sections.append("All tracked files:\n" + "\n".join(request.files or ["(none)"]))
    sections += [
        f"Shared config file names to avoid or give to one subtask: {', '.join(sorted(SHARED_CONFIG))}",
        "files_to_modify must name files that exist (above); new files go in files_to_create, "
        "beside the related existing files and named like them.",
    ]
    if explore:
        sections.append("You are in the repository's root and may look before answering, with a few "
                        "Read, Grep and Glob calls: check the candidates, where tests and docs live, "
                        "and how the tests are run.")
    sections.append(f"{answer} with {request.splits} subtask(s).")
    return "\n\n".join(sections)


def convention_lines(found: Conventions) -> list[str]:
    rows = [("tests", found.tests), ("docs", found.docs), ("changelog", found.changelog),
            ("test command", found.test_command)]
    return [f"- {label}: {value or '(not found yet)'}" for label, value in rows]


def past_lines(past: Sequence[PastCommit]) -> list[str]:
    lines = []
    for c in past:
        more = f" (+{len(c.files) - MAX_PAST_FILES} more)" if len(c.files) > MAX_PAST_FILES else ""
        lines.append(f"- {c.subject}: {', '.join(c.files[:MAX_PAST_FILES])}{more}")
    return lines


def candidate_lines(candidates: Sequence[Ranked], tests: Mapping[str, str]) -> list[str]:
    lines = []
    for c in candidates[:MAX_CANDIDATES]:
        extra = [c.reason()]
        if c.symbols:
            extra.append(f"defines {', '.join(c.symbols)}")
        if c.path in tests:
            extra.append(f"tested by {tests[c.path]}")
        lines.append(f"- {c.path}: {'; '.join(extra)}")
    return lines or ["(no file matches the task's words: see the modules above)"]


def overhead_lines(table: OverheadTable) -> list[str]:
    lines = ["splits | parallel min | overhead min | total min | savings %"]
    lines += [f"{r.splits} | {fixed(r.parallel_minutes)} | {fixed(r.overhead_minutes)} | "
              f"{fixed(r.total_minutes)} | {fixed(r.savings_pct, 0)}" for r in table.rows]
    lines += [f"sequential estimate: {table.sequential_minutes:g} min",
              f"optimal split count: {table.optimal_splits}",
              f"break-even split count: {table.break_even_splits or 'none'}",
              f"split cap: {table.split_cap} ({table.cap_reason})",
              f"worth parallelising: {'yes' if table.is_worth_parallelizing else 'no'} "
              f"({table.reason})"]
    return lines


def profile_lines(profile: RepoProfile) -> list[str]:
    lines = [f"files: {profile.files}, lines of code: {profile.loc}, "
             f"complexity: {profile.complexity_score}",
             "languages: " + (", ".join(f"{g.name} ({g.files} files)" for g in profile.languages)
                              or "none detected"),
             "modules (path, files, LOC):"]
    lines += [f"- {m.path}/ {m.files} {m.loc}" for m in profile.modules[:40]]
    churn = profile.churn
    lines.append(f"recent churn ({churn.days} days): {churn.commits} commits over {churn.files} files")
    if churn.hot_files:
        lines.append("hot files (often changed, conflict-prone): "
                     + ", ".join(f"{h.path} ({h.commits} commits)" for h in churn.hot_files[:15]))
    return lines


def repair_prompt(overlaps: Sequence[Overlap] = (), unknown: Mapping[str, Sequence[str]] | None = None,
                  incomplete: str | None = None) -> str:
    """The second turn: every shared file and who claimed it, every file to modify that does
    not exist, or what an incomplete answer lacks."""
    parts = []
    if incomplete:
        parts.append(f"The plan is incomplete: {incomplete}. Every subtask needs a description of "
                     "its work and at least one path in files_to_modify or files_to_create.")
    if overlaps:
        named = "\n".join(f"- {o.file}: claimed by {', '.join(o.subtasks)}" for o in overlaps)
        parts.append(f"The plan gives these files to more than one subtask:\n{named}\n"
                     f"Call {TOOL_NAME} again with every file owned by exactly one subtask: move the file "
                     "to one of them, or merge those subtasks, and add depends_on where one needs "
                     "the other's work.")
    if unknown:
        named = "\n".join(f"- {p} ({name})" for name, paths in unknown.items() for p in paths)
        parts.append(f"These files_to_modify do not exist in the repository:\n{named}\n"
                     "Name the existing file meant (see the candidates), or move a new file to "
                     "files_to_create.")
    parts.append(f"Call {TOOL_NAME} again with the whole corrected plan.")
    return "\n\n".join(parts)
