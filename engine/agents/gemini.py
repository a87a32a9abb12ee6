"""How parallel-tui starts Google's Gemini CLI (`@google/gemini-cli`, checked on 0.61.0).

Gemini reads hooks only from settings files. The workspace's would land in the worktree (and
in the agent's commits), and a system defaults file given by `GEMINI_CLI_SYSTEM_DEFAULTS_PATH`
is skipped whenever any folder above it is writable by others (`/tmp`, seen on 0.61.0). So each
session gets a home of its own (`GEMINI_CLI_HOME`): its `.gemini/` links every entry of the
user's own `~/.gemini` (login, trusted folders, extensions, history) except `settings.json`,
which is the user's settings with our hooks added:

- status: SessionStart, BeforeAgent, BeforeTool, AfterTool, AfterAgent, Notification and
  SessionEnd append to the session's hook file (the writer Claude Code's hooks use);
- ownership: `write_file` and `replace` go through the ownership hook first, whose exit 2
  blocks the call before the file is written. Gemini's shell tool is judged after the fact, by
  the boundary watch.

Trust: headless Gemini exits 55 in a folder it does not trust, and a linked worktree is a new
folder to it. A worktree of a repo the user trusts (`trustedFolders.json`) is trusted for the
session (`GEMINI_CLI_TRUST_WORKSPACE=true`); a repo the user does not trust is refused before
anything starts. Sandbox: Gemini's own needs Docker or Podman (a container image), so
`sandbox = "strict"` refuses Gemini where neither answers; otherwise it runs unsandboxed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.agents import hooks as claude_hooks
from engine.agents import ownership_hook
from engine.core.errors import UsageError
from engine.core.kit import LOCAL_KIT, Kit
from engine.hosts.gitcli import run_git
from engine.hosts.host import Host
from engine.hosts.local import LOCAL

VERSION = "0.61.0"
INSTALL = f"npm install -g @google/gemini-cli@{VERSION}"
HOOK_EVENTS = ("SessionStart", "BeforeAgent", "BeforeTool", "AfterTool", "AfterAgent", "Notification",
               "SessionEnd")
EDIT_MATCHER = "|".join(ownership_hook.GEMINI_EDIT_TOOLS)
HOOK_TIMEOUT_MS = claude_hooks.HOOK_TIMEOUT_S * 1000
RUNTIMES = ("docker", "podman")
RUNTIME_PROBE_S = 10.0
TRUSTED = ("TRUST_FOLDER", "TRUST_PARENT")


def user_dir(environ: Mapping[str, str]) -> Path:
    """The user's Gemini folder: `$GEMINI_CLI_HOME/.gemini`, else `~/.gemini`."""
    base = environ.get("GEMINI_CLI_HOME") or environ.get("HOME") or str(Path.home())
    return Path(base) / ".gemini"


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def hooks(hook_file: Path, kit: Kit = LOCAL_KIT, mode: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The `hooks` settings: every status event to the hook file, edits to the ownership hook
    (when the launch wrote an ownership file: `mode` not `off`; None: read it here)."""
    command = claude_hooks.hook_command(hook_file, kit)
    status = {"type": "command", "command": command, "timeout": HOOK_TIMEOUT_MS}
    out: dict[str, list[dict[str, Any]]] = {e: [{"matcher": "*", "hooks": [status]}] for e in HOOK_EVENTS}
    if claude_hooks.guarded(hook_file, mode):
        owners = ownership_hook.ownership_file_for(hook_file)
        guard = f"{claude_hooks.ownership_command(owners, kit).split(' || ', 1)[0]} gemini"
        guard += " || exit 2"  # an interpreter that cannot start must block too
        out["BeforeTool"].append({"matcher": EDIT_MATCHER, "hooks": [
            {"type": "command", "command": guard, "timeout": claude_hooks.OWNERSHIP_TIMEOUT_S * 1000}]})
    return out


def session_home(hook_file: Path, environ: Mapping[str, str], kit: Kit = LOCAL_KIT,
                 mode: str | None = None) -> Path:
    """The session's GEMINI_CLI_HOME next to its hook file (made again at each launch)."""
    home = hook_file.with_name(hook_file.name.removesuffix(".hook.jsonl") + ".gemini-home")
    folder = home / ".gemini"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    mine = user_dir(environ)
    if mine.is_dir():
        for entry in mine.iterdir():
            if entry.name != "settings.json":
                (folder / entry.name).symlink_to(entry)
    settings = _json(mine / "settings.json")
    theirs = settings.get("hooks")
    merged: dict[str, Any] = dict(theirs) if isinstance(theirs, dict) else {}
    for event, groups in hooks(hook_file, kit, mode).items():
        kept = merged.get(event)
        merged[event] = [*(kept if isinstance(kept, list) else []), *groups]
    settings["hooks"] = merged
    target = folder / "settings.json"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(settings, handle, indent=1)
    return home


def main_checkout(worktree: Path) -> Path | None:
    proc = run_git(worktree, "rev-parse", "--path-format=absolute", "--git-common-dir")
    common = proc.stdout.decode("utf-8", "surrogateescape").strip()
    return Path(common).parent if proc.returncode == 0 and common else None


def trusts(repo: Path, environ: Mapping[str, str]) -> bool:
    """Whether the user's Gemini trusts `repo`: folder trust off, or `trustedFolders.json`
    trusts it or a folder above it (TRUST_FOLDER), or names a folder inside it with
    TRUST_PARENT."""
    folder = user_dir(environ)
    trust = _json(folder / "settings.json").get("security")
    if isinstance(trust, dict) and isinstance(trust.get("folderTrust"), dict) \
            and trust["folderTrust"].get("enabled") is False:
        return True
    listed = environ.get("GEMINI_CLI_TRUSTED_FOLDERS_PATH") or str(folder / "trustedFolders.json")
    real = repo.resolve()
    for path, level in _json(Path(listed)).items():
        where = Path(path).expanduser().resolve()
        if level == "TRUST_FOLDER" and (real == where or where in real.parents):
            return True
        if level == "TRUST_PARENT" and (real == where.parent or where.parent in real.parents):
            return True
    return False


def runtime(host: Host = LOCAL) -> str:
    """A container runtime that answers (`docker info` / `podman info`), or ""."""
    for name in RUNTIMES:
        program = host.which(name)
        if program is None:
            continue
        try:
            done = host.run([program, "info"], timeout=RUNTIME_PROBE_S)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return name
    return ""


def check(repo: Path, sandbox: str, environ: Mapping[str, str]) -> None:
    """Refuse before anything starts: a repo Gemini does not trust, or `strict` with no runtime."""
    if not trusts(repo, environ):
        raise UsageError(f"Gemini CLI does not trust {repo}, so it would exit 55 in every worktree",
                         hint=f"run `gemini` in {repo} once and trust the folder, or add it to "
                              f"{user_dir(environ) / 'trustedFolders.json'}")
    if sandbox == "strict" and not runtime():
        raise UsageError("sandbox = \"strict\", but Gemini CLI's sandbox needs Docker or Podman and "
                         "neither answers here",
                         hint="start Docker or install Podman, pick another agent, or set sandbox = \"on\"")


def launch_env(worktree: Path, hook_file: Path, *, with_hooks: bool, environ: Mapping[str, str],
               kit: Kit = LOCAL_KIT, mode: str | None = None) -> dict[str, str]:
    """The variables the session runs with: its own home (with our hooks), and trust."""
    env: dict[str, str] = {}
    if with_hooks:
        env["GEMINI_CLI_HOME"] = str(session_home(hook_file, environ, kit, mode))
    repo = main_checkout(worktree)
    if repo is not None and trusts(repo, environ):
        env["GEMINI_CLI_TRUST_WORKSPACE"] = "true"
    return env


def launch_args(sandbox: str) -> list[str]:
    return ["--sandbox"] if sandbox == "strict" else []
