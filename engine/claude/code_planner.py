"""The Claude Code planner: the person's own Claude Code drafts the split (`claude -p`).

Most people run Claude Code on a subscription login, with no API key for the SDK planner.
Headless `claude -p` in the repo, with the plan's JSON schema (`--json-schema`, answered
through Claude Code's `StructuredOutput` tool, printed as `structured_output` by
`--output-format json`), plans with their login. The same prompt as the SDK planner's
(`engine.claude.prompt`); the answer goes through the same reading and fixes
(`engine.claude.answer`).

A repo may not be trusted, so the session is boxed: only the read-only tools (`--tools
Read,Grep,Glob`), only the user's settings (`--setting-sources user`: a repo's
`.claude/settings.json` hooks would otherwise run), no MCP servers (`--strict-mcp-config`),
nothing saved (`--no-session-persistence`), turn, budget and time limits (the process group
is killed at the time limit). Never `--bare`: it ignores subscription logins. Facts §9.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from engine.claude import prompt
from engine.claude.answer import IncompleteAnswer, UnusableAnswer, read_answer, tidy
from engine.claude.login import ClaudeLogin
from engine.core.config import ParallelConfig
from engine.core.errors import ApiError
from engine.core.models import PlannerUsage
from engine.hosts.host import LOCAL, Host
from engine.planning.offline import OfflinePlanner
from engine.planning.overhead import parallel_minutes
from engine.planning.port import Draft, PlanRequest
from engine.planning.validation import tracked_dirs

STRUCTURED = "StructuredOutput"
"""The tool `--json-schema` adds; its input is the answer."""
TOOLS = "Read,Grep,Glob"
_MAX_DETAIL = 200
_KEY_LIKE = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")
_NESTED = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_CODE_SESSION_ID")
"""Set when `/parallel` runs inside Claude Code: the planning session is a new one, not nested."""


class _Failed(Exception):
    """No usable plan: one line, the fix, and what it cost anyway."""

    def __init__(self, problem: str, hint: str, usage: PlannerUsage | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint
        self.usage = usage


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """How one planning session runs: the argv (no shell), its stdin, where and how long."""

    argv: tuple[str, ...]
    stdin: str
    cwd: str
    timeout_s: float


def planning_argv(config: ParallelConfig, *, claude: str = "claude", model: str | None = None) -> list[str]:
    """`claude -p` boxed for a repo that may not be trusted (module doc); the prompt goes on stdin."""
    argv = [claude, "-p", "--output-format", "json",
            "--json-schema", json.dumps(prompt.plan_schema(), separators=(",", ":")),
            "--tools", TOOLS, "--setting-sources", "user", "--strict-mcp-config",
            "--no-session-persistence", "--max-turns", str(config.planner_max_turns),
            "--max-budget-usd", f"{config.planner_max_budget_usd:g}",
            "--append-system-prompt", prompt.system_rules(f"calling {STRUCTURED}")]
    return [*argv, "--model", model] if model else argv


class ClaudeCodePlanner:
    name = "claude-code"

    def __init__(self, config: ParallelConfig, *, model: str | None = None, fallback: bool = True,
                 login: ClaudeLogin | None = None, claude: str = "claude") -> None:
        self.config = config
        self.model = model
        """Only when named (`--model`): otherwise the person's own Claude Code default."""
        self.fallback = fallback
        """True under `auto`: a failure becomes an offline plan that says why."""
        self.login = login
        self.claude = login.binary if login and login.binary else claude

    async def draft(self, request: PlanRequest) -> Draft:
        try:
            return await asyncio.to_thread(self._plan, request)
        except _Failed as failure:
            if not self.fallback:
                raise ApiError(failure.problem, hint=failure.hint) from None
            offline = await OfflinePlanner().draft(request)
            return Draft(subtasks=offline.subtasks, planner=offline.planner, notes=offline.notes,
                         usage=failure.usage, fallback_reason=failure.problem,
                         conventions=offline.conventions)

    def session(self, request: PlanRequest) -> Session:
        text = prompt.user_prompt(request, prompt.rank_candidates(request), answer=f"Call {STRUCTURED}",
                                  explore=True)
        return Session(argv=tuple(planning_argv(self.config, claude=self.claude, model=self.model)),
                       stdin=text, cwd=request.repo.root,
                       timeout_s=self.config.planner_session_timeout_s)

    def _plan(self, request: PlanRequest) -> Draft:
        result = run_session(self.session(request))
        usage = self._usage(result)
        answer = self._answer(result, usage)
        minutes = round(parallel_minutes(request.estimate.sequential_minutes, request.splits,
                                         request.config), 1)
        try:
            read = read_answer(answer, task=request.task, default_minutes=minutes)
        except IncompleteAnswer as exc:
            raise _Failed(f"Claude Code's plan was incomplete: {exc}", "try again, or use --planner offline",
                          usage) from None
        except UnusableAnswer as exc:
            raise _Failed(f"Claude Code's plan was unusable: {exc}", "try again, or use --planner offline",
                          usage) from None
        subtasks, notes = tidy(read.subtasks, read.notes, request.files, tracked_dirs(request.files))
        return Draft(subtasks=subtasks, planner=self.name, notes=notes, usage=usage,
                     conventions=read.conventions)

    def _answer(self, result: dict[str, object], usage: PlannerUsage | None) -> object:
        """The plan from the result, or why there is none (the result's own words, scrubbed)."""
        if result.get("is_error") is not False:
            raise _Failed(_why_failed(result, self.config), _hint(result), usage)
        answer = result.get("structured_output")
        if answer is None:
            raise _Failed(f"Claude Code answered without calling {STRUCTURED} (no plan in its answer)",
                          "try again, or use --planner offline", usage)
        return answer

    def _usage(self, result: dict[str, object]) -> PlannerUsage | None:
        raw = result.get("usage")
        usage = raw if isinstance(raw, dict) else {}
        cost, turns, session = result.get("total_cost_usd"), result.get("num_turns"), result.get("session_id")
        if not usage and cost is None:
            return None
        return PlannerUsage(input_tokens=_int(usage.get("input_tokens")),
                            output_tokens=_int(usage.get("output_tokens")),
                            request_ids=(session,) if isinstance(session, str) and session else (),
                            requests=_int(turns),
                            cost_usd=float(cost) if isinstance(cost, int | float) else None,
                            cost_notional=self.login.subscription if self.login else False)


def run_session(session: Session, host: Host = LOCAL) -> dict[str, object]:
    """Run `claude -p` in its own process group; the result object it prints, or _Failed.
    At the time limit the whole group (the CLI and anything it started) is killed."""
    env = {k: v for k, v in os.environ.items() if k not in _NESTED}
    try:
        proc = host.run(session.argv, cwd=Path(session.cwd), env=env, timeout=session.timeout_s,
                        stdin=session.stdin.encode("utf-8", "surrogateescape"), group=True)
    except subprocess.TimeoutExpired:
        raise _Failed(f"Claude Code gave no plan within {session.timeout_s:g}s",
                      "raise planner_session_timeout_s, or use --planner offline") from None
    except OSError as exc:
        raise _Failed(f"Claude Code (`{session.argv[0]}`) could not start: {exc.strerror or exc}",
                      "install Claude Code, or use --planner offline") from None
    return _result(proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"),
                   proc.returncode)


def _result(out: str, err: str, code: int) -> dict[str, object]:
    lines = [ln for ln in out.splitlines() if ln.strip()]
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("type") == "result":
        return data
    said = _scrub(err.strip().splitlines()[-1] if err.strip() else out.strip()[:_MAX_DETAIL])
    raise _Failed(f"Claude Code exited {code} without its JSON result" + (f": {said}" if said else ""),
                  "run `claude -p hello` to see what is wrong, or use --planner offline")


def _why_failed(result: dict[str, object], config: ParallelConfig) -> str:
    subtype = result.get("subtype")
    if subtype == "error_max_turns":
        return f"Claude Code reached the planner's turn limit ({config.planner_max_turns}) without a plan"
    if subtype == "error_max_budget_usd":
        return f"Claude Code reached the planner's budget (${config.planner_max_budget_usd:g}) without a plan"
    said = result.get("result")
    errors = result.get("errors")
    text = said if isinstance(said, str) and said else (
        "; ".join(str(e) for e in errors) if isinstance(errors, list) else str(subtype or "an error"))
    return f"Claude Code failed: {_scrub(text)[:_MAX_DETAIL]}"


def _hint(result: dict[str, object]) -> str:
    subtype = result.get("subtype")
    if subtype == "error_max_turns":
        return "raise planner_max_turns, or use --planner offline"
    if subtype == "error_max_budget_usd":
        return "raise planner_max_budget_usd, or use --planner offline"
    if "login" in str(result.get("result", "")).lower():
        return "log in to Claude Code (`claude`, then /login), or use --planner offline"
    return "try again, or use --planner offline"


def _scrub(text: str) -> str:
    """One line, and nothing shaped like a key (an error may echo one)."""
    return " ".join(_KEY_LIKE.sub("[key]", text).split())


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0
