"""`parallel-tui merge`: verified, atomic merge of a run's branches into its target."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.interrupts import sigterm_as_interrupt
from engine.cli.merge_args import add_branch_options, print_check, which
from engine.cli.parser import add_common
from engine.cli.run_common import approver, progress
from engine.core.config import with_flags
from engine.core.errors import ExitCode
from engine.core.jsonio import dumps
from engine.merge.apply import VerifyFailed
from engine.merge.flow import MergeRefused, MergeSummary, Which
from engine.service import Engine, build_engine, run_inline

NAME = "merge"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="merge branches into the target atomically, after a check and verify")
    add_common(p)
    add_branch_options(p)
    p.add_argument("--verify", metavar="CMD", help="run on the merged result first (default: test_command)")
    p.add_argument("--no-verify", action="store_true", help="do not run the verify command")
    p.add_argument("--verify-timeout", metavar="SECONDS",
                   help="end the verify command (and all it started) after this long "
                        "(default: verify_timeout, 3600)")
    p.add_argument("--skip", action="append", default=[], metavar="NAME", help="leave this branch out")
    p.add_argument("--dry-run", action="store_true", help="check and build the merge, move nothing")
    p.add_argument("--pr", action="store_true", help="push the branches and open one PR each (gh)")
    p.add_argument("--direct", action="store_true", help="merge here even when merge_strategy = pr")
    p.add_argument("--resolve", metavar="NAME",
                   help="merge the target-so-far into NAME's worktree; its agent resolves the conflicts")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    engine = build_engine(Path(args.repo), inline=True)
    if args.verify_timeout is not None:
        engine.config = with_flags(engine.config, {"verify_timeout": args.verify_timeout})
    config = engine.config
    verify = "" if args.no_verify else (args.verify if args.verify is not None else config.test_command)
    chosen = which(args, tuple(args.skip))
    if args.resolve:
        return _resolve(engine, chosen, args)
    if args.pr or (config.merge_strategy == "pr" and not args.direct and not args.dry_run):
        return _prs(engine, chosen, args)
    engine.subscribe(progress(args))  # a line per stage on stderr as it happens
    try:
        with sigterm_as_interrupt():  # SIGTERM unwinds like Ctrl-C: the verify's group and worktree go
            summary = run_inline(engine.merge(chosen, verify=verify, dry_run=args.dry_run,
                                              approve=approver(args)))
    except VerifyFailed as exc:
        print(exc.result.tail, file=sys.stderr)
        raise
    except MergeRefused as exc:
        if not args.json:  # show what conflicts, with its hunks, before the one-line error
            print_check(exc.report, sys.stderr)
        raise
    if summary is None:
        print("nothing merged", file=sys.stderr)
        return int(ExitCode.FAILURE)
    _print(summary, args)
    return 0


def _resolve(engine: Engine, chosen: Which, args: argparse.Namespace) -> int:
    started = run_inline(engine.resolve(args.resolve, chosen))
    if args.json:
        print(dumps(started))
    else:
        print(f"{started.session}: {len(started.files)} conflicting file(s) ({', '.join(started.files)}) "
              f"left with markers in {started.worktree}; the prompt ({started.prompt_file}) was "
              f"{started.how}. When it has committed, run `parallel-tui merge` again.")
    return 0


def _prs(engine: Engine, chosen: Which, args: argparse.Namespace) -> int:
    try:
        done = run_inline(engine.open_prs(chosen, approve=approver(args)))
    except MergeRefused as exc:
        if not args.json:
            print_check(exc.report, sys.stderr)
        raise
    if done is None:
        print("nothing pushed", file=sys.stderr)
        return int(ExitCode.FAILURE)
    checked, opened = done
    if args.json:
        print(dumps({"check": checked.report, "pull_requests": opened}))
    else:
        for pr in opened:
            print(f"opened a pull request for {pr.branch} onto {pr.base}: {pr.url}")
    return 0


def _print(summary: MergeSummary, args: argparse.Namespace) -> None:
    if args.json:
        print(dumps(summary))
        return
    outcome = summary.outcome
    print_check(summary.checked.report, sys.stdout, summary.checked.skipped)
    if outcome.verify:
        print(f"verify `{outcome.verify.command}` passed in {outcome.verify.seconds:.1f}s")
    if not outcome.moved:
        print(f"{outcome.how}: {outcome.target} would move {outcome.old_sha[:10]} → {outcome.new_sha[:10]} "
              f"merging {', '.join(outcome.merged)}")
        print(outcome.diffstat)
        return
    print(f"merged {', '.join(outcome.merged)} into {outcome.target}: "
          f"{outcome.old_sha[:10]} → {outcome.new_sha[:10]} ({outcome.how}) in {summary.seconds:.1f}s")
    for item in summary.cleaned:
        why = f" ({item.reason})" if item.reason else ""
        print(f"  {item.action:<14} {item.kind:<8} {item.target}{why}")
