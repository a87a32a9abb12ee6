"""Choosing a planner, in one place: `offline`, `claude` (the SDK), `claude-code`, or `auto`.

`auto` = the SDK planner when ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN is set; else the
person's own Claude Code when `claude auth status` says it is logged in; else offline. The CLI
(`plan`, which `/parallel` and `/orchestrate` also call) and the app's task screen all ask
`resolve_planner`, so they agree, and each says which planner and why. Resolving may run
`claude auth status` (cached, ~0.35 s): call it from a thread when an event loop is running.
The SDK planner imports `anthropic` (about a second), so it is imported only here, only when
chosen.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.claude.login import ClaudeLogin, claude_login
from engine.core.config import ParallelConfig
from engine.core.errors import UsageError
from engine.core.planner_names import PLANNERS
from engine.planning.offline import OfflinePlanner
from engine.planning.port import Draft, Planner, PlanRequest

KEY_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannerChoice:
    """Which planner a request resolves to, and why, in words a person reads."""

    requested: str
    name: str
    """`claude`, `claude-code` or `offline`."""
    reason: str
    login: ClaudeLogin | None = None
    """What `claude auth status` said, when it was asked."""
    will_fail: bool = False
    """Chosen by name but not usable (no key, not logged in): planning will fail."""


def resolve_planner(requested: str, env: Mapping[str, str] | None = None,
                    login: Callable[[], ClaudeLogin] | None = None) -> PlannerChoice:
    """The planner `requested` means here and now; blocking (it may ask `claude auth status`)."""
    if requested not in PLANNERS:
        raise UsageError(f"unknown planner {requested!r}", hint=f"use --planner {', '.join(PLANNERS)}")
    environ = os.environ if env is None else env
    ask = login or (lambda: claude_login(environ))
    key = next((k for k in KEY_VARS if environ.get(k)), "")
    if requested == "offline":
        return PlannerChoice(requested=requested, name="offline", reason="chosen")
    if requested == "claude":
        if key:
            return PlannerChoice(requested=requested, name="claude", reason=f"chosen; {key} is set")
        return PlannerChoice(requested=requested, name="claude", will_fail=True,
                             reason="ANTHROPIC_API_KEY is not set: planning will fail — export it, "
                                    "or choose auto to fall back to offline")
    if requested == "auto" and key:
        return PlannerChoice(requested=requested, name="claude", reason=f"{key} is set")
    found = ask()
    if requested == "claude-code":
        fix = "" if found.logged_in else ": planning will fail — run `claude` and log in, or choose auto"
        return PlannerChoice(requested=requested, name="claude-code", login=found,
                             reason=f"chosen; {found.describe()}{fix}", will_fail=not found.logged_in)
    if found.logged_in:
        return PlannerChoice(requested=requested, name="claude-code", login=found,
                             reason=f"no API key in the environment; {found.describe()}")
    return PlannerChoice(requested=requested, name="offline", login=found,
                         reason=f"no ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN; {found.describe()}")


def build_planner(choice: PlannerChoice, config: ParallelConfig, *, model: str | None = None) -> Planner:
    """The planner for a resolved choice; its draft carries the choice's reason."""
    fallback = choice.requested == "auto"
    inner: Planner
    if choice.name == "claude":
        from engine.claude.planner import ClaudePlanner  # noqa: PLC0415 - anthropic is slow to import

        inner = ClaudePlanner(config, model=model, fallback=fallback)
    elif choice.name == "claude-code":
        from engine.claude.code_planner import ClaudeCodePlanner  # noqa: PLC0415

        inner = ClaudeCodePlanner(config, model=model, fallback=fallback, login=choice.login)
    else:
        inner = OfflinePlanner()
    return Explained(inner=inner, reason=choice.reason)


def choose_planner(name: str, config: ParallelConfig, *, model: str | None = None) -> Planner:
    return build_planner(resolve_planner(name), config, model=model)


@dataclass(slots=True)
class Explained:
    """A planner whose draft says why it was the one chosen (`Plan.planner_reason`)."""

    inner: Planner
    reason: str
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.inner.name

    async def draft(self, request: PlanRequest) -> Draft:
        drafted = await self.inner.draft(request)
        return drafted if drafted.reason else dataclasses.replace(drafted, reason=self.reason)
