"""`parallel-tui analyze`: the repo profile (the spec's `--analyze-repo`)."""

from __future__ import annotations

import argparse

from engine.cli.parser import add_common
from engine.core.jsonio import dumps
from engine.planning.text_report import analysis_lines
from engine.service import build_engine, run_inline

NAME = "analyze"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="profile the repo: files, LOC, modules, churn, complexity")
    add_common(p)
    p.add_argument("--no-cache", action="store_true", help="ignore the cached profile")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    profile = run_inline(build_engine(args.repo, inline=True).analyze(use_cache=not args.no_cache))
    print(dumps(profile) if args.json else "\n".join(analysis_lines(profile)))
    return 0
