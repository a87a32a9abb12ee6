"""`parallel-tui status`: every session's state, progress and boundary warnings."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from engine.cli.parser import add_common, add_run_option
from engine.core.jsonio import dumps
from engine.hosts.gitcli import toplevel_without_git
from engine.hosts.local import LOCAL
from engine.run.status import RunStatus
from engine.service import Engine, build_engine, run_inline

NAME = "status"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="what each session of a run is doing (journal + tmux + git)")
    add_common(p)
    add_run_option(p)
    p.add_argument("--list", action="store_true", help="list the repo's runs, newest first")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list(args)
    status = run_inline(_engine(args).status(args.run_id))
    print(dumps(status) if args.json else "\n".join(status_lines(status)))
    return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    run_id: str
    created_at: float
    agent: str
    task: str
    sessions: tuple[str, ...]


def _list(args: argparse.Namespace) -> int:
    engine = _engine(args)
    repo = engine.repo
    runs = [RunSummary(run_id=r.id, created_at=r.created_at, agent=r.agent, task=r.task,
                       sessions=tuple(s.name for s in sessions))
            for r, sessions in run_inline(engine.runs())]
    if args.json:
        print(dumps(runs))
        return 0
    if not runs:
        print(f"no runs for {repo}")
    for r in runs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at))
        print(f"{r.run_id}  {when}  {r.agent:<16} {', '.join(r.sessions)}")
    return 0


def _engine(args: argparse.Namespace) -> Engine:
    """A run id names its run wherever the command runs; without one, the repo must resolve:
    by its `.git`, with no git process while a supervisor observes the run (git only when that
    cannot tell, and for its error: without git on PATH, that error is the one to show)."""
    resolve = args.list or not args.run_id
    top = toplevel_without_git(Path(args.repo)) if resolve and LOCAL.which("git") else None
    if top is not None:
        return build_engine(top, inline=True, resolve=False)
    return build_engine(Path(args.repo), inline=True, resolve=resolve)


def status_lines(status: RunStatus) -> list[str]:
    lines = [f"run {status.run_id} on {status.repo} from {status.base_ref} "
             f"({status.base_sha[:10]}); orchestrator {status.orchestrator}; attach: {status.attach}"]
    if status.sandbox:
        lines.append(f"  shell: {status.sandbox}")
    if status.observed_by == "status":
        lines.append("  (observed without a supervisor)")
    for s in status.sessions:
        cost = f" ${s.cost_usd:.2f}" if s.cost_usd is not None else ""
        cost += f" {s.tokens:,} tokens" if s.tokens is not None else ""
        where = "" if s.host == "local" else f" on {s.host}"
        lines.append(f"  {s.name:<20} {s.state.value:<12} {s.elapsed_s:>7.1f}s {s.commits} commit(s) "
                     f"{s.files_changed} file(s){cost}  {s.branch}{where}")
        if s.problem:
            lines.append(f"    ! {s.problem}")
        if s.last_line:
            lines.append(f"    > {s.last_line}")
    lines += [f"  ! {o.session}: {o.file} {o.reason}" for o in status.overlaps]
    lines += [f"  ✗ {' and '.join(c.sessions)} conflict now in {', '.join(c.files)} (overlap radar)"
              for c in status.conflicts]
    return lines
