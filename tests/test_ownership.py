"""The one ownership rule, as validation, the boundary watch and the edit hook use it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.agents import hooks, ownership_hook
from engine.core.config import load_config
from engine.core.errors import ConfigError
from engine.core.models import Subtask
from engine.core.ownership import Boundaries, covers, judge, normalize, owns, parents
from engine.planning.validation import find_overlaps
from engine.run.boundary import boundary_warnings

# (an entry one subtask owns, a path another names): does the entry cover the path?
CASES = [
    ("src/", "src/a.py", True),
    ("src", "src/a.py", True),
    ("./src/", "src/deep/b.py", True),
    ("src/a.py", "src/a.py", True),
    ("src/a.py", "src/b.py", False),
    ("src", "srcx/a.py", False),
    ("src/a", "src/ab.py", False),
]


@pytest.mark.parametrize(("entry", "path", "covered"), CASES)
def test_validation_and_the_boundary_watch_agree_on_folder_ownership(entry: str, path: str,
                                                                     covered: bool) -> None:
    plan = [Subtask(name="a", description="x", files_to_modify=(entry,)),
            Subtask(name="b", description="y", files_to_modify=(path,))]
    validation_says_overlap = bool(find_overlaps(plan))
    watch = boundary_warnings({"a": (path,)}, {"a": (entry,)})
    watch_says_inside = not watch
    assert validation_says_overlap == watch_says_inside == covered == owns([entry], path)


def test_the_boundary_watch_still_flags_a_file_outside_a_folder() -> None:
    [warning] = boundary_warnings({"a": ("src/a.py", "docs/x.md")}, {"a": ("src/",)})
    assert (warning.file, warning.reason) == ("docs/x.md", "outside its files")


def test_normalize_and_covers() -> None:
    assert normalize("./src//x/") == "src/x"
    assert normalize(".") == ""
    assert not covers("", "anything")  # the root is never an owned entry
    assert parents("a/b/c.py") == {"a", "a/b"}
    assert parents("/abs") == {"/"}


@pytest.fixture
def layout(tmp_path: Path) -> Boundaries:
    repo, wt = tmp_path / "repo", tmp_path / "repo.parallel" / "a"
    (wt / "src").mkdir(parents=True)
    (tmp_path / "repo.parallel" / "b").mkdir()
    repo.mkdir()
    (wt / "alias").symlink_to(wt / "lib")
    return Boundaries(subtask="a", worktree=str(wt), owned=("src/",),
                      others={"b": ("lib/b.py",)}, scratch=(str(tmp_path / "scratch"),),
                      elsewhere={str(repo): "the main checkout",
                                 str(tmp_path / "repo.parallel" / "b"): "subtask b's worktree"})


def test_judge_allows_its_own_files_and_the_scratch_places(layout: Boundaries) -> None:
    wt = Path(layout.worktree)
    assert judge(layout, str(wt / "src" / "new.py")).allowed
    assert judge(layout, "src/rel.py").allowed  # relative to the worktree
    assert judge(layout, f"{layout.scratch[0]}/notes.txt").allowed


def test_judge_refuses_another_subtasks_file_with_a_reason_the_agent_can_act_on(layout: Boundaries) -> None:
    verdict = judge(layout, str(Path(layout.worktree) / "lib" / "b.py"))
    assert not verdict.allowed and verdict.owner == "b"
    assert verdict.reason.endswith("belongs to subtask b; put the change in src/ or note it for the merge")


def test_judge_resolves_symlinks_before_deciding(layout: Boundaries) -> None:
    verdict = judge(layout, str(Path(layout.worktree) / "alias" / "b.py"))
    assert (verdict.allowed, verdict.owner) == (False, "b")


def test_judge_refuses_the_main_checkout_and_sibling_worktrees(layout: Boundaries) -> None:
    main, sibling = (next(k for k, v in layout.elsewhere.items() if v == label)
                     for label in ("the main checkout", "subtask b's worktree"))
    assert "is in the main checkout" in judge(layout, f"{main}/src/x.py").reason
    assert "is in subtask b's worktree" in judge(layout, f"{sibling}/src/x.py").reason


def test_a_session_that_owns_nothing_may_edit_anything_but_others_files(layout: Boundaries) -> None:
    bounds = Boundaries(subtask="q", worktree=layout.worktree, owned=(), others=layout.others)
    assert judge(bounds, "docs/x.md").allowed
    assert not judge(bounds, "lib/b.py").allowed


def _hook(tmp_path: Path, mode: str, payload: object, *,
          config: str | None = None) -> tuple[int, str, str]:
    """Run the hook exactly as Claude Code does: `python -I script file`, payload on stdin."""
    wt = tmp_path / "wt"
    wt.mkdir(exist_ok=True)
    own = tmp_path / "s.ownership.json"
    if config is None:
        bounds = Boundaries(subtask="a", worktree=str(wt), owned=("a.py",), others={"b": ("b.py",)})
        ownership_hook.write_ownership_file(own, bounds, mode=mode, hook_file=tmp_path / "s.hook.jsonl")
    else:
        own.write_text(config)
    done = subprocess.run(["/bin/sh", "-c", hooks.ownership_command(own)], input=json.dumps(payload),
                          capture_output=True, text=True, check=False, timeout=30)
    return done.returncode, done.stdout, done.stderr


def _edit(path: str, tool: str = "Write") -> dict[str, object]:
    key = "notebook_path" if tool == "NotebookEdit" else "file_path"
    return {"hook_event_name": "PreToolUse", "tool_name": tool, "tool_input": {key: path}, "session_id": "s1"}


@pytest.mark.parametrize("tool", ["Write", "Edit", "MultiEdit", "NotebookEdit"])
def test_the_hook_denies_every_edit_tool_outside_and_journals_it(tmp_path: Path, tool: str) -> None:
    code, out, _ = _hook(tmp_path, "deny", _edit(str(tmp_path / "wt" / "b.py"), tool))
    assert code == 0
    decision = json.loads(out)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny"
    assert "belongs to subtask b" in decision["permissionDecisionReason"]
    [refused] = hooks.refused_edits(tmp_path / "s.hook.jsonl")
    assert (refused.path, refused.decision, refused.owner) == (str(tmp_path / "wt" / "b.py"), "deny", "b")


def test_the_hook_lets_its_own_file_through_silently(tmp_path: Path) -> None:
    assert _hook(tmp_path, "deny", _edit(str(tmp_path / "wt" / "a.py"))) == (0, "", "")
    assert hooks.refused_edits(tmp_path / "s.hook.jsonl") == ()


def test_ask_asks_and_warn_only_journals(tmp_path: Path) -> None:
    _, out, _ = _hook(tmp_path, "ask", _edit("b.py"))
    assert json.loads(out)["hookSpecificOutput"]["permissionDecision"] == "ask"
    assert _hook(tmp_path, "warn", _edit("b.py")) == (0, "", "")
    assert [r.decision for r in hooks.refused_edits(tmp_path / "s.hook.jsonl")] == ["ask", "warn"]


@pytest.mark.parametrize(("payload", "config"), [
    ({"tool_name": "Write", "tool_input": {}}, None),  # no path
    ("not an object", None),
    (_edit("a.py"), "{not json"),
    (_edit("a.py"), '{"mode": "sometimes", "subtask": "a", "worktree": "/", "owned": []}'),
])
def test_the_hook_fails_closed(tmp_path: Path, payload: object, config: str | None) -> None:
    code, out, err = _hook(tmp_path, "deny", payload, config=config)
    assert (code, out) == (2, "")  # exit 2 is what blocks the call on 2.1.197 (docs/ownership.md)
    assert "edit is refused" in err


def test_the_command_blocks_even_when_the_interpreter_cannot_start(tmp_path: Path) -> None:
    command = hooks.ownership_command(tmp_path / "s.ownership.json")
    command = command.replace(sys.executable, "/nonexistent/python")
    done = subprocess.run(["/bin/sh", "-c", command], input="{}", capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "edit refused" in done.stderr


def test_settings_carry_the_ownership_hook_only_when_the_launch_wrote_its_file(tmp_path: Path) -> None:
    hook_file = tmp_path / "s.hook.jsonl"
    assert len(json.loads(hooks.hook_settings(hook_file))["hooks"]["PreToolUse"]) == 1
    bounds = Boundaries(subtask="a", worktree=str(tmp_path), owned=())
    ownership_hook.write_ownership_file(ownership_hook.ownership_file_for(hook_file), bounds, mode="deny",
                                        hook_file=hook_file)
    status, guard = json.loads(hooks.hook_settings(hook_file))["hooks"]["PreToolUse"]
    assert status["matcher"] == "*"
    assert guard["matcher"] == "Write|Edit|MultiEdit|NotebookEdit"
    assert "ownership_hook.py" in guard["hooks"][0]["command"]


def test_config_takes_the_four_modes_and_refuses_others(tmp_path: Path) -> None:
    assert load_config(tmp_path).ownership == "deny"
    assert load_config(tmp_path, {"ownership": "ask"}).ownership == "ask"
    with pytest.raises(ConfigError, match="ownership='sometimes'"):
        load_config(tmp_path, {"ownership": "sometimes"})


def test_every_refusal_shows_however_long_the_session(tmp_path: Path) -> None:
    hook_file = tmp_path / "s.hook.jsonl"
    refusal = {"event": "OwnershipRefused", "at": 1.0, "path": "b.py", "decision": "deny", "owner": "b"}
    filler = json.dumps({"event": "PreToolUse", "at": 2.0, "tool_name": "Read"}) + "\n"
    hook_file.write_text(json.dumps(refusal) + "\n" + filler * 2000)  # far past the state reader's tail
    assert [r.path for r in hooks.refused_edits(hook_file)] == ["b.py"]
    assert hooks.refused_edits(tmp_path / "missing.jsonl") == ()
