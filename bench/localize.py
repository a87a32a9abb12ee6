"""Does the offline plan name the files a real change touched? Measured on real history.

    python bench/localize.py                         # pytest (pytest-dev/pytest), a bare mirror
    python bench/localize.py --repo PATH             # any repo: your own history
    python bench/localize.py --commits 50 --show 5   # how many tasks; print a few plans

The default project is pytest, a well-known open-source Python project with a long history
(~17,000 commits, ~700 files), read from a bare mirror at DEFAULT_REPO (get one with
`git clone --bare https://github.com/pytest-dev/pytest.git PATH`). It walks the history newest
first and keeps non-merge commits whose subject is descriptive (4+ words, not a bump, merge,
revert or bot commit) and that modify 1–3 existing source files (code, not tests or docs).
For each: the task is the subject, the tree is the parent commit (read from git's objects,
no checkout), truth is the source files the commit modified. It reports, in one run:

- hit@plan: the offline planner's plan names a true file (files to modify or create);
- hit@3: a true file is in the top 3 of the raw ranking (`engine.analysis.localize.rank`);
- files/plan: the mean number of files a plan names, and how many plans name more than 8;
- the same for the path-token baseline (files by task words in their path; its "plan" is its
  top N, N = our plan's size for the same task, so both get the same budget).

Goal: hit@plan ≥ 60 %, above the baseline, ≤ 8 files per plan. Exit 1 when a goal is missed.

Measured 2026-11-26 (2 shared cores):
    pytest, 50 commits:   hit@plan 72 %, hit@3 70 %, 6.8 files/plan; baseline 32 % / 22 %
    pytest, 100 commits:  hit@plan 78 %, hit@3 69 %, 6.5 files/plan; baseline 36 % / 28 %
    flask (pallets/flask, --repo), 50 commits: hit@plan 66 %, hit@3 54 %, 6.4; baseline 10 % / 10 %
    index build 0.5 s per commit (~700 files), a plan ~85 ms
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.analysis.languages import language_of  # noqa: E402
from engine.analysis.layout import area_of  # noqa: E402
from engine.analysis.localize import path_token_rank, rank  # noqa: E402
from engine.analysis.localize_index import open_index  # noqa: E402
from engine.analysis.profile import find_modules, languages  # noqa: E402
from engine.core.config import ParallelConfig  # noqa: E402
from engine.core.models import Churn, RepoProfile  # noqa: E402
from engine.hosts.gitcli import git  # noqa: E402
from engine.planning.estimate import estimate  # noqa: E402
from engine.planning.offline import OfflinePlanner  # noqa: E402
from engine.planning.overhead import overhead_table  # noqa: E402
from engine.planning.port import PlanRequest  # noqa: E402

DEFAULT_REPO = Path("/work/.mirror/pytest-dev+pytest/repo")
_CODE = {"Python", "JavaScript", "TypeScript", "Go", "Rust", "Java", "Kotlin", "Ruby", "PHP", "C",
         "C++", "C#", "Swift", "Scala", "Vue", "Svelte", "Lua", "Elixir", "Dart", "Shell"}
_NOISE = re.compile(r"^(merge|bump|revert|release|prepare|\[pre-commit|pre-commit|update changelog|"
                    r"build\(deps\)|chore\(deps\))", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Case:
    commit: str
    parent: str
    subject: str
    truth: frozenset[str]


@dataclass(slots=True)
class Tally:
    hit_plan: int = 0
    hit3: int = 0
    files: int = 0
    over8: int = 0

    def line(self, label: str, n: int) -> str:
        return (f"{label:<22} hit@plan {self.hit_plan:>3}/{n} ({100 * self.hit_plan / n:4.0f} %)   "
                f"hit@3 {self.hit3:>3}/{n} ({100 * self.hit3 / n:4.0f} %)   "
                f"files/plan {self.files / n:4.1f}   plans > 8 files: {self.over8}")


def is_source(path: str) -> bool:
    return language_of(path) in _CODE and area_of(path) not in ("tests", "docs")


def select(repo: Path, count: int, max_files: int) -> list[Case]:
    """Newest first: descriptive subjects, 1..max_files modified source files, nothing else odd."""
    log = git(repo, "log", "--no-merges", "--format=%x01%H %P%x02%s", "--name-status", "-n",
              str(count * 40), "HEAD")
    cases: list[Case] = []
    for chunk in log.split("\x01")[1:]:
        head, _, body = chunk.partition("\x02")
        ids = head.split()
        subject, *changes = body.strip("\n").split("\n")
        if len(ids) != 2 or _NOISE.match(subject) or len(subject.split()) < 4:
            continue
        status = [line.split("\t") for line in changes if line.strip()]
        sources = {p[-1] for p in status if is_source(p[-1])}
        modified = {p[1] for p in status if p[0] == "M" and p[1] in sources}
        if not 1 <= len(modified) <= max_files or modified != sources:
            continue
        cases.append(Case(commit=ids[0], parent=ids[1], subject=subject, truth=frozenset(modified)))
        if len(cases) == count:
            break
    return cases


def request_for(files: list[str], subject: str, commit: str, repo: Path) -> PlanRequest:
    """What `plan` would build, from the parent tree's file list (no checkout, no LOC)."""
    config = ParallelConfig()
    profile = RepoProfile(root=str(repo), head=commit, files=len(files), loc=0,
                          modules=find_modules(files, {}, config.min_files_per_subtask),
                          languages=languages(files, {}), churn=Churn(days=30, commits=0, files=0),
                          worktrees=(), complexity_score=0.5, max_splits=10, max_splits_reason="")
    est = estimate(subject, profile.complexity_score)
    table = overhead_table(est.sequential_minutes, config)
    return PlanRequest(task=subject, repo=profile, files=tuple(files), splits=table.optimal_splits,
                       overhead=table, estimate=est, config=config)


def run_case(case: Case, repo: Path, ours: Tally, base: Tally, show: bool) -> tuple[float, float]:
    """Score one task; returns (index seconds, plan seconds)."""
    started = time.perf_counter()
    index = open_index(repo, case.parent)
    built = time.perf_counter() - started
    files = index.paths
    draft = asyncio.run(OfflinePlanner(index).draft(request_for(files, case.subject, case.parent, repo)))
    planned = [f for s in draft.subtasks for f in s.files()]
    took = time.perf_counter() - started - built
    top3 = [r.path for r in rank(index, case.subject, limit=3)]
    baseline = path_token_rank(files, case.subject)
    for tally, named, three in ((ours, planned, top3), (base, baseline[:len(planned)], baseline[:3])):
        tally.hit_plan += bool(case.truth & set(named))
        tally.hit3 += bool(case.truth & set(three))
        tally.files += len(named)
        tally.over8 += len(named) > 8
    if show:
        print(f"\n{case.commit[:10]} {case.subject}\n  truth: {', '.join(sorted(case.truth))}")
        for sub in draft.subtasks:
            print(f"  {sub.name}: modify {list(sub.files_to_modify)} create {list(sub.files_to_create)}")
    return built, took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO)
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--max-files", type=int, default=3)
    parser.add_argument("--show", type=int, default=0, help="print the first N plans")
    args = parser.parse_args(argv)
    if not args.repo.exists():
        print(f"no repository at {args.repo}: get the default project with\n"
              f"  git clone --bare https://github.com/pytest-dev/pytest.git {args.repo}\n"
              "or pass --repo PATH (any git repository with history)", file=sys.stderr)
        return 2
    cases = select(args.repo, args.commits, args.max_files)
    if not cases:
        print(f"no commit in {args.repo} modifies 1-{args.max_files} source files", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ptui-bench-") as state:
        os.environ["PARALLEL_TUI_HOME"] = state  # the per-commit indexes go away with the run
        ours, base = Tally(), Tally()
        times = [run_case(c, args.repo, ours, base, i < args.show) for i, c in enumerate(cases)]
    n = len(cases)
    print(f"\n{args.repo}: {n} commits (1-{args.max_files} source files modified), "
          f"{cases[-1].commit[:10]}..{cases[0].commit[:10]}")
    print(ours.line("localize + planner", n))
    print(base.line("path-token baseline", n))
    print(f"index build {sum(t[0] for t in times) / n:.2f} s/commit, "
          f"plan {1000 * sum(t[1] for t in times) / n:.0f} ms/task")
    met = ours.hit_plan >= 0.6 * n and ours.hit_plan > base.hit_plan and ours.over8 == 0
    print(f"goal (hit@plan ≥ 60 %, beats the baseline, ≤ 8 files per plan): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
