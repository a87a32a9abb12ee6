"""Would the offline plan have covered a real multi-file change? Replayed on real histories.

    python bench/replay.py --mirrors DIR               # every repo of bench/histories.py found in DIR
    python bench/replay.py --repo ansible/ansible=PATH --commits 30 --show 3

For each repository of the frozen list (`bench/histories.py`) it walks the listed range newest
first and keeps commits with a descriptive subject that touch 3–8 files, at least one of them
source (code, templates, stylesheets, config). Each is planned from its subject alone on the
tree of its parent commit (git's objects, no checkout; the mirror's refs are never touched).
Per repo, per set (tuning, untouched) and overall:

- coverage: the share of the real change's files some subtask owns (to modify or create), by
  the run's ownership rule: a planned folder (`changelog.d/`, a test target) owns what is in it;
  source coverage and test coverage: the same for its source files and its test files;
- fully covered: changes whose every file is in the plan;
- precision: the share of planned entries (files, folders) that own a file the change touched;
  files per plan;
- parallelise: how often the verdict said to split (more than one subtask, and a task long
  enough to pay for it);
- the path-token baseline: its top N files, N = our plan's size.

Goals (issue #20): coverage ≥ 60 %, source coverage ≥ 70 %, precision ≥ 35 %, ≥ 25 % of the
changes fully covered. Exit 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.histories import (
    Commit,
    History,
    add_arguments,
    commits,
    is_source,
    is_test,
    keep_indexes,
    located,
    plan_at,
    print_groups,
)
from engine.analysis.localize import path_token_rank
from engine.core.ownership import covers, owns


@dataclass(slots=True)
class Tally:
    n: int = 0
    touched: int = 0
    covered: int = 0
    sources: int = 0
    sources_covered: int = 0
    tests: int = 0
    tests_covered: int = 0
    full: int = 0
    planned: int = 0
    planned_hit: int = 0
    parallelise: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__slots__:  # type: ignore[attr-defined]
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def score(self, touched: set[str], planned: set[str], parallelise: bool) -> None:
        """Owned as the run's ownership rule owns (`engine.core.ownership`): a planned folder
        (`changelog.d/`) owns every file in it; a planned entry is a hit when it owns a file
        the change touched."""
        owned = {p for p in touched if owns(planned, p)}
        self.n += 1
        self.touched += len(touched)
        self.covered += len(owned)
        src = {p for p in touched if is_source(p)}
        tests = {p for p in touched if is_test(p)}
        self.sources += len(src)
        self.sources_covered += len(src & owned)
        self.tests += len(tests)
        self.tests_covered += len(tests & owned)
        self.full += touched == owned
        self.planned += len(planned)
        self.planned_hit += sum(any(covers(entry, p) for p in touched) for entry in planned)
        self.parallelise += parallelise

    def row(self, label: str) -> str:
        def pct(a: int, b: int) -> str:
            return f"{100 * a / b:3.0f} %" if b else "  n/a"
        return (f"| {label:<28} | {self.n:>3} | {pct(self.covered, self.touched)} | "
                f"{pct(self.sources_covered, self.sources)} | {pct(self.tests_covered, self.tests)} | "
                f"{self.full:>3} ({pct(self.full, self.n)}) | {pct(self.planned_hit, self.planned)} | "
                f"{self.planned / max(1, self.n):4.1f} | {self.parallelise:>3}/{self.n} |")

    def exact(self) -> str:
        """The goals' figures to a tenth, so a goal met or missed by a hair is not hidden by rounding."""
        def pct(a: int, b: int) -> str:
            return f"{100 * a / b:.1f} %" if b else "n/a"
        return (f"coverage {pct(self.covered, self.touched)}, "
                f"source {pct(self.sources_covered, self.sources)}, "
                f"precision {pct(self.planned_hit, self.planned)}, fully covered {pct(self.full, self.n)}")

    def met(self) -> bool:
        return (self.covered >= 0.6 * self.touched and self.sources_covered >= 0.7 * self.sources
                and self.planned_hit >= 0.35 * max(1, self.planned) and self.full >= 0.25 * self.n)


HEADER = ("| repo                         |   n | coverage | source | tests | fully covered | precision "
          "| files/plan | parallelise |\n"
          "|------------------------------|-----|----------|--------|-------|---------------|-----------"
          "|------------|-------------|")


def select(found: list[Commit], count: int) -> list[Commit]:
    cases = []
    for c in found:
        paths = c.paths()
        if 3 <= len(paths) <= 8 and any(is_source(p) for p in paths):
            cases.append(c)
        if len(cases) == count:
            break
    return cases


def measure(history: History, repo: Path, count: int, show: int) -> tuple[Tally, Tally]:
    ours, base = Tally(), Tally()
    for i, case in enumerate(select(commits(repo, history), count)):
        plan = plan_at(repo, case.parent, case.subject)
        touched = case.paths()
        ours.score(touched, set(plan.files), plan.parallelise)
        baseline = path_token_rank(plan.index.paths, case.subject, limit=max(1, len(plan.files)))
        base.score(touched, set(baseline), False)
        if i < show:
            print(f"\n{case.commit[:10]} {case.subject}\n  truth: {sorted(touched)}\n  plan:  "
                  f"{list(plan.files)} ({plan.subtasks} subtask(s))")
    return ours, base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--commits", type=int, default=30, help="changes per repository")
    parser.add_argument("--show", type=int, default=0, help="print the first N plans of each repo")
    args = parser.parse_args(argv)
    repos = located(args)
    if not repos:
        print("no repository of bench/histories.py was found: pass --mirrors DIR or --repo NAME=PATH",
              file=sys.stderr)
        return 2
    keep_indexes()
    results = []
    with tempfile.TemporaryDirectory(prefix="ptui-bench-") as state:
        os.environ.setdefault("PARALLEL_TUI_HOME", state)
        for history, repo in repos:
            ours, base = measure(history, repo, args.commits, args.show)
            results.append((history, ours, base))
    print(HEADER)
    overall, overall_base, _ = print_groups(results, Tally)
    met = overall.met() and overall.covered > overall_base.covered
    print(f"\noverall: {overall.exact()}")
    print(f"goals (coverage ≥ 60 %, source ≥ 70 %, precision ≥ 35 %, ≥ 25 % fully covered, above the "
          f"baseline): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
