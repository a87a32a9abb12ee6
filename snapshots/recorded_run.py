"""A recorded run for the sessions board's snapshots: its journal rows and the events its
supervisor journaled, fed through the app's real bridge (`tui.bridge.bridge`) one batch per
event, as `Engine.follow` hands them over. No hand-built status: the board shows what the
fold of these events and `status`'s own composition make of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from engine.hosts.host import LOCAL
from engine.run.fold import fold, journaled
from engine.run.journal import RunRecord, SessionRecord
from engine.run.status import Frame, RunStatus
from engine.run.tail import Batch
from tui.bridge import bridge, view

NOW = 1_796_000_000.0
"""The frozen clock of the recorded run (elapsed and "quiet" count from it)."""
RUN_ID = "20261126-120122-ab12"
RUN = RunRecord(id=RUN_ID, repo="/repo", base_sha="0" * 40, base_ref="main", agent="demo", tmux_socket="",
                tmux_session="claude-parallel-repo", task="Implement user authentication",
                created_at=NOW - 400, pid=0)
OWNED = {"auth-backend": ("api/",), "auth-frontend": ("web/",), "auth-tests": ("tests/",),
         "auth-docs": ("docs/",)}
STARTED = {"auth-backend": NOW - 312, "auth-frontend": NOW - 362, "auth-tests": NOW - 350,
           "auth-docs": NOW - 340}
ENDED = {"auth-tests": ("done", NOW - 59), "auth-docs": ("failed", NOW - 28)}


def _record(n: int, name: str) -> SessionRecord:
    state, ended = ENDED.get(name, ("", 0.0))
    return SessionRecord(run_id=RUN_ID, slug=name, name=name, branch=f"parallel/{name}",
                         worktree=f"/w/{name}", window_name=name, agent="demo", owned=OWNED[name],
                         phase="started", prompt_file="", hook_file="", stream_file="", window_id=f"@{n + 1}",
                         started_at=STARTED[name], final_state=state, ended_at=ended)


FRAME = Frame(run=RUN, records=tuple(_record(n, name) for n, name in enumerate(OWNED)), attach="tmux attach",
              host=LOCAL)


def _row(when: float, kind: str, /, **payload: Any) -> tuple[float, str, dict[str, object]]:
    return (when, kind, {"run_id": RUN_ID, **payload})


def _changed(name: str, new: str, at: float, detail: str = "") -> tuple[float, str, dict[str, object]]:
    return _row(at, "session_state_changed", name=name, old="", new=new, source="pane", detail=detail)


JOURNALED = [  # what the supervisor emitted, as the journal keeps it: (at, kind, payload)
    _row(NOW - 400, "run_started", repo="/repo", base_sha="0" * 40, sessions=list(OWNED)),
    *(_row(STARTED[n] - 1, "worktree_created", name=n, path=f"/w/{n}", branch=f"parallel/{n}", seconds=0.4)
      for n in OWNED),
    *(_row(STARTED[n], "session_started", name=n, window=f"@{i + 1}", agent="demo")
      for i, n in enumerate(OWNED)),
    _row(NOW - 360, "run_followed"),
    *(_changed(n, "working", STARTED[n] + 2) for n in OWNED),
    _row(NOW - 60, "session_progress", name="auth-tests", commits=2, output_at=NOW - 300, tokens=20950,
         changed_files=["tests/test_auth.py", "tests/conftest.py", "api/auth_routes.py"], cost_usd=0.18,
         last_line="✓ 14 passed in 2.31s; committed 'auth tests'"),
    _changed("auth-tests", "done", NOW - 59, "exit 0"),
    _row(NOW - 59, "session_ended", name="auth-tests", state="done", detail="exit 0", at=NOW - 59,
         exit_status=0),
    _row(NOW - 40, "session_progress", name="auth-backend", commits=3, cost_usd=0.42, tokens=48210,
         changed_files=["api/auth.py", "api/routes.py", "api/auth_routes.py", "api/models.py"],
         output_at=NOW - 4, last_line="● Edit(api/auth.py) ⎿ Added 12 lines"),
    _row(NOW - 30, "session_progress", name="auth-frontend", commits=1, tokens=131400, rate_limit_pct=37.0,
         changed_files=["web/login.js", "web/app.js"], cost_usd=1.93, output_at=NOW - 95,
         last_line="Do you want to make this edit to login.js? ❯ 1. Yes"),
    _changed("auth-frontend", "needs_input", NOW - 30, "asks to edit login.js"),
    _changed("auth-docs", "failed", NOW - 28, "exit 3"),
    _row(NOW - 28, "session_ended", name="auth-docs", state="failed", detail="exit 3", at=NOW - 28,
         exit_status=3),
    _row(NOW - 20, "window_closed", name="auth-docs",
         detail="tmux window is gone (closed after the session ended)"),
]


async def feed(app: Any) -> None:
    """Hand the recorded events to the app's bridge, one batch each, as following would."""
    async def batches() -> AsyncIterator[Batch]:
        yield Batch(events=(), frame=FRAME)
        for row in JOURNALED:
            yield Batch(events=tuple(journaled([row])), frame=FRAME)
    await bridge(batches(), app, RUN_ID)


RECORDED: RunStatus = view(Batch(events=(), frame=FRAME), fold(RUN_ID, journaled(JOURNALED)))
"""What the bridge shows once it folded every recorded event (for tests of the board's pieces)."""
