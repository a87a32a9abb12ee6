"""argparse with one-line errors and the options verbs share (`--repo`, `--json`, `--run`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from engine.core.errors import UsageError


class OneLineParser(argparse.ArgumentParser):
    """Turn argparse's usage dump into a UsageError: one line, the fix named."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see `{self.prog} --help`")


class VerbParser(OneLineParser):
    """A verb's parser. One that is only `listed` never parses (the verb being run is built in
    full), so it skips ArgumentParser's set-up, whose gettext look-ups cost `--help` ~1 ms a verb."""

    def __init__(self, *, listed: bool = False, **kwargs: Any) -> None:
        if not listed:
            super().__init__(**kwargs)


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", type=Path, default=Path(),
                        help="the git repository (default: the current directory's)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def add_run_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", dest="run_id", metavar="ID", help="a run id (default: the repo's latest)")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of minutes")
    return value
