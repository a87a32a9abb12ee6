"""Plan validation: disjoint files, safe paths, dependency order, risk, resources, verdict.

Every planner's draft and every hand-edited plan file goes through `validate`, so the rule
"no two subtasks touch the same file" holds however the plan was made. Problems block a
run; warnings inform. The verdict applies the spec's "should not parallelise" rules.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

from engine.analysis.cochange import history_reasons
from engine.analysis.tree import RepoTree, folders_of, path_escape, real_name
from engine.core.config import ParallelConfig
from engine.core.errors import ConflictError, EngineError, PlanError
from engine.core.models import (
    OverheadTable,
    Overlap,
    Subtask,
    Validation,
    Verdict,
    WavesEstimate,
)
from engine.core.ownership import normalize, parents
from engine.core.risk import SHARED_CONFIG, ConflictRisk
from engine.core.sandbox import plan_sandbox, widening
from engine.planning import shape
from engine.planning.overhead import waves_estimate

UTILITY_DIRS = frozenset({"utils", "util", "common", "shared", "helpers", "core", "lib"})
TEXT_ONLY = RepoTree()


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
    if any(part.lower() == ".git" for part in pure.parts):
        return "inside a .git folder (git's own files, hooks included)"
    return None


def find_overlaps(subtasks: Sequence[Subtask], known_dirs: Iterable[str] = (),
                  real: Callable[[str], str] | None = None) -> tuple[Overlap, ...]:
    """Files claimed by two subtasks: the same path (`x` and `x/` alike), one file under two
    names (`real` maps a path to the file it reaches through symlinks), or a path inside
    another planned path: a folder another subtask owns, or a name another subtask creates
    as a file while this one wants a folder there (`file` vs `file/x.py`)."""
    folders = {_norm(d) for d in known_dirs}
    owners: dict[str, list[str]] = defaultdict(list)
    via: dict[str, set[str]] = defaultdict(set)
    for sub in subtasks:
        for raw in sub.files():
            spelled = _norm(raw)
            path = real(spelled) if real is not None and unsafe_path(raw) is None else spelled
            via[path] |= {spelled} - {path}
            if raw.endswith("/"):
                folders.add(path)
            _join(owners[path], [sub.name])
    planned = set(owners)
    for path in list(owners):
        for parent in sorted(_parents(path) & planned):
            if _join(owners[path], owners[parent]):
                via[path].add(parent + "/")
    order = {sub.name: i for i, sub in reversed(list(enumerate(subtasks)))}
    return tuple(Overlap(file=p + ("/" if p in folders else ""),
                         subtasks=tuple(sorted(n, key=order.__getitem__)), via=tuple(sorted(via[p])))
                 for p, n in sorted(owners.items()) if len(n) > 1)


def _join(names: list[str], more: Iterable[str]) -> bool:
    """Add the names not yet in `names`; whether any was new."""
    new = [n for n in more if n not in names]
    names += new
    return bool(new)


def overlap_text(overlap: Overlap) -> str:
    """`file (a, b)`, and the other names that reach the file: `src/x.py (a, b) via alias/x.py`."""
    via = f" via {', '.join(overlap.via)}" if overlap.via else ""
    return f"{overlap.file} ({', '.join(overlap.subtasks)}){via}"


_norm = normalize
"""One spelling per path, and what a path is inside of: the engine's one ownership rule
(`engine.core.ownership`), so a plan is disjoint by the same rule the boundary watch and the
edit hook enforce while the agents run."""
_parents = parents


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
    reasons += history_reasons(subtasks)  # files that change together, or often (engine.analysis.cochange)
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
             resources: Resources, tree: RepoTree = TEXT_ONLY) -> Validation:
    """Check a draft against every rule; never raises, names every problem at once. `tree`
    lets paths be resolved in the checkout (symlinks, submodules, tracked folders)."""
    real = None if tree.root is None else partial(real_name, tree.root)
    overlaps = find_overlaps(subtasks, tree.dirs | {f"{s}/" for s in tree.submodules}, real)
    deps = implied_dependencies(subtasks)
    waves, dep_problems = dependency_waves(deps)
    resource = resource_problems(len(subtasks), config, resources)
    problems = shape.subtask_problems(subtasks)
    problems += [f"the plan names subtask {n!r} more than once{_as(n, subtasks)}"
                 for n in _duplicates(s.name for s in subtasks)]
    problems += path_problems(subtasks, tree.root)
    problems += [f"overlap: {overlap_text(o)}" for o in overlaps] + dep_problems + resource
    warnings = [f"{n} must wait for {', '.join(sorted(ds - set(s.depends_on)))} (uses its new file)"
                for s in subtasks for n, ds in [(s.name, deps[s.name])] if ds - set(s.depends_on)]
    warnings += submodule_warnings(subtasks, tree.submodules)
    warnings += sandbox_warnings(tree.root, config)
    n = max(1, min(len(subtasks), len(table.rows)))
    risk, reasons = conflict_risk(subtasks, overlaps, table.row(n).savings_pct)
    verdict = decide(subtasks, table, risk, waves, dep_problems, config.min_efficiency_gain_pct,
                     waves_estimate(subtasks, table.sequential_minutes, config))
    return Validation(overlaps=overlaps, conflict_risk=risk, risk_reasons=reasons,
                      problems=tuple(problems), warnings=tuple(warnings), order=waves,
                      resources_ok=not resource, verdict=verdict)


def path_problems(subtasks: Sequence[Subtask], root: Path | None) -> list[str]:
    """Each path that leaves the repo as text (`..`, absolute) or, resolved in the checkout at
    `root`, through a symlink."""
    out = []
    for sub in subtasks:
        for path in sub.files():
            why = unsafe_path(path) or (path_escape(root, path) if root is not None else None)
            if why:
                out.append(f"{sub.name}: {path} ({why})")
    return out


def sandbox_warnings(root: Path | None, config: ParallelConfig) -> list[str]:
    """What plan review must say about the agents' shells: that they run without Claude Code's
    sandbox, or that the repo's own `.claude/settings.json` widens it (Claude Code merges its
    lists with ours, facts §9)."""
    shell = plan_sandbox(config.sandbox, config.default_agent)
    if shell.shell != "sandboxed":
        return [shell.note]
    try:
        text = (root / ".claude" / "settings.json").read_text(encoding="utf-8") if root else ""
        added = widening(json.loads(text)) if text else []
    except (OSError, ValueError, RecursionError):
        return []
    if not added:
        return []
    return [f"the repo's .claude/settings.json widens every session's sandbox: {'; '.join(added)} "
            "(Claude Code merges these lists with parallel-tui's; remove them to keep sessions contained)"]


def submodule_warnings(subtasks: Sequence[Subtask], submodules: Iterable[str]) -> list[str]:
    """A file inside a submodule is committed in that other repository, not on the branch."""
    mods = set(submodules)
    return [f"{sub.name}: {path} is inside submodule {mod} (its changes belong to that repository)"
            for sub in subtasks for path in sub.files()
            for mod in sorted(_parents(_norm(path)) & mods)]


def blocking_error(validation: Validation) -> EngineError | None:
    """Every problem of a plan in one line: a ConflictError (exit 6) when any file is claimed
    twice, else a PlanError (exit 7); None when nothing blocks a run."""
    problems = validation.problems
    if not problems:
        return None
    kind = ConflictError if validation.overlaps else PlanError
    return kind(f"the plan has {len(problems)} problem(s): {'; '.join(problems)}",
                hint="fix the plan file and check it with `parallel-tui plan --validate`")


def decide(subtasks: Sequence[Subtask], table: OverheadTable, risk: ConflictRisk,
           waves: Sequence[Sequence[str]], dep_problems: Sequence[str],
           min_gain_pct: float, with_waves: WavesEstimate | None = None) -> Verdict:
    """The spec's "should NOT parallelise" rules, first match wins. A plan with waves (not a
    pure chain) is judged by its "with waves" estimate: the waves must still pay."""
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
    if with_waves is not None:
        return _waves_verdict(with_waves, risk, min_gain_pct)
    if row.savings_pct < min_gain_pct:
        return Verdict(parallelize=False, reason=f"efficiency gain {row.savings_pct:.0f}% with "
                       f"{count} splits is under {min_gain_pct:g}%")
    return Verdict(parallelize=True, reason=f"{row.savings_pct:.0f}% faster with {count} parallel "
                   f"sessions; conflict risk {risk.value}")


def _waves_verdict(est: WavesEstimate, risk: ConflictRisk, min_gain_pct: float) -> Verdict:
    path = " → ".join(est.critical_path)
    if est.savings_pct < min_gain_pct:
        return Verdict(parallelize=False, reason=f"with waves (critical path {path}) the gain is "
                       f"{est.savings_pct:.0f}%, under {min_gain_pct:g}%")
    return Verdict(parallelize=True, reason=f"{est.savings_pct:.0f}% faster with waves (critical path "
                   f"{path}); conflict risk {risk.value}")


def _duplicates(names: Iterable[str]) -> list[str]:
    """Names given twice, case aside: `a` and `A` would share a slug's branch and worktree on a
    case-insensitive file system, and read as one subtask to a person."""
    seen: set[str] = set()
    dup = []
    for name in names:
        if name.casefold() in seen:
            dup.append(name)
        seen.add(name.casefold())
    return dup


def _as(name: str, subtasks: Sequence[Subtask]) -> str:
    """` (as 'a': names that differ only in case)` when the first one is spelled otherwise."""
    first = next(s.name for s in subtasks if s.name.casefold() == name.casefold())
    return "" if first == name else f" (as {first!r}: names that differ only in case are one name)"


def tracked_dirs(files: Iterable[str]) -> set[str]:
    """Every folder that holds a tracked file, with a trailing slash."""
    return folders_of(frozenset(files))
