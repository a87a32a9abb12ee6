"""`parallel-tui install-claude`: /parallel, /orchestrate and the specialist agents for Claude Code
(`Engine.install_claude` writes them; this renders its report)."""

from __future__ import annotations

import argparse

from engine.claude.install import InstallReport
from engine.cli.parser import add_common
from engine.core.jsonio import dumps
from engine.service import build_engine, run_inline

NAME = "install-claude"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="write the /parallel and /orchestrate commands and the specialist "
                                  "agents into the repo's .claude/")
    add_common(p)
    p.add_argument("--force", action="store_true", help="overwrite files that exist and differ")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    engine = build_engine(args.repo, inline=True, need_commit=False)  # nothing is read from history
    report = run_inline(engine.install_claude(force=args.force))
    print(dumps(report) if args.json else "\n".join(_lines(report)))
    return 0


def _lines(report: InstallReport) -> list[str]:
    lines = [f"install-claude in {report.root}"]
    lines += [f"  wrote        {p}" for p in report.written]
    lines += [f"  overwrote    {p}" for p in report.overwritten]
    lines += [f"  skipped      {p} (exists; --force overwrites)" for p in report.skipped]
    lines += [f"  up to date   {p}" for p in report.unchanged]
    lines.append(f"{len(report.written)} written, {len(report.overwritten)} overwritten, "
                 f"{len(report.skipped)} skipped, {len(report.unchanged)} up to date.")
    lines.append('In Claude Code: /parallel "<task>", /orchestrate "<task>"; '
                 "sessions run as `claude --agent <name>`.")
    return lines
