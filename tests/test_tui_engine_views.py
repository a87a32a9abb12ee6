"""The read-only views the dashboard needs come from the Engine (`pane_text`, `diff`), so no
widget or adapter talks to tmux or git: real git, a private tmux server, the demo agent."""

from __future__ import annotations

import ast
import asyncio
import subprocess
import time
from pathlib import Path

import pytest

from engine.core.errors import EngineError
from engine.service import build_engine

TUI = Path(__file__).resolve().parents[1] / "tui"


async def test_engine_pane_text_and_diff_of_a_demo_session(web_repo: Path, tmux_socket: str) -> None:
    engine = build_engine(web_repo, planner="offline", agent="demo")
    task, subtasks = engine.quick_subtasks("one", "")
    started = await engine.start_run(subtasks, task, "demo")
    deadline = time.monotonic() + 20
    while (await engine.status(started.run_id)).sessions[0].commits < 1:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    pane = await engine.pane_text("one", run_id=started.run_id, lines=50)
    assert "demo agent one" in pane
    diff = await engine.diff("one", run_id=started.run_id)
    assert "demo/one.md" in diff and "1 file changed" in diff and "+++ b/demo/one.md" in diff
    with pytest.raises(EngineError):
        await engine.diff("nobody", run_id=started.run_id)
    (one,) = await engine.file_diffs("one", run_id=started.run_id)
    assert (one.path, one.status, one.before, one.note) == ("demo/one.md", "added", "", "")
    branch = (await engine.status(started.run_id)).sessions[0].branch
    shown = subprocess.run(["git", "-C", str(web_repo), "show", f"{branch}:demo/one.md"],  # noqa: ASYNC221
                           capture_output=True, text=True, check=True).stdout
    assert one.after == shown


@pytest.mark.parametrize("path", sorted(TUI.glob("*.py")),
                         ids=lambda p: p.name)
def test_no_tui_module_imports_git_or_tmux(path: Path) -> None:
    banned = ("engine.hosts", "subprocess")
    names = [n.module or "" for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom)]
    names += [a.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Import)
              for a in n.names]
    assert not [n for n in names if n.startswith(banned)], names
