"""Repo analysis: files, LOC, modules, languages, churn → complexity score and split cap.

Everything is read through a handful of `git` processes (`ls-files -z`, `grep -I -c`,
`log --name-only -z`, `worktree list`) rather than a Python walk of the disk, so the cost
stays a small multiple of reading the files once. The result is cached by HEAD commit.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from engine.analysis import cache as analysis_cache
from engine.analysis.languages import language_of
from engine.analysis.worktrees import linked_worktrees
from engine.core.config import ParallelConfig
from engine.core.models import Churn, HotFile, LanguageStat, RepoModule, RepoProfile, WorktreeInfo
from engine.hosts.gitcli import git_bytes, head_sha, resolve_repo, tracked_files

CONTAINER_DIRS = frozenset({"src", "lib", "packages", "apps", "app", "services", "modules", "pkg"})
"""Top-level folders that hold modules rather than being one: `src/auth` is the module."""
MAX_SPLITS = 10
HOT_FILES = 10


def analyze_repo(path: Path, config: ParallelConfig, *, use_cache: bool = True) -> RepoProfile:
    """Profile the repo at `path`; a second call on the same HEAD (same day) is a cache hit."""
    started = time.perf_counter()
    root = resolve_repo(path)
    head = head_sha(root)
    key = analysis_cache.key(root, head, config.churn_days, config.min_files_per_subtask)
    if use_cache and (hit := analysis_cache.load(key)) is not None:
        # worktrees come and go without a commit: always read them fresh (one cheap call)
        return dataclasses.replace(hit, worktrees=extra_worktrees(root),
                                   analysis_seconds=time.perf_counter() - started)
    profile = _profile(root, head, config, started)
    analysis_cache.store(key, profile)
    return profile


def _profile(root: Path, head: str, config: ParallelConfig, started: float) -> RepoProfile:
    files = tracked_files(root)
    loc_by_file = line_counts(root)
    modules = find_modules(files, loc_by_file, config.min_files_per_subtask)
    churn = recent_churn(root, config.churn_days)
    total_loc = sum(loc_by_file.values())
    score = complexity_score(len(files), total_loc, len(modules), churn.files)
    splits, reason = max_splits(len(files), config.min_files_per_subtask)
    return RepoProfile(
        root=str(root), head=head, files=len(files), loc=total_loc, modules=modules,
        languages=languages(files, loc_by_file), churn=churn, worktrees=extra_worktrees(root),
        complexity_score=score, max_splits=splits, max_splits_reason=reason,
        analysis_seconds=time.perf_counter() - started,
    )


def line_counts(root: Path) -> dict[str, int]:
    """Lines per tracked text file; binary files (`-I`) and empty files are left out."""
    raw = git_bytes(root, "grep", "-I", "-c", "-z", "", ok_codes=(0, 1))
    pieces = raw.split(b"\0")
    counts: dict[str, int] = {}
    path = pieces[0]
    for token in pieces[1:]:
        number, _, following = token.partition(b"\n")
        if number:
            counts[path.decode("utf-8", "surrogateescape")] = int(number)
        path = following
    return counts


def find_modules(files: Iterable[str], loc: dict[str, int], min_files: int) -> tuple[RepoModule, ...]:
    """Top-level folders (or their children, under src/, lib/, …) with ≥ min_files files."""
    file_count, line_count = _tally(files, loc, module_of)
    return tuple(
        RepoModule(path=m, files=n, loc=line_count[m])
        for m, n in sorted(file_count.items(), key=lambda kv: (-kv[1], kv[0]))
        if n >= min_files
    )


def _tally(files: Iterable[str], loc: dict[str, int],
           group: Callable[[str], str | None]) -> tuple[Counter[str], Counter[str]]:
    """Files and lines per group; paths whose group is None are left out."""
    file_count: Counter[str] = Counter()
    line_count: Counter[str] = Counter()
    for name in files:
        key = group(name)
        if key is not None:
            file_count[key] += 1
            line_count[key] += loc.get(name, 0)
    return file_count, line_count


def module_of(name: str) -> str | None:
    """The module a path belongs to; None for files at the top level."""
    parts = PurePosixPath(name).parts
    if len(parts) < 2:
        return None
    if parts[0] in CONTAINER_DIRS and len(parts) > 2:
        return f"{parts[0]}/{parts[1]}"
    return parts[0]


def languages(files: Iterable[str], loc: dict[str, int]) -> tuple[LanguageStat, ...]:
    file_count, line_count = _tally(files, loc, language_of)
    ranked = sorted(file_count, key=lambda lang: (-line_count[lang], -file_count[lang], lang))
    return tuple(LanguageStat(name=g, files=file_count[g], loc=line_count[g]) for g in ranked)


def recent_churn(root: Path, days: int) -> Churn:
    """Commits in the last `days` days and the paths they touched, hottest first."""
    raw = git_bytes(root, "log", f"--since={days}.days.ago", "--format=%x01%H",
                    "--name-only", "-z", "--no-renames")
    commits = 0
    touched: Counter[str] = Counter()
    for raw_token in raw.split(b"\0"):
        token = raw_token.lstrip(b"\n")
        if token.startswith(b"\x01"):
            commits += 1
        elif token:
            touched[token.decode("utf-8", "surrogateescape")] += 1
    hot = tuple(HotFile(path=p, commits=n) for p, n in touched.most_common(HOT_FILES))
    return Churn(days=days, commits=commits, files=len(touched), hot_files=hot)


def extra_worktrees(root: Path) -> tuple[WorktreeInfo, ...]:
    """Linked worktrees beyond the main checkout; they count against max_worktrees."""
    return tuple(WorktreeInfo(**record) for record in linked_worktrees(root))


def complexity_score(files: int, loc: int, modules: int, churn_files: int) -> float:
    """0.0 for an empty repo, about 1.0 for 10k files / 1M lines / 10 modules / all churning.

    Size terms are logarithmic (a repo ten times larger is one step harder, not ten) and
    uncapped, so very large repos score above 1.0.
    """
    size = math.log10(1 + files) / 4
    lines = math.log10(1 + loc) / 6
    structure = min(1.0, modules / 10)
    churn = min(1.0, churn_files / max(1, files))
    return round(0.3 * size + 0.3 * lines + 0.2 * structure + 0.2 * churn, 3)


def max_splits(files: int, min_files_per_subtask: int) -> tuple[int, str]:
    """Each subtask should own at least `min_files_per_subtask` files; at most 10 splits."""
    by_files = files // min_files_per_subtask
    splits = max(1, min(MAX_SPLITS, by_files))
    if by_files >= MAX_SPLITS:
        return splits, f"{files} files: the model's ceiling of {MAX_SPLITS} splits applies"
    return splits, (f"{files} tracked files at ≥ {min_files_per_subtask} files per subtask "
                    f"allow {splits}")
