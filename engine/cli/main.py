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
from engine.errors import EngineError, ExitCode

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.verb is None:
            parser.print_help()
            return ExitCode.OK
        return int(args.func(args))
    except EngineError as exc:
        print(exc.one_line(), file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted — nothing was left half-done; run the verb again", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.OK)
