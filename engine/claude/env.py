"""Prepare a HOME (or config dir) in which `claude` runs unattended in given worktrees.

An interactive `claude` stops on screens no one will answer in a background tmux window:
onboarding (without it 2.1.x exits with "Unable to connect to Anthropic services"), the
custom-API-key confirmation, and the workspace trust dialog, whose default answer quits
(facts §1.5, §1.8). Claude Code keeps those answers in `<HOME>/.claude.json`, so writing them
there beforehand skips the screens. Used by the tests (a temp HOME) and by the engine when
the user picks an isolated config dir. It never runs against the user's real
`~/.claude.json` unless the caller passes that HOME on purpose — tests never do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.hosts.host import Host

KEY_SUFFIX_LEN = 20
"""Claude Code approves a custom API key by its last 20 characters."""


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _trusted_paths(worktree: Path) -> set[str]:
    """The path as given and as resolved: Claude keys projects by its cwd, which may be either."""
    return {str(worktree.absolute()), str(worktree.resolve())}


def prepare_claude_config(config_file: Path, worktrees: Iterable[Path], api_key: str | None = None) -> Path:
    """Merge the unattended-start answers into `config_file` (a `.claude.json`), keeping other keys.

    Only the key's last 20 characters are stored, as Claude Code itself does; the key is
    never written whole, printed or logged. The file is written owner-only.
    """
    data = _with_answers(_load(config_file), [p for w in worktrees for p in _trusted_paths(w)], api_key)
    config_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = config_file.with_name(config_file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    tmp.replace(config_file)
    return config_file


def _with_answers(data: dict[str, Any], paths: Iterable[str], api_key: str | None = None) -> dict[str, Any]:
    """`data` (a `.claude.json`) with onboarding done, the key's suffix approved and each path trusted."""
    data["hasCompletedOnboarding"] = True
    data.setdefault("numStartups", 1)
    if api_key:
        responses = data.setdefault("customApiKeyResponses", {})
        approved = responses.setdefault("approved", [])
        suffix = api_key[-KEY_SUFFIX_LEN:]
        if suffix not in approved:
            approved.append(suffix)
        responses.setdefault("rejected", [])
    projects = data.setdefault("projects", {})
    for path in paths:
        entry = projects.setdefault(path, {})
        entry["hasTrustDialogAccepted"] = True
        entry.setdefault("hasCompletedProjectOnboarding", True)
        entry.setdefault("allowedTools", [])
    return data


def prepare_home(home: Path, worktrees: Iterable[Path], api_key: str | None = None) -> Path:
    """Write `<home>/.claude.json` for unattended starts in `worktrees`; returns its path."""
    return prepare_claude_config(home / ".claude.json", worktrees, api_key)


def claude_environ(base: Mapping[str, str], *, home: Path, base_url: str | None = None,
                   api_key: str | None = None) -> dict[str, str]:
    """`base` plus what an offline, quiet, unattended claude needs (HOME, no telemetry)."""
    env = dict(base)
    env["HOME"] = str(home)
    env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
    env["DISABLE_TELEMETRY"] = "1"
    env.pop("CLAUDE_CONFIG_DIR", None)
    if base_url:
        env["ANTHROPIC_BASE_URL"] = base_url
    if api_key:
        env["ANTHROPIC_API_KEY"] = api_key
    return env


def user_config_file(environ: Mapping[str, str]) -> Path:
    """Where the user's Claude Code keeps `.claude.json` (CLAUDE_CONFIG_DIR moves it)."""
    folder = environ.get("CLAUDE_CONFIG_DIR")
    base = Path(folder) if folder else Path(environ.get("HOME", "~")).expanduser()
    return base / ".claude.json"


def trust_on_host(host: Host, config_file: Path, repo: Path, worktrees: Iterable[Path]) -> bool:
    """`trust_like_repo` for worktrees on an SSH host: where the user trusts the repo here, the
    worktrees are trusted in the host's own `~/.claude.json` (Claude Code there reads that one,
    under that host's login). Paths are the host's, written as given."""
    if not _trusts(config_file, repo):
        return False
    from engine.hosts.on_host import home_on  # noqa: PLC0415

    target = Path(home_on(host)) / ".claude.json"
    try:
        data = json.loads(host.read_bytes(target))
    except FileNotFoundError:
        data = {}
    except ValueError:
        return False  # not JSON we can read: left as it is (Claude Code there asks for trust)
    if not isinstance(data, dict):
        return False
    data = _with_answers(data, [str(w) for w in worktrees])
    host.write_bytes(target, json.dumps(data, indent=2).encode("utf-8"))
    host.chmod(target, 0o600)
    return True


def _trusts(config_file: Path, repo: Path) -> bool:
    """The user answered Claude Code's trust dialog for the repo (as given or resolved)."""
    projects = _load(config_file).get("projects", {})
    return any(isinstance(projects.get(p), dict) and projects[p].get("hasTrustDialogAccepted")
               for p in _trusted_paths(repo))


def trust_like_repo(config_file: Path, repo: Path, worktrees: Iterable[Path]) -> bool:
    """Trust our new worktrees only where the user already trusts the repo they come from.

    A worktree is a new folder to Claude Code, so its trust dialog (whose default answer
    quits) would stall every background session; the user's own answer for the repo is
    the consent we carry over. Returns whether anything was written.
    """
    trusted = _trusts(config_file, repo)
    if trusted:
        prepare_claude_config(config_file, worktrees)
    return bool(trusted)
