"""Dispatch a verb, map EngineErrors to one line on stderr and their exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.cli import (
    analyze_cmd,
    check_cmd,
    cleanup_cmd,
    install_claude_cmd,
    merge_cmd,
    plan_cmd,
    report_cmd,
    run_cmd,
    session_cmds,
    status_cmd,
    table_cmd,
)
from engine.cli.parser import OneLineParser
from engine.core.crash import crash_line
from engine.core.errors import EngineError, ExitCode

COMMANDS = (analyze_cmd, table_cmd, plan_cmd, run_cmd, status_cmd, session_cmds.ATTACH,
            session_cmds.SEND, session_cmds.STOP, check_cmd, merge_cmd, report_cmd.REPORT_VERB,
            report_cmd.HISTORY_VERB, cleanup_cmd, install_claude_cmd)
VERBS = tuple(c.NAME for c in COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="parallel-tui",
        description="Run AI coding-agent sessions in parallel on one repo. "
                    "With no verb, opens the terminal UI.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=OneLineParser)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


INTERRUPTED = ("error: interrupted — `parallel-tui status` shows what was left; "
               "`parallel-tui cleanup` removes what holds no work")
"""True whenever it is printed: it claims nothing about what the interrupted verb had done."""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args)
    except EngineError as exc:
        print(exc.one_line(), file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # noqa: BLE001 - the last resort: one line and a crash log, never a traceback
        print(crash_line(exc, f"running `parallel-tui {_verb(args)}`"), file=sys.stderr)
        return int(ExitCode.INTERNAL)


def _dispatch(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.print_help()
        return ExitCode.OK
    return int(args.func(args))


def _verb(argv: list[str]) -> str:
    return next((a for a in argv if a in VERBS), "")
