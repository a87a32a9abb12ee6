"""`parallel-tui analyze`: the repo profile (the spec's `--analyze-repo`)."""

from __future__ import annotations

import argparse

from engine.analysis.profile import analyze_repo
from engine.cli.parser import add_common
from engine.core.config import load_config
from engine.core.jsonio import dumps
from engine.hosts.gitcli import resolve_repo
from engine.planning.text_report import analysis_lines

NAME = "analyze"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="profile the repo: files, LOC, modules, churn, complexity")
    add_common(p)
    p.add_argument("--no-cache", action="store_true", help="ignore the cached profile")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = resolve_repo(args.repo)
    profile = analyze_repo(root, load_config(root), use_cache=not args.no_cache)
    print(dumps(profile) if args.json else "\n".join(analysis_lines(profile)))
    return 0
