"""`parallel-tui plan`: estimate, split, validate and match; `--validate` re-checks a file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.cli.parser import add_common, positive_float
from engine.core import events as ev
from engine.core.errors import PlanError
from engine.core.event_text import PLANNING, event_line
from engine.core.jsonio import dumps
from engine.core.models import Plan
from engine.core.planner_names import PLANNERS
from engine.hosts.gitcli import resolve_repo
from engine.planning.chart import savings_chart
from engine.planning.estimate import SCOPES
from engine.planning.pipeline import PlanOptions
from engine.planning.plan_file import load_plan_file
from engine.planning.text_report import model_line, overhead_lines, plan_lines
from engine.planning.validation import blocking_error
from engine.service import build_engine, run_inline

NAME = "plan"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="split a task into validated, agent-matched subtasks")
    add_common(p)
    p.add_argument("task", nargs="?", help="what to build, in one sentence")
    p.add_argument("--task-scope", choices=SCOPES, default="auto")
    p.add_argument("--minutes", type=positive_float, help="override the sequential estimate")
    p.add_argument("--splits", type=int, help="number of subtasks (default: the optimum)")
    p.add_argument("--planner", choices=PLANNERS, default="auto")
    p.add_argument("--model", help="Claude model id for the claude planner")
    p.add_argument("-o", "--output", type=Path, help="also write the plan JSON to this file")
    p.add_argument("--seed-model", action="store_true",
                   help="the spec's overhead constants, not the ones measured on this repo's runs")
    p.add_argument("--validate", type=Path, metavar="PLAN_JSON",
                   help="re-validate an edited plan file; exit non-zero on any overlap")
    p.add_argument("--context", action="store_true",
                   help="print what a planner is told (analysis, overhead, optimal N, ranked files, "
                        "conventions, the plan's schema) for a session that writes the plan itself")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.output:
        check_output(args.output)
    if args.validate:
        return _validate(args)
    if args.task is None:
        raise PlanError("no task given", hint='pass one: parallel-tui plan "Add login with tests"')
    if args.context:
        return _context(args)
    engine = build_engine(args.repo, planner=args.planner, model=args.model, inline=True)
    engine.subscribe(_progress(args))
    options = PlanOptions(scope=args.task_scope, minutes=args.minutes, splits=args.splits)
    _emit(run_inline(engine.plan(args.task, options, seed=args.seed_model)), args)
    return 0


def _context(args: argparse.Namespace) -> int:
    """`/parallel` drafts in its own session: it gets the facts, writes the plan file, and
    checks it with `plan --validate`."""
    engine = build_engine(args.repo, inline=True)
    engine.subscribe(_progress(args))
    options = PlanOptions(scope=args.task_scope, minutes=args.minutes, splits=args.splits)
    found = run_inline(engine.plan_context(args.task, options, seed=args.seed_model))
    if args.json:
        print(dumps(found))
        return 0
    print(found.rules)
    print(found.prompt)
    print("\nThe plan file to write (fill in `subtasks`, following the schema):")
    print(json.dumps(found.plan_file, indent=2, ensure_ascii=False))
    print("\nSchema of `subtasks` and `conventions`:")
    print(json.dumps(found.schema, indent=2))
    return 0


def _validate(args: argparse.Namespace) -> int:
    loaded = load_plan_file(args.validate)
    repo = resolve_repo(args.repo if args.repo != Path() or not loaded.repo_root
                        else Path(loaded.repo_root))
    print_warnings(loaded.warnings)
    engine = build_engine(repo, resolve=False, inline=True)
    engine.subscribe(_progress(args))
    plan = run_inline(engine.validate(loaded, seed=args.seed_model))
    _emit(plan, args)
    if error := blocking_error(plan.validation):
        raise error
    return 0


def print_warnings(warnings: tuple[str, ...]) -> None:
    """A plan file's unknown keys, one `warning:` line each on stderr (also in --json output)."""
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)


def check_output(path: Path) -> None:
    """Refuse an unwritable `-o` before planning (a Claude plan costs money and time), and one
    inside a `.git` folder (spelled so, or reached through a symlink): `-o .git/HEAD` would
    overwrite git's own files."""
    if any(part.lower() == ".git" for where in (path, path.resolve()) for part in where.parts):
        raise PlanError(f"-o {path} is inside a .git folder (git's own files): refusing to write there",
                        hint="write the plan elsewhere, e.g. -o plan.json")
    if path.is_dir():
        raise PlanError(f"-o {path} is a folder", hint=f"name a file in it, e.g. -o {path / 'plan.json'}")
    if not path.parent.is_dir():
        raise PlanError(f"-o {path}: folder {path.parent} does not exist",
                        hint="create it first, or write the plan elsewhere")


def _emit(plan: Plan, args: argparse.Namespace) -> None:
    if args.output:
        try:
            args.output.write_text(dumps(plan) + "\n", encoding="utf-8")
        except OSError as exc:
            raise PlanError(f"cannot write the plan to {args.output}: {exc.strerror or exc}",
                            hint="pass -o with a writable file path") from None
    if args.json:
        print(dumps(plan))
        return
    print("\n".join(overhead_lines(plan.overhead)))
    if plan.model:
        print(model_line(plan.model))
    print()
    print(savings_chart(plan.overhead, color=sys.stdout.isatty()))
    print()
    print("\n".join(plan_lines(plan)))


def _progress(args: argparse.Namespace) -> ev.Emit:
    """Progress lines on stderr for a person at a terminal; scripts and logs get only results."""
    if not sys.stderr.isatty():
        return ev.ignore

    def emit(event: ev.Event) -> None:
        if isinstance(event, PLANNING):
            print(event_line(event), file=sys.stderr)

    return emit
