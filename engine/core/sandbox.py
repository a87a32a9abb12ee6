"""What contains an agent's shell: Claude Code's own sandbox, when the machine has it.

The `sandbox` config value picks the mode; this module says what it means for one agent on
this machine, in words every face repeats (plan review, `run`, `status`), and carries the
typed input of the one `--settings` builder (`engine.claude.settings`). It lives in core
because the run engine, the planners' review and the status all ask it, and the layers
below them may not import each other.

Standard library only, and no work at import.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.core.kit import LOCAL_KIT, Kit

SANDBOXED_AGENTS = frozenset({"claude", "claude-headless"})
"""Agents whose shell this tool puts in Claude Code's sandbox (bubblewrap + socat on Linux)."""
OWN_SANDBOX_AGENTS = frozenset({"codex", "codex-headless"})
"""Agents whose own CLI sandboxes their shell (Codex's `--sandbox workspace-write`, with its bundled
bubblewrap): sandboxed unless `sandbox = "off"`."""
CONTAINER_SANDBOX_AGENTS = frozenset({"gemini", "gemini-headless"})
"""Agents whose own sandbox is a container (Gemini CLI's `--sandbox`, Docker or Podman): used
under `sandbox = "strict"` only, where a missing runtime is refused before the run
(`engine.agents.gemini.check`); under `on` they run unsandboxed, and say so."""
LINUX_PROGRAMS = (("bwrap", "bubblewrap"), ("socat", "socat"))
"""(program, Debian package): what Claude Code's sandbox needs on Linux (facts §9)."""
INSTALL_HINT = "sudo apt-get install bubblewrap socat"

Shell = Literal["sandboxed", "limited", "asks", "unsandboxed"]
"""sandboxed: Claude Code's sandbox, Bash allowed inside it. limited: no sandbox available,
only `git add`, `git commit` and the test command are allowed. asks: `sandbox = "off"`, Bash
asks (denied under `claude -p`). unsandboxed: an agent this tool cannot sandbox yet."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxPlan:
    """What one agent's sessions will run in, decided before anything starts."""

    mode: str
    """The config value: strict | on | off."""
    agent: str
    shell: Shell
    missing: tuple[str, ...] = ()
    """Programs the sandbox needs that are not on PATH (Debian package names)."""

    @property
    def note(self) -> str:
        """One line for plan review, `run` and `status`."""
        if self.shell == "sandboxed" and self.agent in CONTAINER_SANDBOX_AGENTS:
            return f"{self.agent}: shell sandboxed (Gemini CLI's container sandbox, Docker or Podman)"
        if self.shell == "sandboxed" and self.agent in OWN_SANDBOX_AGENTS:
            return (f"{self.agent}: shell sandboxed (Codex's workspace-write; writes only in its worktree "
                    "and git dir)")
        if self.shell == "sandboxed":
            return f"{self.agent}: shell sandboxed (Claude Code's sandbox; writes only in its worktree)"
        if self.shell == "limited":
            why = f"{', '.join(self.missing)} missing" if self.missing else "not supported on this system"
            return (f"{self.agent}: sandbox unavailable ({why}; install: {INSTALL_HINT}); only git add, "
                    "git commit and the test command run without asking")
        if self.shell == "asks":
            return f"{self.agent}: sandbox off (sandbox = \"off\"); shell commands ask first"
        return f"{self.agent} runs unsandboxed: its shell can write anywhere you can"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSettings:
    """The typed input of the one `claude --settings` builder (`engine.claude.settings`)."""

    status_file: Path
    """The session's hook file; the ownership file next to it adds the edit guard."""
    shell: Shell = "asks"
    allowed_domains: tuple[str, ...] = ()
    test_command: str = ""
    home: Path | None = None
    """Whose secrets to hide from the sandboxed shell (None: `~`, as Claude Code expands it)."""
    kit: Kit = LOCAL_KIT
    """The hook and statusline programs on the session's host, and the python that runs them."""
    ownership_mode: str | None = None
    """The mode of the ownership file the launch wrote on the session's host ("off": none, no
    edit guard); None: read next to `status_file` on this machine."""


def missing_programs(environ: Mapping[str, str] | None = None,
                     platform: str = sys.platform) -> tuple[str, ...]:
    """The packages the sandbox needs that this machine lacks; () when it has them. macOS has
    Seatbelt built in; other systems have no sandbox Claude Code can use."""
    if platform == "darwin":
        return ()
    if not platform.startswith("linux"):
        return ("a supported system (Linux or macOS)",)
    path = (os.environ if environ is None else environ).get("PATH", os.defpath)
    return tuple(package for program, package in LINUX_PROGRAMS if shutil.which(program, path=path) is None)


def plan_sandbox(mode: str, agent: str, environ: Mapping[str, str] | None = None,
                 platform: str = sys.platform) -> SandboxPlan:
    """The shell `agent`'s sessions get under `mode` on this machine (strict's refusal is the
    caller's: `refusal` says it)."""
    if agent in OWN_SANDBOX_AGENTS:
        return SandboxPlan(mode=mode, agent=agent, shell="unsandboxed" if mode == "off" else "sandboxed")
    if agent in CONTAINER_SANDBOX_AGENTS:
        return SandboxPlan(mode=mode, agent=agent, shell="sandboxed" if mode == "strict" else "unsandboxed")
    if agent not in SANDBOXED_AGENTS:
        return SandboxPlan(mode=mode, agent=agent, shell="unsandboxed")
    if mode == "off":
        return SandboxPlan(mode=mode, agent=agent, shell="asks")
    missing = missing_programs(environ, platform)
    return SandboxPlan(mode=mode, agent=agent, shell="limited" if missing else "sandboxed", missing=missing)


def refusal(plan: SandboxPlan) -> str:
    """Why `strict` refuses to start this plan's sessions; "" when it may start."""
    if plan.mode != "strict" or plan.shell == "sandboxed":
        return ""
    if plan.shell == "limited":
        missing = ", ".join(plan.missing)
        return f"sandbox = \"strict\" and Claude Code's sandbox is unavailable: {missing} missing"
    return f"sandbox = \"strict\" and agent {plan.agent!r} runs unsandboxed"


_WIDENING = (
    (("sandbox", "filesystem", "allowWrite"), "lets commands write to"),
    (("sandbox", "filesystem", "allowRead"), "lets commands read (even hidden secrets)"),
    (("sandbox", "network", "allowedDomains"), "lets commands reach"),
    (("sandbox", "network", "allowUnixSockets"), "opens the unix sockets"),
    (("sandbox", "network", "allowAllUnixSockets"), "opens every unix socket"),
    (("sandbox", "network", "allowLocalBinding"), "lets commands listen on local ports"),
)
"""Settings a repo's `.claude/settings.json` can add to a session's sandbox. Seen on 2.1.197:
lists from the project's settings merge with the ones `--settings` passes (`allowWrite`,
`allowRead` — which re-opened a `denyRead` folder — and `allowedDomains` all widened it),
while its scalars (`enabled: false`, `allowUnsandboxedCommands: true`) did not override ours."""


def widening(settings: object) -> list[str]:
    """What a repo's Claude Code settings add to the sandbox, one phrase per setting."""
    out = []
    for keys, what in _WIDENING:
        value: object = settings
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value:
            shown = f" {', '.join(map(str, value[:5]))}" if isinstance(value, list) else ""
            out.append(f"{'.'.join(keys)} {what}{shown}")
    allow = settings.get("permissions", {}).get("allow") if isinstance(settings, dict) else None
    rules = [r for r in allow if isinstance(r, str) and r.startswith(("Edit(", "WebFetch("))] \
        if isinstance(allow, list) else []
    if rules:
        out.append(f"permissions.allow {', '.join(rules[:5])} (Edit and WebFetch rules widen the sandbox)")
    return out
