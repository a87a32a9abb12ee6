"""`parallel-tui check`: the conflict matrix of a run's branches, read-only."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.merge_args import add_branch_options, print_check, which
from engine.cli.parser import add_common
from engine.core.errors import ExitCode
from engine.core.jsonio import dumps, to_jsonable
from engine.service import build_engine, run_inline

NAME = "check"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="check branches for conflicts with the target and each other")
    add_common(p)
    add_branch_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    checked = run_inline(build_engine(Path(args.repo), inline=True).check(which(args)))
    report = checked.report
    if args.json:
        data = to_jsonable(report)
        assert isinstance(data, dict)
        print(dumps({**data, "missing": checked.selection.missing}))
    else:
        print_check(report, sys.stdout)
        for name in checked.selection.missing:
            print(f"  {name}: branch no longer exists (deleted by hand?)")
    return int(ExitCode.CONFLICT) if report.blocked else 0

