"""The ownership hook called directly with crafted hook JSON, as a hostile agent would send it.

Each case was let through before: an absolute path outside the repository, a symlink inside
the worktree that leads outside, a dangling symlink in an owned folder that points outside,
and the tool's own config file. Now every path is resolved, writes outside the worktree are
refused except in the scratch places (the temp dir), and some places are refused by name
wherever they are: the tool's config and state, Claude Code's user settings, shell rc files.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.agents import hooks, ownership_hook
from engine.core.ownership import Boundaries


@dataclass(frozen=True, slots=True)
class Box:
    root: Path
    home: Path
    state: Path
    worktree: Path
    outside: Path
    scratch: Path


@pytest.fixture
def box(tmp_path: Path) -> Box:
    """A worktree owning `src/`, a HOME, the tool's state folder, and a scratch folder; the
    scratch folder holds HOME and the state folder, as /tmp does in a test run, so a protected
    name must win over the scratch place around it."""
    scratch = tmp_path / "tmp"
    home, state = scratch / "home", scratch / "ptui"
    worktree, outside = tmp_path / "repo.parallel" / "a", tmp_path / "outside"
    for folder in (home / ".claude", state, worktree / "src", outside):
        folder.mkdir(parents=True)
    return Box(root=tmp_path, home=home, state=state, worktree=worktree, outside=outside, scratch=scratch)


def hook(box: Box, path: str, cwd: str = "", *, extra: dict[str, object] | None = None) -> tuple[int, str]:
    """Run the hook as Claude Code does (`sh -c` on the command), with a launch-like ownership
    file; the permission decision ("" when the edit may go ahead) and the exit code."""
    own = box.root / "a.ownership.json"
    own.write_text(json.dumps(ownership_file(box) | (extra or {})))
    payload = {"hook_event_name": "PreToolUse", "tool_name": "Write", "cwd": cwd or str(box.worktree),
               "tool_input": {"file_path": path, "content": "x"}, "session_id": "s1"}
    done = subprocess.run(["/bin/sh", "-c", hooks.ownership_command(own)], input=json.dumps(payload),
                          capture_output=True, text=True, check=False, timeout=30)
    if done.returncode != 0 or not done.stdout.strip():
        return done.returncode, ""
    decision = json.loads(done.stdout)["hookSpecificOutput"]
    return done.returncode, f"{decision['permissionDecision']}: {decision['permissionDecisionReason']}"


def ownership_file(box: Box) -> dict[str, object]:
    """What the launch writes (`write_ownership_file`), spelled out: the hook's input."""
    home = box.home
    protected = {str(box.state): "parallel-tui's config and state folder",
                 f"{home}/.config/parallel-tui": "parallel-tui's config folder",
                 f"{home}/.claude/settings*.json": "Claude Code's user settings",
                 **{f"{home}/{rc}": "a shell start-up file" for rc in (".bashrc", ".zshrc", ".profile",
                                                                       ".bash_profile")}}
    return {"mode": "deny", "subtask": "a", "worktree": str(box.worktree), "owned": ["src/"], "others": {},
            "elsewhere": {}, "protected": protected, "hook_file": str(box.root / "a.hook.jsonl"),
            "scratch": [str(box.scratch), f"/tmp/claude-{os.getuid()}"]}


def test_the_launch_writes_what_the_hook_is_tested_with(box: Box) -> None:
    own = box.root / "launch.ownership.json"
    protected = ownership_hook.protected_places(str(box.home), str(box.state), str(box.state))
    bounds = Boundaries(subtask="a", worktree=str(box.worktree), owned=("src/",), protected=protected,
                        scratch=ownership_hook.scratch_places(str(box.scratch)))
    ownership_hook.write_ownership_file(own, bounds, mode="deny", hook_file=box.root / "a.hook.jsonl")
    written, spelled = json.loads(own.read_text()), ownership_file(box)
    assert written["scratch"] == spelled["scratch"]
    assert spelled["protected"].items() <= written["protected"].items()  # type: ignore[attr-defined]
    assert written["protected"][f"{box.home}/.ssh"] == "your SSH folder"


def test_its_own_files_and_the_scratch_places_are_allowed(box: Box) -> None:
    assert hook(box, str(box.worktree / "src" / "a.py")) == (0, "")
    assert hook(box, str(box.scratch / "notes.txt")) == (0, "")
    assert hook(box, f"/tmp/claude-{os.getuid()}/out.txt") == (0, "")  # the sandbox's $TMPDIR


def test_an_absolute_path_outside_the_repository_is_refused(box: Box) -> None:
    code, decision = hook(box, str(box.outside / "x.txt"))
    assert code == 0 and decision.startswith("deny: ")
    assert "leads outside this session's worktree" in decision


def test_a_relative_path_that_climbs_out_is_refused(box: Box) -> None:
    assert hook(box, "../../outside/x.txt")[1].startswith("deny: ")
    assert hook(box, "src/../../../outside/x.txt")[1].startswith("deny: ")


def test_a_symlink_inside_the_worktree_leading_outside_is_refused(box: Box) -> None:
    (box.worktree / "src" / "out").symlink_to(box.outside)
    code, decision = hook(box, str(box.worktree / "src" / "out" / "x.py"))
    assert decision.startswith("deny: ") and "through a symlink" in decision
    assert not (box.outside / "x.py").exists()
    assert code == 0


def test_a_dangling_symlink_in_an_owned_folder_pointing_outside_is_refused(box: Box) -> None:
    (box.worktree / "src" / "later.py").symlink_to(box.outside / "not-yet" / "f.py")
    _, decision = hook(box, "src/later.py")
    assert decision.startswith("deny: ") and "through a symlink" in decision


@pytest.mark.parametrize("where", ["state", "config"])
def test_the_tools_own_config_and_state_are_refused_by_name(box: Box, where: str) -> None:
    config = box.home / ".config" / "parallel-tui" / "x.toml"
    _, decision = hook(box, str(box.state / "config.toml" if where == "state" else config))
    assert decision.startswith("deny: ") and "parallel-tui's" in decision
    assert "no session may change" in decision


@pytest.mark.parametrize("name", ["settings.json", "settings.local.json"])
def test_claude_codes_user_settings_are_refused_by_name(box: Box, name: str) -> None:
    _, decision = hook(box, str(box.home / ".claude" / name))
    assert "Claude Code's user settings" in decision


@pytest.mark.parametrize("name", [".bashrc", ".zshrc", ".profile", ".bash_profile"])
def test_shell_rc_files_are_refused_by_name_also_through_a_symlink(box: Box, name: str) -> None:
    assert "a shell start-up file" in hook(box, str(box.home / name))[1]
    (box.scratch / "innocent").symlink_to(box.home / name)
    assert "a shell start-up file" in hook(box, str(box.scratch / "innocent"))[1]


@pytest.mark.parametrize("extra", [{"protected": ["not", "a", "table"]}, {"scratch": "/tmp"},
                                   {"worktree": None}])
def test_a_malformed_ownership_file_still_fails_closed(box: Box, extra: dict[str, object]) -> None:
    assert hook(box, str(box.worktree / "src" / "a.py"), extra=extra) == (2, "")
