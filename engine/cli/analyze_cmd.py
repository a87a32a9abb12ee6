"""`parallel-tui analyze`: the repo profile (the spec's `--analyze-repo`).

Scripts and slash commands call a cached `analyze --json` often, so that call prints the cached
entry as it is (`engine.analysis.cache.cached_json`: shape-checked, worktrees read fresh) and
imports neither the models nor the Engine; everything else goes through the Engine. `fast`
recognises that call before argparse is loaded (`engine.cli.main` asks it first).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

NAME = "analyze"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from engine.cli.parser import add_common  # noqa: PLC0415 - `fast` needs no argparse

    p = sub.add_parser(NAME, help="profile the repo: files, LOC, modules, churn, complexity")
    add_common(p)
    p.add_argument("--no-cache", action="store_true", help="ignore the cached profile")
    p.set_defaults(func=run)


def fast(argv: list[str]) -> int | None:
    """`analyze --json [--repo PATH]` answered from the cache without argparse, or None: any
    other words (or a miss) go through the parser and `run`, which behave the same."""
    repo = _plain_json_call(argv)
    if repo is None:
        return None
    from engine.analysis.cache import cached_json  # noqa: PLC0415 - the verb's start-up is measured
    from engine.core.jsonio import dumps  # noqa: PLC0415

    record = cached_json(repo)
    if record is None:
        return None
    print(dumps(record))
    return 0


def _plain_json_call(argv: list[str]) -> str | None:
    """The repo of exactly `analyze --json [--repo P]` (`engine.cli.fast.plain_call`); None for
    anything else (argparse then decides, hit or miss alike: abbreviations, `--`, `--repo
    --json .`, -h...)."""
    from engine.cli.fast import plain_call  # noqa: PLC0415

    found = plain_call(argv, NAME, ("--repo",))
    return None if found is None else found.get("--repo", ".")


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
    """The cache hit as printed JSON records; None on a miss or without a repo."""
    from engine.analysis.cache import cached_json  # noqa: PLC0415

    return cached_json(str(args.repo))
