"""`parallel-tui table`: the overhead and break-even table for a sequential estimate
(`Engine.table` decides which repo, if any, caps the rows; this renders)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.parser import add_common, positive_float
from engine.core.jsonio import dumps, to_jsonable
from engine.planning.chart import savings_chart
from engine.planning.text_report import model_line, overhead_lines
from engine.service import build_engine, run_inline

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
    # --no-repo: the pure model; --repo: that repo, which must resolve; neither: here, if a repo
    use_repo = False if args.no_repo else True if args.repo is not None else None
    where = args.repo if use_repo else Path()
    engine = build_engine(where, inline=True, resolve=bool(use_repo))
    view = run_inline(engine.table(args.minutes, repo=use_repo, seed_model=args.seed_model))
    if args.json:
        data = to_jsonable(view.table)
        assert isinstance(data, dict)
        print(dumps({**data, "model": view.model}))
        return 0
    print("\n".join(overhead_lines(view.table)))
    print(model_line(view.model.constants))
    if not args.no_chart:
        print()
        print(savings_chart(view.table, color=sys.stdout.isatty()))
    return 0
