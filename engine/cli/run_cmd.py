"""`parallel-tui run`: a plan (or quick task list) becomes worktrees, windows and agents.

`run --resume ID` continues a run that was interrupted (Ctrl-C, SIGTERM, kill -9, a failed
setup): half-made worktrees are finished, sessions never started are launched, the rest is
left alone. An interrupt while creating says what was left and how to go on, never that
nothing was.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

from engine.cli.interrupts import name_of, sigterm_as_interrupt
from engine.cli.parser import add_common
from engine.cli.plan_cmd import print_warnings
from engine.cli.run_common import confirm, progress
from engine.core.config import ParallelConfig, load_config
from engine.core.errors import EngineError, ExitCode, UsageError
from engine.core.jsonio import dumps
from engine.core.models import Plan, SessionState, Subtask
from engine.hosts.gitcli import resolve_repo
from engine.planning.matching import match, task_rows
from engine.planning.pipeline import revalidate
from engine.planning.plan_file import PlanFile, load_plan_file
from engine.planning.validation import blocking_error
from engine.report.calibration import model_for
from engine.report.record import record_estimate
from engine.run.cleanup import left_behind
from engine.run.journal import Journal, RunRecord, open_journal
from engine.run.lock import held
from engine.run.orchestrator import RunRequest, StartedRun, new_run_id, preflight, resume_run, start_run
from engine.run.session_status import StatusReaders, default_readers
from engine.run.status import RunStatus, find_run, follow, run_status
from engine.run.worktrees import BRANCH_PREFIX, slugify

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
    p.add_argument("--reuse", action="store_true",
                   help="start on existing parallel/ branches and their checked-out worktrees")
    p.add_argument("--resume", metavar="ID", nargs="?", const="latest",
                   help="continue an interrupted run (default: the repo's latest)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.resume:
        return _resume(args)
    repo = resolve_repo(args.repo)
    base = load_config(repo)
    config = model_for(repo, base, agent=args.agent or base.default_agent).config  # what `plan` showed
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
    with sigterm_as_interrupt(), open_journal() as journal, held(f"run:{run_id}", f"run {run_id}"):
        record_estimate(journal, run_id, config, checked.estimate, subtasks)
        try:
            started = start_run(request, config, journal, run_id, readers, progress(args))
        except KeyboardInterrupt as exc:
            return _interrupted(journal, run_id, exc)
        except EngineError as exc:
            raise _half_made(journal, run_id, exc) from None
        return _after_start(journal, started, readers, args)


def _resume(args: argparse.Namespace) -> int:
    if args.plan or args.tasks or args.reuse:
        raise UsageError("--resume continues a journaled run: it takes no --plan, --tasks or --reuse",
                         hint="run `parallel-tui run --resume ID` alone (ids: `parallel-tui status --list`)")
    with sigterm_as_interrupt(), open_journal() as journal:
        record = _run_to_resume(journal, args)
        config = load_config(Path(record.repo))
        todo = [s.name for s in journal.sessions(record.id) if s.phase not in _LEFT_ALONE]
        if not confirm(f"Continue run {record.id} ({len(todo)} session(s) to start)?", yes=args.yes):
            print("nothing changed", file=sys.stderr)
            return int(ExitCode.FAILURE)
        readers = default_readers()
        with held(f"run:{record.id}", f"run {record.id}"):
            try:
                started = resume_run(record, config, journal, readers, progress(args))
            except KeyboardInterrupt as exc:
                return _interrupted(journal, record.id, exc)
            except EngineError as exc:
                raise _half_made(journal, record.id, exc) from None
            return _after_start(journal, started, readers, args)


_LEFT_ALONE = ("started", "stopped", "cleaned")


def _run_to_resume(journal: Journal, args: argparse.Namespace) -> RunRecord:
    if args.resume == "latest":
        return find_run(journal, resolve_repo(args.repo), None)
    return find_run(journal, Path(args.repo), args.resume)


def _after_start(journal: Journal, started: StartedRun, readers: StatusReaders,
                 args: argparse.Namespace) -> int:
    failed = [s for s in started.sessions if s.phase == "launch_failed"]
    if not args.wait:
        _print_started(started, args)
        return int(ExitCode.TMUX) if failed else 0
    print(f"run {started.run_id}: following {len(started.sessions)} sessions; "
          f"attach with: {started.attach}", file=sys.stderr)
    record = find_run(journal, Path(started.repo), started.run_id)
    try:
        final = follow(journal, record, readers, progress(args)) or run_status(journal, record, readers)
    except KeyboardInterrupt as exc:
        print(f"error: interrupted ({name_of(exc)}) — stopped following run {started.run_id}; its sessions "
              f"go on in tmux: `parallel-tui status --run {started.run_id}`", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    _print_final(final, args)
    ok = all(s.state == SessionState.DONE and not s.deletes_most_files for s in final.sessions)
    return 0 if ok else int(ExitCode.FAILURE)


def _interrupted(journal: Journal, run_id: str, exc: KeyboardInterrupt) -> int:
    """One true line: what the interrupted run left, and the two ways on."""
    how = name_of(exc)
    record = journal.run(run_id)
    if record is None:
        print(f"error: interrupted ({how}) — nothing was created; run the verb again", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    try:
        counts = left_behind(journal, record)
        left = ", ".join(f"{n} {kind}{'es' if kind == 'branch' and n != 1 else 's' if n != 1 else ''}"
                         for kind, n in counts.items() if n) or "nothing but its journal entry"
    except EngineError:
        left = "branches, worktrees or windows (could not count them)"
    print(f"error: interrupted ({how}) — run {run_id} is half-made ({left} left); continue it with "
          f"`parallel-tui run --resume {run_id}`, or remove it with `parallel-tui cleanup --run {run_id}`",
          file=sys.stderr)
    return int(ExitCode.INTERRUPTED)


def _half_made(journal: Journal, run_id: str, exc: EngineError) -> EngineError:
    """The same error, its hint naming the run to continue or clean up once anything exists."""
    if journal.run(run_id) is None:
        return exc
    return type(exc)(exc.problem, hint=f"{exc.hint}; then `parallel-tui run --resume {run_id}` continues "
                                       f"the run, or `parallel-tui cleanup --run {run_id}` removes it")


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
        mark = {"started": "started", "launch_failed": "FAILED to launch"}.get(s.phase, s.phase)
        print(f"  {s.name}: {mark} — {s.branch} at {s.worktree}")
    print(f"attach: {started.attach}   status: parallel-tui status --run {started.run_id}")


def _print_final(final: RunStatus, args: argparse.Namespace) -> None:
    if args.json:
        print(dumps(final))
        return
    for s in final.sessions:
        print(f"  {s.name}: {s.state.value} — {s.commits} commit(s), {s.files_changed} file(s) on {s.branch}")
        if s.deletes_most_files:
            print(f"  ! {s.name}: {s.problem}", file=sys.stderr)
