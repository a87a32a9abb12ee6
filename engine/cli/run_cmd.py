"""`parallel-tui run`: a plan (or quick task list) becomes worktrees, windows and agents.

`run --resume ID` continues a run that was interrupted (Ctrl-C, SIGTERM, kill -9, a failed
setup): half-made worktrees are finished, sessions never started are launched, the rest is
left alone. An interrupt while creating says what was left and how to go on, never that
nothing was.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.interrupts import name_of, sigterm_as_interrupt
from engine.cli.parser import add_common
from engine.cli.plan_cmd import print_warnings
from engine.cli.run_common import add_jsonl_option, approver, progress
from engine.core.approval import Decision
from engine.core.errors import EngineError, ExitCode, UsageError
from engine.core.jsonio import dumps
from engine.core.models import SessionState, Subtask
from engine.planning.plan_file import PlanFile, load_plan_file
from engine.run.orchestrator import StartedRun
from engine.run.status import RunStatus
from engine.service import Engine, build_engine, run_inline

NAME = "run"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="start one agent session per subtask (worktree + branch + tmux window)")
    add_common(p)
    add_jsonl_option(p)
    p.add_argument("--plan", type=Path, help="a plan file written by `parallel-tui plan -o`")
    p.add_argument("--tasks", help='quick form: comma-separated subtask names, e.g. "api,ui,docs"')
    p.add_argument("--prompt", default="", help="quick form: what every session should do")
    p.add_argument("--agent", help="claude | claude-headless | codex | codex-headless | gemini | "
                                   "gemini-headless | demo | custom")
    p.add_argument("--yes", action="store_true", help="do not ask before creating anything")
    p.add_argument("--wait", action="store_true", help="follow the sessions until all have ended")
    p.add_argument("--reuse", action="store_true",
                   help="start on existing parallel/ branches and their checked-out worktrees")
    p.add_argument("--hosts", type=_host_names, default=(), metavar="A,B",
                   help="place the sessions on these hosts by free slots (`local` is this machine; "
                        "SSH hosts come from [[hosts]] in your config)")
    p.add_argument("--resume", metavar="ID", nargs="?", const="latest",
                   help="continue an interrupted run (default: the repo's latest)")
    p.set_defaults(func=run)


def _host_names(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise argparse.ArgumentTypeError("name at least one host, e.g. --hosts local,build1")
    return names


def run(args: argparse.Namespace) -> int:
    if args.resume:
        return _resume(args)
    engine = build_engine(args.repo, agent=args.agent, inline=True)
    agent = engine.config.default_agent
    task, subtasks, loaded = _subtasks(args)
    if loaded is not None:
        print_warnings(loaded.warnings)
    checked = run_inline(engine.validate(loaded or tuple(subtasks), task=task, reuse=args.reuse,
                                          refuse=True, agent=agent))
    preflight = run_inline(engine.preflight(subtasks, agent, reuse=args.reuse, task=task, hosts=args.hosts))
    planned = preflight.sessions
    if preflight.placement is not None:
        print("\n".join(f"  {line}" for line in preflight.placement.lines()), file=sys.stderr)
    print("\n".join(f"  {p.name}: {p.branch} at {p.worktree}{_on(p.host)} ({p.agent})" for p in planned),
          file=sys.stderr)
    print(f"  {preflight.sandbox.note}", file=sys.stderr)
    run_id = engine.new_run_id()
    engine.subscribe(progress(args))
    with sigterm_as_interrupt():
        with engine.holding(run_id):
            try:
                started = run_inline(engine.start_run(subtasks, task, agent, reuse=args.reuse,
                                                      checked=checked, run_id=run_id, preflight=preflight,
                                                      approve=approver(args), hosts=args.hosts))
            except KeyboardInterrupt as exc:
                return _interrupted(engine, run_id, exc)
            if started is None:
                print("nothing created", file=sys.stderr)
                return int(ExitCode.FAILURE)
            if not engine.config.supervisor:  # this process follows: it keeps the run meanwhile
                return _after_start(engine, started, args)
        return _after_start(engine, started, args)  # the supervisor takes the run over


def _on(host: str) -> str:
    return "" if host == "local" else f" on {host}"


def _resume(args: argparse.Namespace) -> int:
    if args.plan or args.tasks or args.reuse:
        raise UsageError("--resume continues a journaled run: it takes no --plan, --tasks or --reuse",
                         hint="run `parallel-tui run --resume ID` alone (ids: `parallel-tui status --list`)")
    latest = args.resume == "latest"
    engine = build_engine(args.repo, inline=True, resolve=latest)
    with sigterm_as_interrupt():
        record, todo = run_inline(engine.to_resume(None if latest else args.resume))
        question = f"Continue run {record.id} ({len(todo)} session(s) to start)"
        if not approver(args)(Decision(action="resume", question=question, detail=question, subject=todo)):
            print("nothing changed", file=sys.stderr)
            return int(ExitCode.FAILURE)
        engine.subscribe(progress(args))
        with engine.holding(record.id):
            try:
                started = run_inline(engine.resume_run(record.id))
            except KeyboardInterrupt as exc:
                return _interrupted(engine, record.id, exc)
            if not engine.config.supervisor:
                return _after_start(engine, started, args)
        return _after_start(engine, started, args)


def _after_start(engine: Engine, started: StartedRun, args: argparse.Namespace) -> int:
    failed = [s for s in started.sessions if s.phase == "launch_failed"]
    if not args.wait:
        if not args.jsonl:  # stdout holds the events alone
            _print_started(started, args)
        return int(ExitCode.TMUX) if failed else 0
    print(f"run {started.run_id}: following {len(started.sessions)} sessions; "
          f"attach with: {started.attach}", file=sys.stderr)
    try:
        final = run_inline(engine.wait(started.run_id))
    except KeyboardInterrupt as exc:
        print(f"error: interrupted ({name_of(exc)}) — stopped following run {started.run_id}; its sessions "
              f"go on in tmux: `parallel-tui status --run {started.run_id}`", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    if not args.jsonl:
        _print_final(final, args)
    ok = all(s.state == SessionState.DONE and not s.deletes_most_files for s in final.sessions)
    return 0 if ok else int(ExitCode.FAILURE)


def _interrupted(engine: Engine, run_id: str, exc: KeyboardInterrupt) -> int:
    """One true line: what the interrupted run left, and the two ways on."""
    how = name_of(exc)
    try:
        counts = run_inline(engine.left_behind(run_id))
    except EngineError:
        left = "branches, worktrees or windows (could not count them)"
    else:
        if counts is None:
            print(f"error: interrupted ({how}) — nothing was created; run the verb again", file=sys.stderr)
            return int(ExitCode.INTERRUPTED)
        left = ", ".join(f"{n} {kind}{'es' if kind == 'branch' and n != 1 else 's' if n != 1 else ''}"
                         for kind, n in counts.items() if n) or "nothing but its journal entry"
    print(f"error: interrupted ({how}) — run {run_id} is half-made ({left} left); continue it with "
          f"`parallel-tui run --resume {run_id}`, or remove it with `parallel-tui cleanup --run {run_id}`",
          file=sys.stderr)
    return int(ExitCode.INTERRUPTED)


def _subtasks(args: argparse.Namespace) -> tuple[str, tuple[Subtask, ...], PlanFile | None]:
    """The run's subtasks: a plan file's (kept for its estimate and warnings), or the quick form's."""
    if bool(args.plan) == bool(args.tasks):
        raise UsageError("give either --plan or --tasks",
                         hint='e.g. run --plan plan.json, or run --tasks "api,ui" --prompt "..."')
    if args.plan:
        loaded = load_plan_file(args.plan)
        if not loaded.subtasks:
            raise UsageError(f"plan file {args.plan} has no subtasks", hint="write a plan with subtasks")
        return loaded.task, loaded.subtasks, loaded
    task, subtasks = Engine.quick_subtasks(args.tasks, args.prompt)
    return task, subtasks, None


def _print_started(started: StartedRun, args: argparse.Namespace) -> None:
    if args.json:
        print(dumps(started))
        return
    print(f"run {started.run_id}: {len(started.sessions)} sessions in tmux session {started.tmux_session}")
    for s in started.sessions:
        mark = {"started": "started", "launch_failed": "FAILED to launch"}.get(s.phase, s.phase)
        print(f"  {s.name}: {mark} — {s.branch} at {s.worktree}{_on(s.host)}")
    print(f"attach: {started.attach}   status: parallel-tui status --run {started.run_id}")


def _print_final(final: RunStatus, args: argparse.Namespace) -> None:
    if args.json:
        print(dumps(final))
        return
    for s in final.sessions:
        print(f"  {s.name}: {s.state.value} — {s.commits} commit(s), {s.files_changed} file(s) on {s.branch}")
        if s.deletes_most_files:
            print(f"  ! {s.name}: {s.problem}", file=sys.stderr)
