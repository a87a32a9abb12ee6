"""The one builder of a Claude Code session's `--settings` JSON: hooks, statusline, permissions,
sandbox.

Every session (interactive and headless) gets its settings from `session_settings`, so what
contains an agent is decided in one place (remote hosts will add to it here too); the statusLine
keeps interactive Claude Code's cost, tokens and rate-limit use for the board (chained to the
person's own statusline). Nothing is written into the worktree.

The sandbox block is the one verified on 2.1.197 (facts §9): `allowUnsandboxedCommands:
false` is what closes it — it defaults to true, and the model is taught to retry a blocked
command with `dangerouslyDisableSandbox: true`, which then ran unsandboxed. With the sandbox
on, `permissions.allow: ["Bash"]` lets a headless session run its tests and commit (without
it `claude -p` refuses compound commands). Writes stay where the sandbox puts them: the
worktree, the sandbox's temp dir and the git common dir (commits); nothing here widens them.
"""

from __future__ import annotations

import json
from typing import Any

from engine.agents.hooks import hook_payload
from engine.claude import statusline
from engine.core.sandbox import SessionSettings

SECRETS = ("~/.ssh", "~/.aws", "~/.config/gh", "~/.gnupg", "~/.netrc", "~/.git-credentials",
           "~/.config/gcloud", "~/.azure", "~/.kube", "~/.docker/config.json", "~/.npmrc", "~/.pypirc",
           "~/.cargo/credentials.toml", "~/.claude/.credentials.json", "~/.config/parallel-tui")
"""Never readable by a sandboxed command (`sandbox.filesystem.denyRead`): keys, tokens, cloud
logins, and this tool's own config."""
LIMITED_RULES = ("Bash(git add:*)", "Bash(git commit:*)")
"""Without a sandbox (`sandbox = "on"` on a machine that lacks it): what may run without asking."""


def session_settings(spec: SessionSettings) -> str:
    """The JSON for `claude --settings`."""
    settings: dict[str, Any] = {"hooks": hook_payload(spec.status_file, spec.kit, spec.ownership_mode)}
    own = statusline.own_statusline() if spec.kit.local else ""  # this machine's command: not on a host
    settings |= statusline.statusline_settings(statusline.usage_file_for(spec.status_file), own, spec.kit)
    if spec.shell == "sandboxed":
        settings["permissions"] = {"allow": ["Bash"]}
        settings["sandbox"] = sandbox_block(spec)
    elif spec.shell == "limited":
        test = [f"Bash({spec.test_command.strip()})"] if spec.test_command.strip() else []
        settings["permissions"] = {"allow": [*LIMITED_RULES, *test]}
    return json.dumps(settings, separators=(",", ":"))


def sandbox_block(spec: SessionSettings) -> dict[str, Any]:
    secrets = [s if spec.home is None else str(spec.home / s.removeprefix("~/")) for s in SECRETS]
    return {"enabled": True, "failIfUnavailable": True, "allowUnsandboxedCommands": False,
            "filesystem": {"denyRead": secrets},
            "network": {"allowedDomains": list(spec.allowed_domains)}}
