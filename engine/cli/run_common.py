"""What the run verbs share: confirmation, run-event progress lines (`engine.core.event_text`)."""

from __future__ import annotations

import argparse
import json
import sys

from engine.core import events as rev
from engine.core.approval import Approver, Decision
from engine.core.errors import UsageError
from engine.core.event_text import PLANNING, event_line
from engine.core.jsonio import to_jsonable


def confirm(question: str, *, yes: bool) -> bool:
    """Ask on a terminal; without one, demand --yes rather than guess."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("this would change worktrees, branches or tmux windows and stdin is not a terminal",
                         hint="pass --yes to go ahead without a prompt")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def approver(args: argparse.Namespace) -> Approver:
    """The CLI's answer to every Decision the engine asks (the Approver port): `--yes`, else
    the decision's question as a prompt on the terminal."""
    def approve(decision: Decision) -> bool:
        return confirm(decision.question + "?", yes=args.yes)
    return approve


def add_jsonl_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jsonl", action="store_true",
                        help="print every event as one JSON line on stdout, as it happens (and nothing else)")


def progress(args: argparse.Namespace) -> rev.Emit:
    """Run-event progress lines on stderr; silent with --json when stderr is not a terminal;
    with --jsonl, each event as one JSON line on stdout (the journal's own shape).
    The planner's stages are `plan`'s to show, not the run verbs'."""
    if getattr(args, "jsonl", False):
        return _json_line
    if args.json and not sys.stderr.isatty():
        return rev.ignore

    def emit(event: rev.Event) -> None:
        if not isinstance(event, _UNPRINTED):
            print(event_line(event), file=sys.stderr, flush=True)

    return emit


def _json_line(event: rev.Event) -> None:
    if not isinstance(event, PLANNING):
        print(json.dumps(to_jsonable(event), ensure_ascii=False), flush=True)


_UNPRINTED = (*PLANNING, rev.SessionProgress)
"""Not a progress line: planning is `plan`'s to show, and a session's progress is the board's
(`status` shows it; `--jsonl` carries every event)."""
