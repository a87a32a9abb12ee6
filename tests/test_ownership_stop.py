"""Agents without an edit hook: the boundary watch stops a `deny` session that strays.

The demo agent's `demo:stray PATH` line makes it edit another subtask's file first, then
(seconds later) its own. Following the run (`run --wait`) stops it in between: its own file
is never written, status says why, and the stray change stays in its worktree (nothing is
lost). With `warn` it is only flagged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.run.enforce import strays
from engine.run.journal import SessionRecord
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli, status_json

pytestmark = [pytest.mark.tmux]


def stray_plan(tmp_path: Path) -> Path:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"task": "t", "estimate": {"sequential_minutes": 10}, "subtasks": [
        {"name": "A", "description": "edit\ndemo:stray src/b.py", "files_to_modify": ["src/a.py"]},
        {"name": "B", "description": "edit too", "files_to_modify": ["README.md"]},
        {"name": "C", "description": "owns b", "files_to_modify": ["src/b.py"]}]}), encoding="utf-8")
    return plan


@pytest.mark.parametrize("mode", ["deny", "warn"])
def test_deny_stops_a_session_that_edits_anothers_file_and_warn_only_flags_it(
        repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path, mode: str,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "8")  # stray at 4 s, own file at 8 s
    monkeypatch.setenv("PARALLEL_TUI_OWNERSHIP", mode)
    repo = repo_factory(FILES)
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(stray_plan(tmp_path)),
                       "--agent", "demo", "--yes", "--wait")
    status = status_json(capsys, repo)
    sessions = {s["name"]: s for s in status["sessions"]}  # type: ignore[attr-defined]
    worktree = Path(sessions["A"]["worktree"])
    assert ("A", "src/b.py") in {(o["session"], o["file"]) for o in status["overlaps"]}  # type: ignore[attr-defined]
    assert "edited by the parallel-tui demo agent (a)" in (worktree / "src/b.py").read_text()  # kept
    if mode == "warn":
        assert code == 0 and sessions["A"]["state"] == "done"
        return
    assert "■ stopped A" in out + err
    assert sessions["A"]["state"] == "exited"
    assert "changed src/b.py (subtask C's) outside its files (ownership = deny)" in sessions["A"]["detail"]
    assert "outside its files" in sessions["A"]["problem"]
    assert "demo agent" not in (worktree / "src/a.py").read_text()  # stopped before its own edit
    assert {sessions[n]["state"] for n in "BC"} == {"done"}


def record(owned: tuple[str, ...]) -> SessionRecord:
    return SessionRecord(run_id="r", slug="a", name="A", branch="b", worktree="/w", window_name="a",
                         agent="demo", owned=owned, phase="started", prompt_file="/p", hook_file="/h",
                         stream_file="/s")


def test_only_tracked_files_and_files_another_subtask_names_stop_a_session() -> None:
    others = {"C": ("lib/", "new/made.py")}
    changed = ("src/a.py", "lib/c.py", "lib/__pycache__/c.pyc", "README.md", "new/made.py", "x.log")
    tracked = frozenset({"README.md", "src/a.py", "lib/c.py"})
    assert strays(record(("src/",)), changed, others, tracked) == ("lib/c.py", "README.md", "new/made.py")
    # a quick split that owns nothing may touch anything but another subtask's files
    assert strays(record(()), changed, others, tracked) == ("lib/c.py", "new/made.py")


def test_the_demo_agents_strays_stay_inside_its_worktree(repo_factory: RepoFactory, tmp_path: Path) -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    repo = repo_factory(FILES)
    outside = tmp_path / "outside.txt"
    prompt = tmp_path / "prompt.md"
    prompt.write_text(f"edit\ndemo:stray {outside}\ndemo:stray ../escape.txt\ndemo:stray .git/hooks/x\n"
                      "demo:stray src/b.py\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-P", "-m", "engine.agents.demo", "--prompt-file", str(prompt),
                           "--files", "src/a.py", "--seconds", "0", "--name", "A"], cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert not outside.exists() and not (repo.parent / "escape.txt").exists()
    assert not (repo / ".git" / "hooks" / "x").exists()
    assert "edited by the parallel-tui demo agent" in (repo / "src" / "b.py").read_text()  # inside: kept
    assert proc.stdout.count("is outside this worktree: skipped") == 3
