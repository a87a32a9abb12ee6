"""`parallel-tui hosts check [NAME]`: what each host has and lacks for sessions.

Exit 0 when every host checked can run sessions, 1 when one cannot (the lines say what it
lacks), 2 for a host name the config does not have.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from engine.cli.parser import add_common
from engine.core.config import ParallelConfig, load_config, user_config_path
from engine.core.errors import ExitCode, UsageError
from engine.core.event_text import event_line
from engine.core.hosts_config import with_local
from engine.core.jsonio import dumps
from engine.hosts.host_check import HostReport, Probe, check_local, check_remote

NAME = "hosts"
_MARK = {True: "ok  ", False: "LACK", None: "?   "}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(NAME, help="the machines sessions may run on: `hosts check [NAME]`, `hosts fetch`")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="connect to each host and list what it has and lacks")
    add_common(check)
    check.add_argument("name", nargs="?", default="", help="one host's name (default: every host)")
    check.add_argument("--agent", default="", help="the agent CLI to look for (default: default_agent)")
    check.set_defaults(func=run)
    fetch = actions.add_parser("fetch", help="bring the branches of a run's sessions on SSH hosts into this "
                                             "repo (parallel/<slug>)")
    add_common(fetch)
    fetch.add_argument("--run", dest="run_id", default=None, help="the run (default: the repo's latest)")
    fetch.set_defaults(func=fetch_home)


def fetch_home(args: argparse.Namespace) -> int:
    from engine.service import build_engine, run_inline  # noqa: PLC0415 - only this action needs the engine

    engine = build_engine(args.repo, inline=True)
    fetched = run_inline(engine.fetch_home(args.run_id))
    if args.json:
        print(dumps(fetched))
    else:
        print("\n".join(event_line(e) for e in fetched) or "no session of that run is on an SSH host")
    return int(ExitCode.FAILURE) if any(e.problem for e in fetched) else int(ExitCode.OK)


def run(args: argparse.Namespace) -> int:
    config = load_config(Path(args.repo) if (Path(args.repo) / ".git").exists() else None)
    agent = args.agent or _program(config)
    hosts = with_local(config.hosts, config.max_concurrent_sessions)
    if args.name and args.name not in {h.name for h in hosts}:
        raise UsageError(f"no host named {args.name!r} in {user_config_path()}",
                         hint=f"use one of: {', '.join(h.name for h in hosts)} (or add a [[hosts]] table)")
    reports = [check_local(agent=agent) if spec.is_local else check_remote(spec, agent=agent)
               for spec in hosts if not args.name or spec.name == args.name]
    if args.json:
        print(dumps([_jsonable(r) for r in reports]))
    else:
        print("\n".join(line for r in reports for line in report_lines(r)))
        if not config.hosts:
            print(f"(no [[hosts]] in {user_config_path()}: only this machine was checked)")
    return int(ExitCode.OK) if all(r.usable for r in reports) else int(ExitCode.FAILURE)


def _program(config: ParallelConfig) -> str:
    """The command the default agent runs: `claude` for claude-headless, python3 for the demo
    agent, the first word of custom_agent_command for custom."""
    from engine.agents.descriptors import AGENTS  # noqa: PLC0415 - only a check without --agent needs it

    name = config.default_agent
    if name == "demo":
        return "python3"
    if name == "custom":
        return (shlex.split(config.custom_agent_command) or ["sh"])[0]
    spec = AGENTS.get(name)
    return spec.argv[0] if spec is not None and spec.argv else name


def report_lines(report: HostReport) -> list[str]:
    where = f" ({report.ssh})" if report.ssh else " (this machine)"
    verdict = "can run sessions" if report.usable else f"cannot run sessions: lacks {', '.join(report.lacks)}"
    lines = [f"{report.host}{where}: {verdict}"]
    lines += [f"  {_MARK[p.ok]} {p.name:<14} {p.detail}{_cost(p)}" for p in report.probes]
    return lines


def _cost(probe: Probe) -> str:
    if probe.ok is False and probe.need == "sandbox":
        return " (sandbox = \"strict\" refuses this host; \"on\" runs its sessions unsandboxed)"
    return ""


def _jsonable(report: HostReport) -> dict[str, object]:
    probes = [{"name": p.name, "ok": p.ok, "need": p.need, "detail": p.detail} for p in report.probes]
    return {"host": report.host, "ssh": report.ssh, "usable": report.usable, "lacks": list(report.lacks),
            "probes": probes}
