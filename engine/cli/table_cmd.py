"""`parallel-tui table`: the overhead and break-even table for a sequential estimate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.analysis.profile import analyze_repo
from engine.cli.parser import add_common, positive_float
from engine.core.config import load_config
from engine.core.jsonio import dumps, to_jsonable
from engine.hosts.gitcli import has_repo, resolve_repo
from engine.planning.chart import savings_chart
from engine.planning.estimate import check_minutes
from engine.planning.overhead import MAX_ROWS, overhead_table
from engine.planning.text_report import model_line, overhead_lines
from engine.report.calibration import model_for

NAME = "table"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="overhead, total and savings for 1..10 splits")
    add_common(p)
    p.add_argument("--minutes", type=positive_float, required=True,
                   help="the sequential estimate in minutes")
    p.add_argument("--no-repo", action="store_true",
                   help="ignore the repo's structure and worktrees (the pure model; "
                   "the default outside a git repo)")
    p.add_argument("--no-chart", action="store_true", help="omit the terminal chart")
    p.add_argument("--seed-model", action="store_true",
                   help="the spec's constants, not the ones measured on this repo's runs")
    p.set_defaults(func=run, repo=None)


def run(args: argparse.Namespace) -> int:
    check_minutes(args.minutes)
    max_splits, existing, repo = MAX_ROWS, 0, None
    explicit = args.repo is not None
    if not args.no_repo and (explicit or has_repo(Path())):
        repo = resolve_repo(args.repo or Path())
        profile = analyze_repo(repo, load_config(repo))
        max_splits, existing = profile.max_splits, len(profile.worktrees)
    model = model_for(repo, load_config(repo), seed=args.seed_model)
    table = overhead_table(args.minutes, model.config, repo_max_splits=max_splits,
                           existing_worktrees=existing)
    if args.json:
        data = to_jsonable(table)
        assert isinstance(data, dict)
        print(dumps({**data, "model": model}))
        return 0
    print("\n".join(overhead_lines(table)))
    print(model_line(model.constants))
    if not args.no_chart:
        print()
        print(savings_chart(table, color=sys.stdout.isatty()))
    return 0
