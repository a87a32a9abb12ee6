"""How parallel-tui starts OpenAI's Codex CLI (`@openai/codex`, checked on 0.171.0).

Everything goes on the command line as `-c key=value` overrides, never into the user's
`CODEX_HOME` (their login and provider live there) nor into the worktree:

- hooks: every status event appends to the session's hook file (the same writer and the same
  mapping as Claude Code's: Codex's payloads have Claude's shape), and `apply_patch` goes
  through the ownership hook, whose `deny` Codex honours before the patch is applied. Codex
  skips hooks it has no persisted trust for, silently; ours are generated here for this one
  invocation, so `--dangerously-bypass-hook-trust` runs them (it prints a warning item);
- the worktree is trusted (`projects`), or the TUI stops at its "Trust this folder?" screen;
- the sandbox: `workspace-write` keeps writes inside the worktree, but a linked worktree's git
  data lies outside it, so the common git dir and the worktree's own git dir are added as
  writable roots, or every `git commit` fails on `index.lock`. Network stays off (Codex's
  default under `workspace-write`). `sandbox = "off"` runs with `danger-full-access`.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.agents import hooks as claude_hooks
from engine.agents import ownership_hook
from engine.core.kit import LOCAL_KIT, Kit
from engine.hosts.gitcli import run_git

VERSION = "0.171.0"
INSTALL = f"npm install -g @openai/codex@{VERSION}"
HOOK_EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PermissionRequest",
               "Stop", "SessionEnd")
_TOOL_EVENTS = frozenset({"PreToolUse", "PostToolUse", "PermissionRequest"})
SANDBOX_MODES = ("strict", "on", "off")


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML for these characters)."""
    return json.dumps(value)


def _handler(command: str, timeout_s: int) -> str:
    return f"{{type={_toml('command')},command={_toml(command)},timeout={timeout_s}}}"


def hook_overrides(hook_file: Path, kit: Kit = LOCAL_KIT, mode: str | None = None) -> list[str]:
    """`-c hooks.<Event>=[…]` words: the kit's status writer on every event, its ownership hook
    on `apply_patch` when the launch wrote an ownership file (`mode` not `off`; None: read it
    next to `hook_file` here)."""
    status = _handler(claude_hooks.hook_command(hook_file, kit), claude_hooks.HOOK_TIMEOUT_S)
    guard = ""
    if claude_hooks.guarded(hook_file, mode):
        owners = ownership_hook.ownership_file_for(hook_file)
        guard = _handler(claude_hooks.ownership_command(owners, kit), claude_hooks.OWNERSHIP_TIMEOUT_S)
    words: list[str] = []
    for event in HOOK_EVENTS:
        matcher = f"matcher={_toml('*')}," if event in _TOOL_EVENTS else ""
        groups = [f"{{{matcher}hooks=[{status}]}}"]
        if event == "PreToolUse" and guard:
            groups.append(f"{{matcher={_toml(ownership_hook.PATCH_TOOL)},hooks=[{guard}]}}")
        words += ["-c", f"hooks.{event}=[{','.join(groups)}]"]
    return ["--dangerously-bypass-hook-trust", *words]


def git_dirs(worktree: Path) -> list[str]:
    """The common git dir and the worktree's own git dir (absolute): where a commit writes."""
    found: list[str] = []
    for which in ("--git-common-dir", "--git-dir"):
        proc = run_git(worktree, "rev-parse", "--path-format=absolute", which)
        path = proc.stdout.decode("utf-8", "surrogateescape").strip()
        if proc.returncode == 0 and path and path not in found:
            found.append(path)
    return found


def sandbox_args(worktree: Path, mode: str) -> list[str]:
    """`--sandbox` and its writable roots for the sandbox mode (strict | on | off)."""
    if mode not in SANDBOX_MODES:
        raise ValueError(f"unknown sandbox mode {mode!r}")
    if mode == "off":
        return ["--sandbox", "danger-full-access"]
    words = ["--sandbox", "workspace-write"]
    for folder in git_dirs(worktree):
        words += ["--add-dir", folder]
    return words


def trust_args(worktree: Path) -> list[str]:
    """Trust the worktree for this invocation (the TUI's trust screen would stop it)."""
    entries = ",".join(f"{_toml(p)}={{trust_level={_toml('trusted')}}}"
                       for p in sorted({str(worktree.absolute()), str(worktree.resolve())}))
    return ["-c", f"projects={{{entries}}}"]


def launch_args(worktree: Path, hook_file: Path, sandbox: str, *, hooks: bool, kit: Kit = LOCAL_KIT,
                mode: str | None = None) -> list[str]:
    """The words `{agent_args}` stands for in the codex templates."""
    return [*(hook_overrides(hook_file, kit, mode) if hooks else []), *trust_args(worktree),
            *sandbox_args(worktree, sandbox)]
