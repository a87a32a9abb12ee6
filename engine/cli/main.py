"""Dispatch a verb, map EngineErrors to one line on stderr and their exit code.

Only the verb being run is imported: `VERB_TABLE` names every verb with its help line and
where it lives, so `--help` lists them all without loading libtmux, asyncio or the models
(`bench/startup.py` measures it; tests/test_startup.py keeps the table true to the modules).
A cached `analyze --json` is answered before argparse is even imported (`analyze_cmd.fast`), and
so is `status --json` while a supervisor keeps its run's snapshot (`engine.cli.fast.status`).
"""

from __future__ import annotations

import gc
import sys

from engine.core.errors import EngineError, ExitCode

TYPE_CHECKING = False  # typing and argparse cost the cached `analyze --json` ~5 ms: loaded when used
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any


class VerbEntry:
    """A verb by name: its `--help` line, and the module (and attribute) that builds it;
    `attr` names a `Verb` object in `module`, empty when the module has `add_parser` itself.
    A plain class: `dataclasses` would cost `--help` a fifth of its import time."""

    __slots__ = ("attr", "help", "module", "name")

    def __init__(self, name: str, help_text: str, module: str, attr: str = "") -> None:
        self.name, self.help, self.module, self.attr = name, help_text, module, attr

    def add_to(self, sub: argparse._SubParsersAction[Any]) -> None:
        """Import the verb's module and add its full parser (options, `func`) to `sub`."""
        import importlib  # noqa: PLC0415

        module = importlib.import_module(self.module)
        owner: Any = getattr(module, self.attr) if self.attr else module
        owner.add_parser(sub)


_CLI = "engine.cli."
VERB_TABLE = (
    VerbEntry("analyze", "profile the repo: files, LOC, modules, churn, complexity", _CLI + "analyze_cmd"),
    VerbEntry("table", "overhead, total and savings for 1..10 splits", _CLI + "table_cmd"),
    VerbEntry("plan", "split a task into validated, agent-matched subtasks", _CLI + "plan_cmd"),
    VerbEntry("run", "start one agent session per subtask (worktree + branch + tmux window)",
              _CLI + "run_cmd"),
    VerbEntry("status", "what each session of a run is doing (journal + tmux + git)", _CLI + "status_cmd"),
    VerbEntry("attach", "attach the terminal to a session's tmux window", _CLI + "session_cmds", "ATTACH"),
    VerbEntry("send", "type text into a session (literally, then Enter)", _CLI + "session_cmds", "SEND"),
    VerbEntry("stop", "stop a session's agent (Ctrl-C, then SIGTERM)", _CLI + "session_cmds", "STOP"),
    VerbEntry("check", "check branches for conflicts with the target and each other", _CLI + "check_cmd"),
    VerbEntry("merge", "merge branches into the target atomically, after a check and verify",
              _CLI + "merge_cmd"),
    VerbEntry("report", "a run's efficiency: predicted vs measured, per stage", _CLI + "report_cmd",
              "REPORT_VERB"),
    VerbEntry("history", "this repo's past runs: predicted vs actual, outcome", _CLI + "report_cmd",
              "HISTORY_VERB"),
    VerbEntry("cleanup", "remove the worktrees and windows of finished runs", _CLI + "cleanup_cmd"),
    VerbEntry("hosts", "the machines sessions may run on: `hosts check [NAME]`, `hosts fetch`",
              _CLI + "hosts_cmd"),
    VerbEntry("install-claude", "write the /parallel and /orchestrate commands and the specialist "
              "agents into the repo's .claude/",
              _CLI + "install_claude_cmd"),
)
VERBS = tuple(v.name for v in VERB_TABLE)


def build_parser(full: Iterable[str] = VERBS, *, listed: bool = True) -> argparse.ArgumentParser:
    """The CLI's parser: the verbs in `full` with their options (their modules imported); with
    `listed`, every other verb as a name and a help line, which is all `--help` shows."""
    from engine.cli.parser import OneLineParser, VerbParser  # noqa: PLC0415 - argparse, when parsing

    parser = OneLineParser(
        prog="parallel-tui",
        description="Run AI coding-agent sessions in parallel on one repo. "
                    "With no verb, opens the terminal UI.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=VerbParser)
    wanted = set(full)
    for entry in VERB_TABLE:
        if entry.name in wanted:
            entry.add_to(sub)
        elif listed:
            sub.add_parser(entry.name, help=entry.help, listed=True)
    return parser


INTERRUPTED = ("error: interrupted — `parallel-tui status` shows what was left; "
               "`parallel-tui cleanup` removes what holds no work")
"""True whenever it is printed: it claims nothing about what the interrupted verb had done."""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return guarded(lambda: _dispatch(args), f"running `parallel-tui {_verb(args)}`")


def guarded(face: Callable[[], int], doing: str) -> int:
    """Run a face (a verb, or the app) to its exit code; every way out is one line on stderr:
    an EngineError's own line and code, an interrupt's, and anything else a crash line (the
    traceback in a crash log, `doing` naming what ran). The one top-level handler."""
    try:
        return face()
    except EngineError as exc:
        print(exc.one_line(), file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # noqa: BLE001 - the last resort: one line and a crash log, never a traceback
        from engine.core.crash import crash_line  # noqa: PLC0415 - only when something broke

        print(crash_line(exc, doing), file=sys.stderr)
        return int(ExitCode.INTERNAL)


def _dispatch(argv: list[str]) -> int:
    if argv[:1] == ["status"]:
        from engine.cli.fast import status  # noqa: PLC0415

        if (code := status(argv)) is not None:
            return code
    if argv[:1] == ["analyze"]:
        from engine.cli.analyze_cmd import fast  # noqa: PLC0415

        if (code := fast(argv)) is not None:
            return code
    verb = _verb(argv)  # the first verb name is the verb: the top level takes no other words
    gc.disable()  # loading the verb's modules allocates what lives to the end: nothing to collect
    try:
        parser = build_parser(full=(verb,), listed=not verb)
        args = parser.parse_args(argv)
    finally:
        gc.freeze()  # and later collections skip it: ~8 % of `check`'s CPU (bench/check.py)
        gc.enable()
    if args.verb is None:
        parser.print_help()
        return ExitCode.OK
    return int(args.func(args))


def _verb(argv: list[str]) -> str:
    return next((a for a in argv if a in VERBS), "")
