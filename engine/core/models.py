"""Records that cross module lines: repo profile, overhead table, plan, validation.

Frozen, slotted, keyword-only dataclasses, so the CLI's `--json`, the TUI and the journal
all read the same immutable values; `engine.core.jsonio.to_jsonable` turns any of them into
the JSON the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from engine.core.states import SessionState

__all__ = ["SessionState"]  # re-exported: its home is `engine.core.states`, light for `status`

Scope = Literal["small", "medium", "large"]


class ConflictRisk(StrEnum):
    """The spec's three levels: LOW parallelises safely, HIGH must not parallelise."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


@dataclass(frozen=True, slots=True, kw_only=True)
class RepoModule:
    path: str
    files: int
    loc: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguageStat:
    name: str
    files: int
    loc: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HotFile:
    path: str
    commits: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Churn:
    days: int
    commits: int
    files: int
    """Distinct tracked paths touched by those commits."""
    hot_files: tuple[HotFile, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WorktreeInfo:
    path: str
    branch: str
    head: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RepoProfile:
    """What `analyze` learns about a repo; cached by HEAD commit."""

    root: str
    head: str
    files: int
    loc: int
    modules: tuple[RepoModule, ...]
    languages: tuple[LanguageStat, ...]
    churn: Churn
    worktrees: tuple[WorktreeInfo, ...]
    complexity_score: float
    max_splits: int
    max_splits_reason: str
    analysis_seconds: float = 0.0
    cached: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OverheadRow:
    splits: int
    parallel_minutes: float
    overhead_minutes: float
    total_minutes: float
    savings_pct: float


@dataclass(frozen=True, slots=True, kw_only=True)
class OverheadTable:
    """The break-even model for one sequential estimate, rows for N = 1..10."""

    sequential_minutes: float
    rows: tuple[OverheadRow, ...]
    optimal_splits: int
    break_even_splits: int | None
    """Smallest N ≥ 2 whose total beats sequential; None when none does."""
    is_worth_parallelizing: bool
    reason: str
    split_cap: int
    """The most splits the limits allow (sessions, worktrees, repo structure)."""
    cap_reason: str

    def row(self, splits: int) -> OverheadRow:
        return self.rows[splits - 1]


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    scope: Scope
    sequential_minutes: float
    source: Literal["scope", "flag", "subtasks"]
    """`flag` when --minutes (or a plan file's estimate) set it; `scope` when derived from scope
    and the repo's complexity; `subtasks` when summed from a plan file's subtask minutes."""
    base_minutes: float
    complexity_factor: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentMatch:
    name: str
    skill: str
    confidence: float
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FileReason:
    """Why a planner named a file: its place in the task's ranking and the words it matched."""

    path: str
    rank: int | None
    """1 = the file the task is most likely about; None for a new file or a covering test."""
    terms: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Subtask:
    name: str
    description: str
    files_to_modify: tuple[str, ...] = ()
    files_to_create: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    estimated_minutes: float = 0.0
    agent: AgentMatch | None = None
    file_reasons: tuple[FileReason, ...] = ()
    """Optional (plan files need not carry it): set by planners that rank the repo's files."""

    def files(self) -> tuple[str, ...]:
        return self.files_to_modify + self.files_to_create


@dataclass(frozen=True, slots=True, kw_only=True)
class Overlap:
    file: str
    subtasks: tuple[str, ...]
    via: tuple[str, ...] = ()
    """Other planned names that reach `file`: a symlinked spelling, or a folder holding it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    parallelize: bool
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Validation:
    overlaps: tuple[Overlap, ...]
    conflict_risk: ConflictRisk
    risk_reasons: tuple[str, ...]
    problems: tuple[str, ...]
    """Anything that blocks running the plan as it stands."""
    warnings: tuple[str, ...]
    order: tuple[tuple[str, ...], ...]
    """Dependency waves: every subtask of a wave may start once the earlier waves are done."""
    resources_ok: bool
    verdict: Verdict


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecklistItem:
    item: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannerUsage:
    input_tokens: int
    output_tokens: int
    request_ids: tuple[str, ...]
    requests: int
    cost_usd: float | None = None
    """What the planner reported it cost (Claude Code does; the SDK planner does not)."""
    cost_notional: bool = False
    """True when that cost is not billed: Claude Code on a subscription login prices the tokens
    anyway."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelConstant:
    """One overhead-model constant in force, and whether it was measured or is the seed."""

    name: str
    value: float
    source: str
    """`measured` (median of `runs` runs of this repo and agent) or `seed` (spec default or config)."""
    runs: int
    median: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WavesEstimate:
    """A plan with dependencies runs in waves: its time is the critical path (the longest chain
    of subtask minutes), not max(minutes) as for independent subtasks. Shown beside the spec's
    table, labelled "with waves" (`engine.planning.overhead.waves_estimate`)."""

    critical_path: tuple[str, ...]
    critical_minutes: float
    """Work along the path: the subtasks' minutes, scaled to the sequential estimate."""
    parallel_minutes: float
    """critical_minutes × coordination_factor."""
    overhead_minutes: float
    total_minutes: float
    savings_pct: float
    splits: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Conventions:
    """Where this repo keeps what a change touches besides its code, as the repo shows it (never a
    template): the planners put tests, docs and changelog entries there, and every agent's prompt
    repeats it so parallel sessions follow one set of rules. An empty field means none was found."""

    tests: str = ""
    """Where and how tests live, e.g. `tests/test_<module>.py (pytest)` or `<name>_test.go` beside it."""
    docs: str = ""
    """Where docs live and in which format, e.g. `docs/*.rst` or `the module's own docstring`."""
    changelog: str = ""
    """How a change is recorded, e.g. `a towncrier fragment in changelog.d/` or `CHANGELOG.md`."""
    test_command: str = ""
    """How to run the tests, when the repo says (config, Makefile, CI)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Everything `plan --json` prints; `run` takes it back as input."""

    task: str
    repo: RepoProfile
    estimate: Estimate
    overhead: OverheadTable
    subtasks: tuple[Subtask, ...]
    validation: Validation
    checklist: tuple[ChecklistItem, ...]
    assignments: dict[str, tuple[str, ...]]
    planner: str
    fallback_reason: str | None = None
    planner_reason: str = ""
    """Why that planner: `auto` resolved, a key set, Claude Code logged in, or chosen by name."""
    planner_usage: PlannerUsage | None = None
    planner_notes: tuple[str, ...] = field(default_factory=tuple)
    model: tuple[ModelConstant, ...] = ()
    """The overhead model's constants this plan used, each measured or seed."""
    waves: WavesEstimate | None = None
    """The "with waves" estimate when some subtask depends on another (None otherwise)."""
    conventions: Conventions = field(default_factory=Conventions)
    """Where the repo keeps tests, docs and changelog entries (found by the planner)."""
