"""argparse with one-line errors and the options every verb shares."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from engine.core.errors import UsageError


class OneLineParser(argparse.ArgumentParser):
    """Turn argparse's usage dump into a UsageError: one line, the fix named."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see `{self.prog} --help`")


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", type=Path, default=Path(),
                        help="the git repository (default: the current directory's)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of minutes")
    return value
