"""`parallel-tui analyze`: the repo profile (the spec's `--analyze-repo`).

Scripts and slash commands call a cached `analyze --json` often, so that call prints the cached
entry as it is (`engine.analysis.cache.hit`: shape-checked, worktrees read fresh) and imports
neither the models nor the Engine; everything else goes through the Engine.
"""

from __future__ import annotations

import argparse

from engine.cli.parser import add_common

NAME = "analyze"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="profile the repo: files, LOC, modules, churn, complexity")
    add_common(p)
    p.add_argument("--no-cache", action="store_true", help="ignore the cached profile")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.core.jsonio import dumps  # noqa: PLC0415 - the verb's start-up is measured

    if args.json and not args.no_cache and (record := _cached(args)) is not None:
        print(dumps(record))
        return 0
    from engine.planning.text_report import analysis_lines  # noqa: PLC0415
    from engine.service import build_engine, run_inline  # noqa: PLC0415

    profile = run_inline(build_engine(args.repo, inline=True).analyze(use_cache=not args.no_cache))
    print(dumps(profile) if args.json else "\n".join(analysis_lines(profile)))
    return 0


def _cached(args: argparse.Namespace) -> object:
    """The cache hit as printed JSON records, the config loaded as `build_engine` loads it (same
    errors); None on a miss, or when git finds no repo with a commit (the Engine says why)."""
    from engine.analysis.cache import hit, root_and_head  # noqa: PLC0415
    from engine.core.config import load_config  # noqa: PLC0415

    found = root_and_head(args.repo)
    if found is None:
        return None
    root, head = found
    config = load_config(root)
    return hit(root, head, config.churn_days, config.min_files_per_subtask)
