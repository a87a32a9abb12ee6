"""What `check` and `merge` share: naming branches the same ways, and showing a check."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from engine.cli.parser import add_run_option
from engine.merge.checked import Which

if TYPE_CHECKING:
    from engine.merge.check import CheckReport

MAX_HUNKS_SHOWN = 3


def add_branch_options(p: argparse.ArgumentParser) -> None:
    add_run_option(p)
    p.add_argument("names", nargs="*", metavar="BRANCH", help="branches (or subtask slugs) to take")
    p.add_argument("--branches", default="", help="the same, comma-separated: a,b")
    p.add_argument("--into", metavar="BRANCH", help="the target (default: the branch the run started from)")


def which(args: argparse.Namespace, skip: tuple[str, ...] = ()) -> Which:
    names = (*args.names, *(n.strip() for n in args.branches.split(",") if n.strip()))
    return Which(run_id=args.run_id, names=tuple(dict.fromkeys(names)), into=args.into, skip=skip)


def print_check(report: CheckReport, out: TextIO, skipped: tuple[str, ...] = ()) -> None:
    """Branches against the target, the pairs that share files, the order and the risk."""
    print(f"into {report.target} ({report.target_sha[:10]})", file=out)
    for b in report.branches:
        state = f"CONFLICTS: {', '.join(c.file for c in b.conflicts_with_target)}" \
            if b.conflicts_with_target else "clean"
        flags = f"  [{'; '.join(b.flags)}]" if b.flags else ""
        print(f"  {b.name}: {b.commits} commit(s), {len(b.files_changed)} file(s), {state}{flags}", file=out)
    for name in skipped:
        print(f"  {name}: skipped", file=out)
    for p in report.pairs:
        if p.overlapping_files or p.conflicts:
            kind = "CONFLICT" if p.conflicts else "overlap (merges cleanly)"
            print(f"  {p.a} × {p.b}: {kind} in {', '.join(p.conflicting_files or p.overlapping_files)}",
                  file=out)
    _print_hunks(report, out)
    print(f"order: {' → '.join(report.merge_order) or 'nothing to merge'}"
          + (f"   blocked: {', '.join(report.blocked)}" if report.blocked else ""), file=out)
    print(f"conflict risk: {report.conflict_risk.value} — {report.risk_reason}", file=out)


def _print_hunks(report: CheckReport, out: TextIO) -> None:
    conflicts = [(f"{b.name} × {report.target}", c) for b in report.branches for c in b.conflicts_with_target]
    conflicts += [(f"{p.a} × {p.b}", c) for p in report.pairs for c in p.conflicts]
    for where, c in conflicts:
        print(f"  ── {c.file} ({c.type}) in {where}: {c.message}", file=out)
        for hunk in c.hunks[:MAX_HUNKS_SHOWN]:
            print("\n".join(f"     {line}" for line in hunk.splitlines()), file=out)
