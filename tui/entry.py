"""The `parallel-tui` console script: a verb runs headless, no verb opens the app.

Textual is imported only on the no-verb path, so `parallel-tui plan --json` never pays for
it (and never needs a terminal).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # a cached `analyze --json` starts here: no typing, no pathlib
if TYPE_CHECKING:
    from argparse import ArgumentParser
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from engine.cli.main import VERBS
    from engine.cli.main import main as cli_main

    if any(a in VERBS for a in args[:1]):
        return cli_main(args)
    if any(a in ("-h", "--help") for a in args):  # the verbs, then the app's own flags
        from engine.cli.main import build_parser

        build_parser(full=()).print_help()
        print("\n" + _app_parser().format_help(), end="")
        return 0
    if "--version" in args:
        from importlib.metadata import version

        print(f"parallel-tui {version('parallel-tui')}")
        return 0
    return _launch(args)


def _launch(args: list[str]) -> int:
    """Open the app; every way out is one line on stderr (the CLI's one handler, and exit codes)."""
    from engine.cli.main import guarded

    return guarded(lambda: _open_app(args), "running the terminal UI")


def _app_parser() -> ArgumentParser:
    """The app's own flags (no verb): `[--repo PATH] [--agent NAME] [--planner …] [--demo]`."""
    from pathlib import Path

    from engine.cli.parser import OneLineParser
    from engine.core.planner_names import PLANNERS

    parser = OneLineParser(prog="parallel-tui", usage="parallel-tui [--repo PATH] [--agent NAME] "
                           "[--planner {auto,claude,claude-code,offline}] [--demo] [--version]",
                           description="With no verb: open the terminal UI on a repo.", add_help=False)
    parser.add_argument("--repo", type=Path, default=Path(), help="the git repo to work on (default: here)")
    parser.add_argument("--agent", help="claude | claude-headless | codex | codex-headless | gemini | "
                                        "gemini-headless | demo | custom")
    parser.add_argument("--planner", choices=PLANNERS, default="auto",
                        help="who splits the task (auto: the API with a key, else your logged-in Claude "
                             "Code, else offline)")
    parser.add_argument("--demo", action="store_true",
                        help="the demo repo (kept in the state dir and reopened), the offline planner and "
                             "the demo agent")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def _open_app(args: list[str]) -> int:
    from engine.core.errors import ExitCode
    from engine.service import build_engine
    from tui.app import ParallelApp

    opts = _app_parser().parse_args(args)
    if opts.demo:
        from engine.agents.demo_repo import DEMO_TASK, demo_repo

        repo = demo_repo()
        engine = build_engine(repo, planner="offline", agent=opts.agent or "demo")
        app = ParallelApp(engine, planner="offline", label=f"demo {repo.name}", task=DEMO_TASK)
    else:
        engine = build_engine(opts.repo, planner=opts.planner, agent=opts.agent)
        app = ParallelApp(engine, planner=opts.planner)
    app.run()
    if app.crash:  # an error inside the app, already in a crash log
        print(app.crash, file=sys.stderr)
        return int(ExitCode.INTERNAL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
