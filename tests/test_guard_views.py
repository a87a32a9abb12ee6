"""Guardrails as the faces show them: refused edits on the board and in the report, the live
radar's conflicts on the board. Real git, a private tmux server and the demo agent for the
report; the board's renderers are fed a recorded RunStatus (no clock, no tmux)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from engine.core.models import SessionState
from engine.report.efficiency import Actual, Refusal, RunReport, SessionLine
from engine.run.fold import LiveConflict
from engine.run.journal import open_journal
from engine.run.status import RefusedEdit, RunStatus, SessionStatus
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli
from tui.board_rows import row
from tui.report_screen import _sources
from tui.sessions_screen import _radar


def _session(name: str, **extra: object) -> SessionStatus:
    base = SessionStatus(name=name, slug=name, branch=f"parallel/{name}", worktree=f"/w/{name}", agent="demo",
                         window="@1", state=SessionState.WORKING, source="pane", detail="", problem="",
                         elapsed_s=1.0, commits=0, files_changed=0, changed_files=(), cost_usd=None,
                         last_line="", has_window=True)
    return dataclasses.replace(base, **extra)  # type: ignore[arg-type]


def _status(*sessions: SessionStatus, conflicts: tuple[LiveConflict, ...] = ()) -> RunStatus:
    return RunStatus(run_id="r", repo="/r", base_sha="0" * 40, base_ref="main", tmux_session="s",
                     attach="tmux attach", orchestrator="running", sessions=sessions, overlaps=(),
                     conflicts=conflicts)


def test_the_board_row_counts_refused_edits() -> None:
    refused = (RefusedEdit(path="b.py", at=1.0), RefusedEdit(path="c.py", at=2.0, decision="ask"))
    assert row(_session("api", refused_edits=refused), wide=False, now=0)[1] == "api [b red]⊘2[/]"
    assert row(_session("api"), wide=False, now=0)[1] == "api", "no marker without a refusal"


def test_the_radar_panel_shows_live_conflicts_in_red() -> None:
    run = _status(_session("api"), _session("web"),
                  conflicts=(LiveConflict(sessions=("api", "web"), files=("README.md", "x[1].py")),))
    assert _radar(run).splitlines()[0] == r"[b red]✗ api ↔ web conflict now in README.md, x\[1].py[/]"
    assert _radar(_status(_session("api"))) == "radar: no conflicts, no overlaps, no boundary warnings"


def test_the_report_lists_refused_edits(repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"task": "t", "estimate": {"sequential_minutes": 30}, "subtasks": [
        {"name": "api", "description": "the api", "files_to_create": ["demo/api.md"]},
        {"name": "web", "description": "the web", "files_to_create": ["demo/web.md"]}]}))
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "demo", "--yes",
                       "--wait")
    assert code == 0, err
    with open_journal() as journal:
        [run] = journal.runs(str(repo))
        hook = Path(next(s.hook_file for s in journal.sessions(run.id) if s.name == "api"))
    with hook.open("a") as handle:  # the line the ownership hook writes (engine.agents.ownership_hook)
        handle.write(json.dumps({"event": "OwnershipRefused", "at": 1.0, "path": "demo/web.md",
                                 "decision": "deny", "owner": "web"}) + "\n")
    code, out, err = cli(capsys, "report", "--repo", str(repo), "--json")
    assert code == 0, err
    sessions = {s["name"]: s for s in json.loads(out)["sessions"]}
    assert sessions["api"]["refused_edits"] == [{"path": "demo/web.md", "at": 1.0, "decision": "deny"}]
    assert sessions["web"]["refused_edits"] == []
    code, out, err = cli(capsys, "report", "--repo", str(repo))
    assert "refused 1 edit(s) outside its files: demo/web.md (deny)" in out


def test_the_report_screen_names_each_refusal() -> None:
    line = SessionLine(name="api", agent="demo", seconds=1.0, cost_usd=None, state="done",
                       refused_edits=(Refusal(path="b.py", at=0.0, decision="deny"),))
    report = RunReport(run="r", task="t", agent="demo", outcome="merged", predicted=None,
                       actual=Actual(wall_seconds=None, active_seconds=None, waiting_seconds=0.0, stages={}),
                       stages=(), sessions=(line,), realised_savings_pct=None, sources={"x": "measured"})
    assert _sources(report).plain.startswith("⊘ api refused an edit of b.py (deny) at ?\n")
