"""The `parallel-tui` console script: a verb runs headless, no verb opens the app.

Textual is imported only on the no-verb path, so `parallel-tui plan --json` never pays for
it (and never needs a terminal).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from engine.cli.main import VERBS
    from engine.cli.main import main as cli_main

    if any(a in VERBS for a in args[:1]) or any(a in ("-h", "--help") for a in args):
        return cli_main(args)
    return _launch(args)


def _launch(args: list[str]) -> int:
    """Open the app on `--repo PATH` (default: the current directory)."""
    from engine.cli.parser import OneLineParser
    from engine.errors import EngineError
    from engine.gitcli import resolve_repo

    parser = OneLineParser(prog="parallel-tui")
    parser.add_argument("--repo", type=Path, default=Path())
    try:
        repo = resolve_repo(parser.parse_args(args).repo)
    except EngineError as exc:
        print(exc.one_line(), file=sys.stderr)
        return int(exc.exit_code)
    from engine.crash import crash_line
    from engine.errors import ExitCode
    from tui.app import ParallelApp

    app = ParallelApp(repo=repo)
    try:
        app.run()
    except Exception as exc:  # noqa: BLE001 - the last resort outside the event loop (driver, terminal)
        app.crash = crash_line(exc, "running the terminal UI")
    if app.crash:
        print(app.crash, file=sys.stderr)
        return int(ExitCode.INTERNAL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
