"""`parallel-tui run`: a plan (or quick task list) becomes worktrees, windows and agents."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

from engine.cli.parser import add_common
from engine.cli.plan_cmd import print_warnings
from engine.cli.run_common import confirm, progress
from engine.config import ParallelConfig, load_config
from engine.errors import ExitCode, UsageError
from engine.gitcli import resolve_repo
from engine.journal import open_journal
from engine.jsonio import dumps
from engine.matching import match, task_rows
from engine.models import Plan, SessionState, Subtask
from engine.plan_file import PlanFile, load_plan_file
from engine.planning import revalidate
from engine.report.record import record_estimate
from engine.run_engine import RunRequest, StartedRun, new_run_id, preflight, start_run
from engine.run_lock import held
from engine.run_status import RunStatus, find_run, follow, run_status
from engine.session_status import default_readers
from engine.validation import blocking_error
from engine.worktrees import BRANCH_PREFIX, slugify

NAME = "run"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="start one agent session per subtask (worktree + branch + tmux window)")
    add_common(p)
    p.add_argument("--plan", type=Path, help="a plan file written by `parallel-tui plan -o`")
    p.add_argument("--tasks", help='quick form: comma-separated subtask names, e.g. "api,ui,docs"')
    p.add_argument("--prompt", default="", help="quick form: what every session should do")
    p.add_argument("--agent", help="claude | claude-headless | codex | aider | demo | custom")
    p.add_argument("--yes", action="store_true", help="do not ask before creating anything")
    p.add_argument("--wait", action="store_true", help="follow the sessions until all have ended")
    p.add_argument("--reuse", action="store_true", help="continue on existing branches/worktrees")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    repo = resolve_repo(args.repo)
    config = load_config(repo)
    task, subtasks = _subtasks(args)
    checked = _refuse_overlaps(repo, config, task, subtasks, args)
    request = RunRequest(repo=repo, task=task, subtasks=subtasks, agent=args.agent or config.default_agent,
                         reuse=args.reuse)
    _, planned = preflight(request, config)
    print("\n".join(f"  {p.name}: {p.branch} at {p.worktree} ({p.agent})" for p in planned), file=sys.stderr)
    if not confirm(f"Create {len(planned)} worktrees and sessions?", yes=args.yes):
        print("nothing created", file=sys.stderr)
        return int(ExitCode.FAILURE)
    run_id, readers = new_run_id(), default_readers()
    with open_journal() as journal, held(f"run:{run_id}", f"run {run_id}"):
        started = start_run(request, config, journal, run_id, readers, progress(args))
        record_estimate(journal, run_id, config, checked.estimate, subtasks)
        failed = [s for s in started.sessions if s.phase != "started"]
        if not args.wait:
            _print_started(started, args)
            return int(ExitCode.TMUX) if failed else 0
        print(f"run {run_id}: following {len(started.sessions)} sessions; "
              f"attach with: {started.attach}", file=sys.stderr)
        record = find_run(journal, repo, run_id)
        final = follow(journal, record, readers, progress(args)) or run_status(journal, record, readers)
    _print_final(final, args)
    ok = all(s.state == SessionState.DONE for s in final.sessions)
    return 0 if ok else int(ExitCode.FAILURE)


def _subtasks(args: argparse.Namespace) -> tuple[str, tuple[Subtask, ...]]:
    if bool(args.plan) == bool(args.tasks):
        raise UsageError("give either --plan or --tasks",
                         hint='e.g. run --plan plan.json, or run --tasks "api,ui" --prompt "..."')
    if args.plan:
        loaded = load_plan_file(args.plan)
        if not loaded.subtasks:
            raise UsageError(f"plan file {args.plan} has no subtasks", hint="write a plan with subtasks")
        return loaded.task, loaded.subtasks
    names = [n.strip() for n in args.tasks.split(",") if n.strip()]
    if not names:
        raise UsageError("--tasks names no subtasks", hint='pass names separated by commas: --tasks "a,b"')
    if len(set(names)) != len(names):
        raise UsageError(f"--tasks repeats a name: {args.tasks}", hint="give every subtask its own name")
    prompt = args.prompt
    rows = task_rows()
    quick = (Subtask(name=n, description=f"{prompt}\n\nYour part: {n}" if prompt else n) for n in names)
    return prompt, tuple(dataclasses.replace(s, agent=match(s, rows)) for s in quick)


def _refuse_overlaps(repo: Path, config: ParallelConfig, task: str, subtasks: tuple[Subtask, ...],
                     args: argparse.Namespace) -> Plan:
    """The same check as `plan --validate` (one function), on the subtasks this run would start:
    any problem (a file claimed twice, a path out of the repo, a cycle, over the caps) means
    nothing is started, and every problem is named at once. The checked plan carries the
    run's estimate (the file's, the subtasks' minutes, or the task's scope)."""
    loaded = load_plan_file(args.plan) if args.plan else None
    checked = PlanFile(task=task, subtasks=subtasks, estimate=loaded.estimate if loaded else None,
                       repo_root=None, warnings=loaded.warnings if loaded else ())
    print_warnings(checked.warnings)
    reused = {BRANCH_PREFIX + slug for slug in slugify([s.name for s in subtasks])} if args.reuse else set()
    plan = asyncio.run(revalidate(checked, repo, config, not_counted=reused))
    if error := blocking_error(plan.validation):
        raise error
    return plan


def _print_started(started: StartedRun, args: argparse.Namespace) -> None:
    if args.json:
        print(dumps(started))
        return
    print(f"run {started.run_id}: {len(started.sessions)} sessions in tmux session {started.tmux_session}")
    for s in started.sessions:
        mark = "started" if s.phase == "started" else "FAILED to launch"
        print(f"  {s.name}: {mark} — {s.branch} at {s.worktree}")
    print(f"attach: {started.attach}   status: parallel-tui status --run {started.run_id}")


def _print_final(final: RunStatus, args: argparse.Namespace) -> None:
    if args.json:
        print(dumps(final))
        return
    for s in final.sessions:
        print(f"  {s.name}: {s.state.value} — {s.commits} commit(s), {s.files_changed} file(s) on {s.branch}")
