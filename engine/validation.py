"""Plan validation: disjoint files, safe paths, dependency order, risk, resources, verdict.

Every planner's draft and every hand-edited plan file goes through `validate`, so the rule
"no two subtasks touch the same file" holds however the plan was made. Problems block a
run; warnings inform. The verdict applies the spec's "should not parallelise" rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from engine.cochange import history_reasons
from engine.config import ParallelConfig
from engine.models import ConflictRisk, OverheadTable, Overlap, Subtask, Validation, Verdict

SHARED_CONFIG = frozenset({
    "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "pyproject.toml",
    "poetry.lock", "uv.lock", "requirements.txt", "setup.py", "setup.cfg", "cargo.toml",
    "cargo.lock", "go.mod", "go.sum", "gemfile", "gemfile.lock", "tsconfig.json",
    "makefile", "dockerfile", "docker-compose.yml", ".env", "settings.py", "config.py",
})
UTILITY_DIRS = frozenset({"utils", "util", "common", "shared", "helpers", "core", "lib"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Resources:
    existing_worktrees: int
    tmux_available: bool


def unsafe_path(path: str) -> str | None:
    """Why a planned path may not be used, or None when it stays inside the repo."""
    if not path or "\0" in path:
        return "empty or NUL in path"
    if PurePosixPath(path) == PurePosixPath("."):
        return "names the whole repository"
    pure = PurePosixPath(path)
    if pure.is_absolute() or path.startswith("~") or (len(path) > 1 and path[1] == ":"):
        return "absolute path"
    if ".." in pure.parts:
        return "leaves the repository (..)"
    if pure.parts and pure.parts[0] == ".git":
        return "inside .git"
    return None


def find_overlaps(subtasks: Sequence[Subtask], known_dirs: Iterable[str] = ()) -> tuple[Overlap, ...]:
    """Files claimed by two subtasks: the same path (`x` and `x/` alike), or a path inside a
    folder another subtask owns (named with a trailing `/`, or a folder of the repo)."""
    folders = {_norm(d) for d in known_dirs}
    owners: dict[str, list[str]] = defaultdict(list)
    for sub in subtasks:
        for raw in sub.files():
            path = _norm(raw)
            if raw.endswith("/"):
                folders.add(path)
            if sub.name not in owners[path]:
                owners[path].append(sub.name)
    for path in list(owners):
        for folder in _parents(path) & folders:
            owners[path] += [o for o in owners.get(folder, []) if o not in owners[path]]
    order = {sub.name: i for i, sub in reversed(list(enumerate(subtasks)))}
    return tuple(Overlap(file=p + ("/" if p in folders else ""),
                         subtasks=tuple(sorted(n, key=order.__getitem__)))
                 for p, n in sorted(owners.items()) if len(n) > 1)


def _norm(path: str) -> str:
    """One spelling per path: no `./`, no trailing `/`."""
    clean = str(PurePosixPath(path.removeprefix("./")))
    return "" if clean == "." else clean


def _parents(path: str) -> set[str]:
    return {str(p) for p in PurePosixPath(path).parents if str(p) != "."}


def implied_dependencies(subtasks: Sequence[Subtask]) -> dict[str, set[str]]:
    """Explicit depends_on plus "B's description names a file A creates" → B after A."""
    deps = {s.name: set(s.depends_on) for s in subtasks}
    for creator in subtasks:
        for new_file in creator.files_to_create:
            for user in subtasks:
                if user.name != creator.name and new_file in user.description:
                    deps[user.name].add(creator.name)
    return deps


def dependency_waves(deps: dict[str, set[str]]) -> tuple[tuple[tuple[str, ...], ...], list[str]]:
    """Kahn's algorithm in waves; returns (waves, problems) and names any cycle."""
    problems = [f"{name} depends on unknown subtask {d!r}"
                for name, ds in deps.items() for d in sorted(ds) if d not in deps]
    remaining = {n: {d for d in ds if d in deps} for n, ds in deps.items()}
    waves: list[tuple[str, ...]] = []
    while remaining:
        ready = tuple(sorted(n for n, ds in remaining.items() if not ds))
        if not ready:
            problems.append(f"dependency cycle among {', '.join(sorted(remaining))}")
            break
        waves.append(ready)
        remaining = {n: ds - set(ready) for n, ds in remaining.items() if n not in ready}
    return tuple(waves), problems


def conflict_risk(subtasks: Sequence[Subtask], overlaps: Sequence[Overlap],
                  savings_pct: float) -> tuple[ConflictRisk, tuple[str, ...]]:
    """The spec's LOW / MEDIUM / HIGH, with the reasons that set it."""
    if overlaps:
        return ConflictRisk.HIGH, tuple(
            f"{o.file} is modified by {' and '.join(o.subtasks)}" for o in overlaps)
    reasons = []
    for sub in subtasks:
        for path in sub.files():
            parts = PurePosixPath(path.lower()).parts
            if parts and parts[-1] in SHARED_CONFIG:
                reasons.append(f"{sub.name} touches shared config {path}")
            elif set(parts[:-1]) & UTILITY_DIRS:
                reasons.append(f"{sub.name} touches common utility code {path}")
    test_dirs = defaultdict(set)
    for sub in subtasks:
        for path in sub.files():
            if "tests" in path or "test" in PurePosixPath(path).parts:
                test_dirs[str(PurePosixPath(path).parent)].add(sub.name)
    reasons += [f"related test files in {d}/ are touched by {', '.join(sorted(n))}"
                for d, n in sorted(test_dirs.items()) if len(n) > 1]
    reasons += history_reasons(subtasks)  # files that change together, or often (engine.cochange)
    if 15 <= savings_pct <= 30:
        reasons.append(f"efficiency gain {savings_pct:.0f}% is only 15-30%")
    return (ConflictRisk.MEDIUM if reasons else ConflictRisk.LOW), tuple(reasons)


def resource_problems(count: int, config: ParallelConfig, res: Resources) -> list[str]:
    problems = []
    if count > config.max_concurrent_sessions:
        problems.append(f"{count} subtasks exceed max_concurrent_sessions="
                        f"{config.max_concurrent_sessions}")
    if count + res.existing_worktrees > config.max_worktrees:
        problems.append(f"{count} new worktrees + {res.existing_worktrees} existing exceed "
                        f"max_worktrees={config.max_worktrees}")
    if not res.tmux_available:
        problems.append("tmux is not installed (sessions run in tmux): apt-get install tmux")
    return problems


def validate(subtasks: Sequence[Subtask], table: OverheadTable, config: ParallelConfig,
             resources: Resources, known_dirs: Iterable[str] = ()) -> Validation:
    """Check a draft against every rule; never raises, always says what is wrong."""
    problems = [f"subtask {n!r} appears twice" for n in _duplicates(s.name for s in subtasks)]
    problems += [f"{s.name}: {p} ({why})" for s in subtasks for p in s.files()
                 if (why := unsafe_path(p))]
    overlaps = find_overlaps(subtasks, known_dirs)
    problems += [f"{o.file} is claimed by {', '.join(o.subtasks)}" for o in overlaps]
    deps = implied_dependencies(subtasks)
    waves, dep_problems = dependency_waves(deps)
    problems += dep_problems
    warnings = [f"{n} must wait for {', '.join(sorted(ds - set(s.depends_on)))} (uses its new file)"
                for s in subtasks for n, ds in [(s.name, deps[s.name])] if ds - set(s.depends_on)]
    resource = resource_problems(len(subtasks), config, resources)
    problems += resource
    n = max(1, min(len(subtasks), len(table.rows)))
    risk, reasons = conflict_risk(subtasks, overlaps, table.row(n).savings_pct)
    verdict = decide(subtasks, table, risk, waves, dep_problems, config.min_efficiency_gain_pct)
    return Validation(overlaps=overlaps, conflict_risk=risk, risk_reasons=reasons,
                      problems=tuple(problems), warnings=tuple(warnings), order=waves,
                      resources_ok=not resource, verdict=verdict)


def decide(subtasks: Sequence[Subtask], table: OverheadTable, risk: ConflictRisk,
           waves: Sequence[Sequence[str]], dep_problems: Sequence[str],
           min_gain_pct: float) -> Verdict:
    """The spec's "should NOT parallelise" rules, first match wins."""
    count = len(subtasks)
    row = table.row(max(1, min(count, len(table.rows))))
    if not table.is_worth_parallelizing:
        return Verdict(parallelize=False, reason=table.reason)
    if count < 2:
        return Verdict(parallelize=False, reason="one subtask: nothing to run in parallel")
    if risk is ConflictRisk.HIGH:
        return Verdict(parallelize=False, reason="subtasks modify the same files (conflict risk HIGH)")
    if dep_problems:
        return Verdict(parallelize=False, reason=dep_problems[0])
    if waves and max(len(w) for w in waves) < 2:
        return Verdict(parallelize=False,
                       reason="sequential dependencies: each subtask waits for the previous one")
    if row.savings_pct < min_gain_pct:
        return Verdict(parallelize=False, reason=f"efficiency gain {row.savings_pct:.0f}% with "
                       f"{count} splits is under {min_gain_pct:g}%")
    return Verdict(parallelize=True, reason=f"{row.savings_pct:.0f}% faster with {count} parallel "
                   f"sessions; conflict risk {risk.value}")


def _duplicates(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dup = []
    for name in names:
        if name in seen:
            dup.append(name)
        seen.add(name)
    return dup


def tracked_dirs(files: Iterable[str]) -> set[str]:
    """Every folder that holds a tracked file, with a trailing slash."""
    out: set[str] = set()
    for name in files:
        for parent in PurePosixPath(name).parents:
            if str(parent) == ".":
                break
            text = f"{parent}/"
            if text in out:
                break
            out.add(text)
    return out
