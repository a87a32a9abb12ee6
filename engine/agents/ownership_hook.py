"""The PreToolUse hook that keeps a session's edits inside its own files.

Run by Claude Code as `<python> -I <this file> <ownership file>` on Write, Edit, MultiEdit
and NotebookEdit, with the hook payload on stdin. Codex runs it on `apply_patch` (the payload
is Claude's shape; the patch text is `tool_input.command`, its paths in the `*** Add File:`
headers) and honours the same `deny` decision; Gemini CLI runs it as a BeforeTool hook on
`write_file` and `replace` (`<file> gemini`), where only exit 2 blocks. The ownership file
is written at launch (`write_ownership_file`), so the hook reads one small JSON file and applies the engine's
one rule (`engine.core.ownership`, standard library only) — no journal, no CLI. Run as a file,
it imports the rule from the tree it is in: this checkout, or a kit shipped to an SSH host
(`engine.agents.kit`), where only python3 (3.9+) is. So this file and the rule use nothing
newer than 3.9 at run time.

It fails closed. On Claude Code 2.1.197 (docs/ownership.md) a hook that exits 1, prints
something that is not JSON, or times out lets the tool call through; only exit 2 or a
`deny` decision stops it. So every error here exits 2 with the reason on stderr, and the
command line adds `|| exit 2` for an interpreter that cannot even start or import the rule.

A refusal is appended to the session's hook file (the status reader shows it as
`refused_edits`) before the decision is printed, so it is never silent.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING

if __name__ == "__main__":
    # Run as a file, as the agents run it: under `-I` nothing of ours is on sys.path, so the rule
    # comes from the tree this file is in (this checkout, or a kit shipped to a host).
    _TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # noqa: PTH100, PTH120
    sys.path.insert(0, _TREE)

from engine.core import ownership

if TYPE_CHECKING:
    from pathlib import Path  # only in hints: the hook itself never pays for importing pathlib

EDIT_TOOLS = ("Write", "Edit", "MultiEdit", "NotebookEdit")
MATCHER = "|".join(EDIT_TOOLS)
PATCH_TOOL = "apply_patch"
"""Codex's edit tool (0.171.0): its paths are in the patch's file headers."""
GEMINI_EDIT_TOOLS = ("write_file", "replace")
"""Gemini CLI's edit tools (0.61.0), each with `tool_input.file_path`."""
_PATCH_HEADERS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: ")
REFUSED_EVENT = "OwnershipRefused"
"""The hook-file line of a refused (or, in `warn` mode, allowed but flagged) edit."""
MODES = ("deny", "ask", "warn", "off")


def ownership_file_for(hook_file: Path) -> Path:
    """`<slug>.ownership.json` next to the session's `<slug>.hook.jsonl`."""
    return hook_file.with_name(hook_file.name.removesuffix(".hook.jsonl") + ".ownership.json")


def ownership_json(bounds: ownership.Boundaries, *, mode: str, hook_file: Path) -> bytes:
    """What the hook needs, precomputed at launch: the ownership file's bytes (the launch writes
    them whole on the session's host, `Host.write_bytes`)."""
    data = {"mode": mode, "subtask": bounds.subtask, "worktree": bounds.worktree, "owned": list(bounds.owned),
            "others": {k: list(v) for k, v in bounds.others.items()}, "elsewhere": dict(bounds.elsewhere),
            "protected": dict(bounds.protected), "scratch": list(bounds.scratch), "hook_file": str(hook_file)}
    return json.dumps(data, indent=1).encode("utf-8")


def write_ownership_file(path: Path, bounds: ownership.Boundaries, *, mode: str, hook_file: Path) -> Path:
    """`ownership_json` written here, whole, then renamed into place (tests, tools)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(ownership_json(bounds, mode=mode, hook_file=hook_file))
    partial.replace(path)
    return path


SHELL_FILES = (".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv",
               ".zprofile", ".zlogin", ".zlogout", ".cshrc", ".tcshrc", ".kshrc", ".config/fish")


def protected_places(home: str, state: str, config_dir: str) -> dict[str, str]:
    """What no session may write, by name, wherever the temp dir or the worktree is: the tool's
    own config and state (`ownership = "off"` for the next run), Claude Code's user settings
    (hooks, permissions), shell start-up files, SSH keys and git's user config. Every path is
    the session's host's (its `home`: `Kit.places()`)."""
    places = {os.path.join(home, ".config", "parallel-tui"): "parallel-tui's config folder",  # noqa: PTH118
              config_dir: "parallel-tui's config folder", state: "parallel-tui's state folder"}
    if state == config_dir:  # one $PARALLEL_TUI_HOME holds both
        places[state] = "parallel-tui's config and state folder"
    places |= {os.path.join(home, ".claude", "settings*.json"): "Claude Code's user settings",  # noqa: PTH118
               os.path.join(home, ".ssh"): "your SSH folder",  # noqa: PTH118
               os.path.join(home, ".gitconfig"): "your git config",  # noqa: PTH118
               os.path.join(home, ".config", "git"): "your git config"}  # noqa: PTH118
    places |= {os.path.join(home, name): "a shell start-up file" for name in SHELL_FILES}  # noqa: PTH118
    return places


def scratch_places(temp_dir: str, uid: int | None = None) -> tuple[str, ...]:
    """Where a session may write outside its worktree: the temp dir, and the one Claude Code's
    sandbox gives commands (`/tmp/claude-<uid>`, its `$TMPDIR` on 2.1.197). `temp_dir` and
    `uid` are the session's host's (`Kit.places()`); no uid: this process's."""
    return (temp_dir, f"/tmp/claude-{os.getuid() if uid is None else uid}")


def mode_in(data: bytes) -> str:
    """The mode in an ownership file's bytes; "deny" when they are not one (fails closed)."""
    try:
        found = json.loads(data.decode("utf-8"))
    except ValueError:
        return "deny"
    return str(found.get("mode", "deny")) if isinstance(found, dict) else "deny"


def _decision(mode: str, reason: str) -> dict[str, object]:
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": mode,
                                   "permissionDecisionReason": reason}}


def _paths_of(payload: Mapping[str, object]) -> list[str]:
    tool = payload.get("tool_name")
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, dict):
        raise TypeError(f"{tool} call without tool_input")
    if tool == PATCH_TOOL:
        return patch_paths(str(tool_input.get("command") or tool_input.get("input") or ""))
    path = tool_input.get("notebook_path" if tool == "NotebookEdit" else "file_path")
    if not isinstance(path, str) or not path:
        raise ValueError(f"{tool} call without a path")
    return [path]


def patch_paths(patch: str) -> list[str]:
    """Every file an `apply_patch` patch touches (added, updated, deleted, moved to); a patch
    that names none is refused, since it cannot be judged."""
    paths = [line[len(h):].strip() for line in patch.splitlines() for h in _PATCH_HEADERS
             if line.startswith(h)]
    if not paths:
        raise ValueError("apply_patch call without a file header")
    return paths


def _journal(hook_file: str, line: Mapping[str, object]) -> None:
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(hook_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def decide(config: Mapping[str, object], payload: Mapping[str, object],
           now: float) -> dict[str, object] | None:
    """The decision to print (None: let the call through), journaling any refusal."""
    mode = str(config["mode"])
    if mode not in MODES:
        raise ValueError(f"unknown ownership mode {mode!r}")
    if mode == "off":
        return None
    others = config.get("others") or {}
    elsewhere = config.get("elsewhere") or {}
    protected = config.get("protected") or {}
    scratch = config.get("scratch", ["/tmp"])  # a file written before scratch places were listed
    worktree = config.get("worktree")
    if not isinstance(others, dict) or not isinstance(elsewhere, dict) or not isinstance(protected, dict) \
            or not isinstance(scratch, list) or not isinstance(worktree, str) or not worktree.startswith("/"):
        raise TypeError("malformed ownership file")
    bounds = ownership.Boundaries(
        subtask=str(config["subtask"]), worktree=worktree,
        owned=tuple(str(f) for f in config["owned"]),  # type: ignore[attr-defined]
        others={str(k): tuple(str(f) for f in v) for k, v in others.items()},
        elsewhere={str(k): str(v) for k, v in elsewhere.items()},
        protected={str(k): str(v) for k, v in protected.items()}, scratch=tuple(str(f) for f in scratch))
    cwd = str(payload.get("cwd") or "")
    refused = [(p, v) for p in _paths_of(payload) if not (v := ownership.judge(bounds, p, cwd)).allowed]
    if not refused:
        return None
    path, verdict = refused[0]
    _journal(str(config["hook_file"]), {
        "event": REFUSED_EVENT, "at": now, "path": path, "tool_name": str(payload.get("tool_name", "")),
        "decision": mode, "owner": verdict.owner, "reason": verdict.reason,
        "session_id": str(payload.get("session_id", ""))})
    return None if mode == "warn" else _decision(mode, verdict.reason)


def main(argv: Sequence[str], stdin: IO[str], stdout: IO[str]) -> int:
    """`argv[2] == "gemini"`: a refusal is exit 2 with the reason on stderr (Gemini CLI's block)."""
    gemini = len(argv) > 2 and argv[2] == "gemini"
    try:
        with open(argv[1], encoding="utf-8") as handle:  # noqa: PTH123 - no pathlib in the hook
            config = json.load(handle)
        payload = json.loads(stdin.read())
        out = decide(config, payload, time.time())
    except BaseException as exc:  # noqa: BLE001 - fail closed: any error refuses the edit
        sys.stderr.write(f"parallel-tui ownership hook failed ({exc!r}), so the edit is refused; "
                         f"note the change for the merge instead\n")
        return 2
    if out is not None and gemini:
        sys.stderr.write(str(out["hookSpecificOutput"]["permissionDecisionReason"]) + "\n")  # type: ignore[index]
        return 2
    if out is not None:
        stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv, sys.stdin, sys.stdout))
