"""`parallel-tui install-claude`: /parallel, /orchestrate and the specialist agents for Claude Code."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from engine.claude_install import InstallReport, install
from engine.cli.parser import add_common
from engine.errors import GitError
from engine.jsonio import dumps

NAME = "install-claude"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="write the /parallel and /orchestrate commands and the specialist "
                                  "agents into the repo's .claude/")
    add_common(p)
    p.add_argument("--force", action="store_true", help="overwrite files that exist and differ")
    p.set_defaults(func=run)


def _top_level(path: Path) -> Path:
    """The repo's top level; a repo without commits is fine here (nothing is read from history)."""
    if not path.is_dir():
        raise GitError(f"{path} is not a directory", hint="pass --repo with a git checkout")
    proc = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise GitError(f"{path} is not inside a git repository",
                       hint="run `git init` there, or pass --repo with a git checkout")
    return Path(proc.stdout.strip())


def run(args: argparse.Namespace) -> int:
    report = install(_top_level(args.repo), force=args.force)
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
