"""`parallel-tui cleanup`: remove windows and worktrees runs left; keep unmerged work."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO, cast

from engine.cli.interrupts import name_of, sigterm_as_interrupt
from engine.cli.parser import add_common, add_run_option
from engine.cli.run_common import approver, progress
from engine.core import events as rev
from engine.core.approval import Decision
from engine.core.errors import ExitCode
from engine.core.jsonio import dumps
from engine.run.cleanup import Leftover
from engine.run.orphans import Orphans
from engine.service import CleanupOutcome, build_engine, run_inline

NAME = "cleanup"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="remove the worktrees and windows of finished runs")
    add_common(p)
    add_run_option(p)
    p.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    p.add_argument("--force", action="store_true",
                   help="also delete unmerged branches (backup ref kept) and dirty worktrees")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.add_argument("--orphans", action="store_true",
                   help="find worktrees, branches and windows of runs the journal lost, and adopt them "
                        "into a recovered run that cleanup and merge then handle")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.orphans:
        return _orphans(args)
    engine = build_engine(Path(args.repo), inline=True, resolve=not args.run_id)
    asked: list[int] = []
    removed: list[rev.Event] = []
    shown = progress(args)

    def ask(decision: Decision) -> bool:
        leftovers = cast("tuple[Leftover, ...]", decision.subject)
        asked.append(len(leftovers))
        _report(list(leftovers), args, done=False, stream=sys.stderr)
        return approver(args)(decision)

    def emit(event: rev.Event) -> None:
        if isinstance(event, rev.LeftoverRemoved):
            removed.append(event)
        shown(event)

    engine.subscribe(emit)
    try:
        with sigterm_as_interrupt():
            outcome = run_inline(engine.cleanup(args.run_id, force=args.force, dry_run=args.dry_run,
                                                approve=ask))
    except KeyboardInterrupt as exc:
        if not asked:
            raise
        print(f"error: cleanup interrupted ({name_of(exc)}) — {len(removed)} of {asked[0]} item(s) "
              "removed, the rest are as they were; run `parallel-tui cleanup` again to finish",
              file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    return _finish(outcome, args)


def _finish(outcome: CleanupOutcome, args: argparse.Namespace) -> int:
    if outcome.declined:
        print("nothing removed", file=sys.stderr)
        return int(ExitCode.FAILURE)
    if outcome.result is None:
        _report(list(outcome.leftovers), args, done=False)
    elif args.json:
        _report(list(outcome.leftovers), args, done=True)
    else:
        print(f"cleaned up: {outcome.result.removed} removed, {outcome.result.kept} kept")
    failed = outcome.result.failed if outcome.result else ()
    if failed:
        print(f"error: {len(failed)} item(s) could not be removed and are kept: {', '.join(failed)} — "
              "see `git worktree list` and `git branch`, then run `parallel-tui cleanup` again",
              file=sys.stderr)
        return int(ExitCode.FAILURE)
    return 0


def _orphans(args: argparse.Namespace) -> int:
    engine = build_engine(Path(args.repo), inline=True)

    def ask(decision: Decision) -> bool:
        _show_orphans(cast("Orphans", decision.subject), sys.stderr)
        return approver(args)(decision)

    outcome = run_inline(engine.orphans(None if args.dry_run else ask))
    if args.json:
        print(dumps(outcome))
    elif not outcome.orphans.found:
        print("no orphans: every worktree, branch and window of parallel-tui here is in the journal")
    elif args.dry_run:
        _show_orphans(outcome.orphans, sys.stdout)
    elif outcome.run_id:
        print(f"adopted {len(outcome.orphans.found)} orphan(s) into run {outcome.run_id}: "
              f"`parallel-tui cleanup --run {outcome.run_id}` removes what holds no work and keeps the rest; "
              "`parallel-tui merge` can take their branches")
    if outcome.declined:
        print("nothing adopted", file=sys.stderr)
        return int(ExitCode.FAILURE)
    return 0


def _show_orphans(found: Orphans, out: TextIO) -> None:
    for o in found.found:
        parts = []
        if o.branch:
            parts.append(f"branch {o.branch} ({o.unmerged} commit(s) not in {found.base_ref})")
        if o.worktree:
            parts.append(f"worktree {o.worktree} ({_WORK.get(o.work, o.work)})")
        if o.window_id:
            parts.append(f"window {o.window_id} in {found.tmux_session}")
        print(f"  orphan {o.slug}: {'; '.join(parts)}", file=out)


_WORK = {"nothing": "no uncommitted edits", "changes": "uncommitted edits",
         "unknown": "git cannot read it: kept as unknown"}


def _report(leftovers: list[Leftover], args: argparse.Namespace, *, done: bool,
            stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    if args.json and stream is None:
        print(dumps({"done": done, "leftovers": leftovers}), file=out)
        return
    if not leftovers:
        print("nothing to clean up", file=out)
        return
    for item in leftovers:
        why = f" ({item.reason})" if item.reason else ""
        print(f"  {item.action:<14} {item.kind:<8} {item.target}{why}", file=out)
