"""`attach`, `send` and `stop`: acting on one session of a run, by name."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from engine.cli.parser import add_common, add_run_option
from engine.core.approval import approve_all
from engine.core.errors import TmuxError
from engine.core.jsonio import dumps
from engine.run.control import check_send_text
from engine.service import Engine, build_engine, run_inline

Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True, slots=True)
class Verb:
    """A verb as `engine.cli.main.COMMANDS` expects: NAME, add_parser, run."""

    NAME: str
    add_parser: Callable[..., None]
    """Takes the subparsers action (argparse's generic is invariant in the parser class)."""
    run: Callable[[argparse.Namespace], int]


def _engine(args: argparse.Namespace) -> Engine:
    """A run id names its run wherever the command runs; without one, the repo must resolve."""
    return build_engine(Path(args.repo), inline=True, resolve=not args.run_id)


def _add(name: str, help_text: str, func: Callable[[argparse.Namespace], int],
         extra: Callable[[argparse.ArgumentParser], object]) -> Callable[[Sub], None]:
    def add_parser(sub: Sub) -> None:
        p = sub.add_parser(name, help=help_text)
        add_common(p)
        add_run_option(p)
        p.add_argument("name", help="the session's subtask name (or slug)")
        extra(p)
        p.set_defaults(func=func)
    return add_parser


def _attach(args: argparse.Namespace) -> int:
    """The engine's rule (`engine.run.attach`), as the app uses it: inside your tmux a popup
    (or, before tmux 3.2, a switch of your client), else the terminal handed to tmux."""
    engine = _engine(args)
    _, window = run_inline(engine.window(args.name, run_id=args.run_id))
    plan = run_inline(engine.attach_plan(args.name, run_id=args.run_id))
    if args.json or not sys.stdout.isatty():
        print(dumps({"window": window, "command": shlex.join(plan.argv), "how": plan.how, "back": plan.back})
              if args.json else shlex.join(plan.argv))
        return 0
    print(plan.back, file=sys.stderr)
    if plan.takes_terminal:
        engine.host.exec(list(plan.argv))  # an argv list, no shell; on the host the sessions live on
    why = run_inline(engine.show_window(plan))
    if why:
        raise TmuxError(f"tmux could not show {plan.session}: {why}", hint="check `tmux ls` and try again")
    return 0


def _send_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text")
    parser.add_argument("--raw", action="store_true",
                        help="also send control characters (Ctrl-C, Escape...) as keystrokes")


def _send(args: argparse.Namespace) -> int:
    check_send_text(args.text, raw=args.raw)  # before any journal or tmux is touched
    name = run_inline(_engine(args).send(args.name, args.text, args.raw, run_id=args.run_id))
    print(dumps({"sent": name}) if args.json else f"sent to {name}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    """The command names the session: typing it is the decision (the app asks in a modal)."""
    name = run_inline(_engine(args).stop(args.name, run_id=args.run_id, approve=approve_all))
    print(dumps({"stopped": name}) if args.json else f"stopped {name}")
    return 0


ATTACH = Verb("attach", _add("attach", "attach the terminal to a session's tmux window", _attach,
                             lambda p: None), _attach)
SEND = Verb("send", _add("send", "type text into a session (literally, then Enter)", _send,
                         _send_options), _send)
STOP = Verb("stop", _add("stop", "stop a session's agent (Ctrl-C, then SIGTERM)", _stop,
                         lambda p: None), _stop)
