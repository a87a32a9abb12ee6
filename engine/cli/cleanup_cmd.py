"""`parallel-tui cleanup`: remove windows and worktrees runs left; keep unmerged work."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TextIO

from engine.cli.interrupts import name_of, sigterm_as_interrupt
from engine.cli.parser import add_common
from engine.cli.run_common import add_run_option, confirm, progress
from engine.core import events as rev
from engine.core.errors import ExitCode
from engine.core.jsonio import dumps
from engine.hosts.gitcli import resolve_repo
from engine.run.cleanup import Leftover, apply_cleanup, find_leftovers
from engine.run.journal import Journal, RunRecord, open_journal
from engine.run.lock import LockedError
from engine.run.status import find_run
from engine.run.worktrees import branch_exists

NAME = "cleanup"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="remove the worktrees and windows of finished runs")
    add_common(p)
    add_run_option(p)
    p.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    p.add_argument("--force", action="store_true",
                   help="also delete unmerged branches (backup ref kept) and dirty worktrees")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_journal() as journal:
        runs = _runs(journal, args)
        leftovers = find_leftovers(journal, runs, args.force)
        if args.dry_run or not leftovers:
            if not args.dry_run:  # nothing exists: only the journal learns the sessions are gone
                with contextlib.suppress(LockedError):  # a live orchestrator still owns it
                    apply_cleanup(journal, runs, [])
            _report(leftovers, args, done=False)
            return 0
        _report(leftovers, args, done=False, stream=sys.stderr)
        if not confirm(f"Clean up {len(leftovers)} item(s)?", yes=args.yes):
            print("nothing removed", file=sys.stderr)
            return int(ExitCode.FAILURE)
        removed: list[rev.RunEvent] = []
        shown = progress(args)

        def emit(event: rev.RunEvent) -> None:
            removed.append(event)
            shown(event)

        try:
            with sigterm_as_interrupt():
                result = apply_cleanup(journal, runs, leftovers, emit, force=args.force)
        except KeyboardInterrupt as exc:
            print(f"error: cleanup interrupted ({name_of(exc)}) — {len(removed)} of {len(leftovers)} item(s) "
                  "removed, the rest are as they were; run `parallel-tui cleanup` again to finish",
                  file=sys.stderr)
            return int(ExitCode.INTERRUPTED)
    if args.json:
        _report(leftovers, args, done=True)
    else:
        print(f"cleaned up: {result.removed} removed, {result.kept} kept")
    return 0


def _runs(journal: Journal, args: argparse.Namespace) -> list[RunRecord]:
    if args.run_id:
        return [find_run(journal, Path(args.repo), args.run_id)]
    repo = resolve_repo(Path(args.repo))
    return [r for r in journal.runs(str(repo))
            if any(s.phase != "cleaned" or branch_exists(repo, s.branch) for s in journal.sessions(r.id))]


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
