"""Does the offline plan name the files a real change touched? Measured on many real histories.

    python bench/localize.py --mirrors DIR             # every repo of bench/histories.py found in DIR
    python bench/localize.py --repo pypa/pip=PATH      # one of them, wherever it is
    python bench/localize.py --mirrors DIR --set untouched --commits 40 --show 3

For each repository of the frozen list (`bench/histories.py`) it walks the listed commit range
newest first and keeps commits with a descriptive subject (4+ words, not a bump, merge, revert
or bot commit) that modify 1–3 existing source files (code, templates, stylesheets, config: not
tests, docs or changelog) and add none. For each: the task is the subject, the tree is the
parent commit (read from git's objects, no checkout), truth is the source files modified. Per
repo, per set (tuning, untouched) and overall, in one run:

- hit@plan: the offline plan names a true file; hit@3: a true file is in the ranking's top 3;
- recall@30: a true file is among the 30 candidates the Claude planners' prompts get; with past
  5: among those or the files of the five past commits most like the task, which the prompts
  also show;
- files/plan, and plans over 8 files;
- convention hit: of the commits that also touched tests (or a changelog), the share whose plan
  put a test (or changelog entry) where the commit did: the same file, or a new one in the same
  folder;
- the path-token baseline (files by task words in their path; its plan is its top N, N = our
  plan's size for the same task).

Goals (issue #20): hit@plan ≥ 65 % overall and ≥ 55 % per repo, recall@30 ≥ 90 %, ≤ 8 files per
plan, above the baseline everywhere. Exit 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.histories import (
    Commit,
    History,
    add_arguments,
    commits,
    is_changelog,
    is_source,
    is_test,
    keep_indexes,
    located,
    plan_at,
    print_groups,
)
from engine.analysis.cochange import read_history
from engine.analysis.localize import path_token_rank, query_terms, rank
from engine.analysis.similar import most_like
from engine.claude.prompt import PAST_CHANGES
from engine.core.ownership import owns


@dataclass(slots=True)
class Tally:
    n: int = 0
    hit_plan: int = 0
    hit3: int = 0
    recall30: int = 0
    recall_past: int = 0
    files: int = 0
    over8: int = 0
    conv_cases: int = 0
    conv_hits: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("n", "hit_plan", "hit3", "recall30", "recall_past", "files", "over8", "conv_cases",
                     "conv_hits"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self, label: str) -> str:
        n = max(1, self.n)
        conv = f"{100 * self.conv_hits / self.conv_cases:3.0f} % of {self.conv_cases:>3}" if self.conv_cases \
            else "     n/a"
        return (f"| {label:<28} | {self.n:>3} | {100 * self.hit_plan / n:6.0f} % "
                f"| {100 * self.hit3 / n:3.0f} % | {100 * self.recall30 / n:7.0f} % "
                f"| {100 * self.recall_past / n:9.0f} % "
                f"| {self.files / n:10.1f} | {self.over8:>2} | {conv:<14} |")


HEADER = ("| repo                         |   n | hit@plan | hit@3 | recall@30 | with past 5 | files/plan "
          "| >8 | convention hit |\n"
          "|------------------------------|-----|----------|-------|-----------|-------------|------------"
          "|----|----------------|")


def select(found: list[Commit], count: int, max_files: int) -> list[Commit]:
    cases = []
    for c in found:
        sources = {p for s, p in c.status if is_source(p)}
        modified = {p for s, p in c.status if s == "M" and p in sources}
        if 1 <= len(modified) <= max_files and modified == sources:
            cases.append(c)
        if len(cases) == count:
            break
    return cases


def convention_hit(planned: tuple[str, ...], touched: set[str], kind: str) -> bool:
    """A planned test (changelog entry) owns one the commit touched (the file, or a planned
    folder holding it), or is a new one in the folder of one."""
    wanted = is_test if kind == "tests" else is_changelog
    real = {p for p in touched if wanted(p)}
    ours = [p for p in planned if wanted(p)]
    folders = {str(PurePosixPath(p).parent) for p in real}
    return any(owns([p], r) for p in ours for r in real) or any(
        str(PurePosixPath(p).parent) in folders for p in ours if not p.endswith("/"))


def run_case(repo: Path, case: Commit, ours: Tally, base: Tally, show: bool) -> None:
    started = time.perf_counter()
    plan = plan_at(repo, case.parent, case.subject)
    ours.seconds.append(time.perf_counter() - started)
    truth = {p for s, p in case.status if s == "M" and is_source(p)}
    ranked = [r.path for r in rank(plan.index, case.subject, limit=30)]
    words = [(t.term, t.weight) for t in query_terms(case.subject)]
    alike = most_like(read_history(repo, case.parent).past, words, PAST_CHANGES)
    past = {f for _, c in alike for f in c.files}
    baseline = path_token_rank(plan.index.paths, case.subject, limit=30)
    for tally, named, top, seen in ((ours, list(plan.files), ranked, past),
                                    (base, baseline[:len(plan.files)], baseline, set())):
        tally.n += 1
        tally.hit_plan += bool(truth & set(named))
        tally.hit3 += bool(truth & set(top[:3]))
        tally.recall30 += bool(truth & set(top[:30]))
        tally.recall_past += bool(truth & (set(top[:30]) | seen))
        tally.files += len(named)
        tally.over8 += len(named) > 8
        for kind, wanted in (("tests", is_test), ("changelog", is_changelog)):
            if any(wanted(p) for p in case.paths()):
                tally.conv_cases += 1
                tally.conv_hits += convention_hit(tuple(named), case.paths(), kind)
    if show:
        print(f"\n{case.commit[:10]} {case.subject}\n  truth: {sorted(case.paths())}\n"
              f"  plan:  {list(plan.files)}")


def measure(history: History, repo: Path, count: int, max_files: int, show: int) -> tuple[Tally, Tally, str]:
    cases = select(commits(repo, history), count, max_files)
    ours, base = Tally(), Tally()
    for i, case in enumerate(cases):
        run_case(repo, case, ours, base, i < show)
    span = f"{cases[-1].commit[:10]}..{cases[0].commit[:10]}" if cases else "no commits"
    return ours, base, span


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--commits", type=int, default=40, help="tasks per repository")
    parser.add_argument("--max-files", type=int, default=3)
    parser.add_argument("--show", type=int, default=0, help="print the first N plans of each repo")
    args = parser.parse_args(argv)
    repos = located(args)
    if not repos:
        print("no repository of bench/histories.py was found: pass --mirrors DIR or --repo NAME=PATH",
              file=sys.stderr)
        return 2
    keep_indexes()
    results: list[tuple[History, Tally, Tally]] = []
    with tempfile.TemporaryDirectory(prefix="ptui-bench-") as state:
        os.environ.setdefault("PARALLEL_TUI_HOME", state)  # the per-commit indexes go with the run
        for history, repo in repos:
            ours, base, span = measure(history, repo, args.commits, args.max_files, args.show)
            each = sum(ours.seconds) / max(1, ours.n)
            print(f"{history.name}: {ours.n} commits {span}, {each:.2f} s per task (index build + plan)",
                  file=sys.stderr)
            results.append((history, ours, base))
    return report(results)


def report(results: list[tuple[History, Tally, Tally]]) -> int:
    print(HEADER)
    overall, overall_base, met = print_groups(
        results, Tally, lambda ours, base: ours.n > 0 and ours.hit_plan >= 0.55 * ours.n
        and ours.hit_plan > base.hit_plan)
    n = max(1, overall.n)
    met &= (overall.hit_plan >= 0.65 * n and overall.recall30 >= 0.9 * n and overall.over8 == 0
            and overall.hit_plan > overall_base.hit_plan)
    print(f"\ngoals (hit@plan ≥ 65 % overall, ≥ 55 % per repo, recall@30 ≥ 90 %, ≤ 8 files, above the "
          f"baseline): {'met' if met else 'MISSED'}")
    return 0 if met else 1

if __name__ == "__main__":
    sys.exit(main())
