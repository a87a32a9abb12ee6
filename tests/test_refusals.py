"""The ownership hook's refusals become journaled events, once each (tests/test_ownership_e2e.py
proves the whole path with the real Claude Code CLI; these pin the once-only rule)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.agents import hooks as claude_hooks
from engine.agents.ownership_hook import REFUSED_EVENT
from engine.core import events as rev
from engine.hosts.host import LOCAL
from engine.run.journal import Journal, RunRecord, SessionRecord
from engine.run.recorder import recorder_for
from engine.run.refusals import RefusalWatch


def _journal(tmp_path: Path) -> tuple[Journal, SessionRecord]:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.add_run(RunRecord(id="r1", repo="/r", base_sha="abc", base_ref="main", agent="claude",
                              tmux_socket="", tmux_session="s", task="t", created_at=1.0, pid=1))
    record = SessionRecord(run_id="r1", slug="a", name="A", branch="parallel/a", worktree="/w",
                           window_name="a", agent="claude", owned=("a.py",), phase="started",
                           prompt_file="/p", hook_file=str(tmp_path / "a.hook.jsonl"), stream_file="/s")
    journal.add_session(record)
    return journal, record


def _refuse(hook_file: Path, path: str, at: float) -> None:
    line = {"event": REFUSED_EVENT, "at": at, "path": path, "decision": "deny", "owner": "B"}
    with hook_file.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def _refused(journal: Journal) -> list[str]:
    return [str(p["path"]) for _, kind, p in journal.events("r1") if kind == "edit_refused"]


def test_each_refusal_is_journaled_once_even_by_a_restarted_follower(tmp_path: Path) -> None:
    journal, record = _journal(tmp_path)
    hook_file = Path(record.hook_file)
    emit = recorder_for(journal, rev.ignore)
    watch = RefusalWatch(journal, claude_hooks.refused_edits, LOCAL)
    watch(record, emit)  # no hook file yet: nothing
    _refuse(hook_file, "/w/b.py", 1764175131.4567891)  # more digits than the journal keeps
    watch(record, emit)
    watch(record, emit)  # the file did not change: not read again
    _refuse(hook_file, "/w/c.py", 11.0)
    watch(record, emit)
    assert _refused(journal) == ["/w/b.py", "/w/c.py"]
    RefusalWatch(journal, claude_hooks.refused_edits, LOCAL)(record, emit)  # a supervisor started again
    assert _refused(journal) == ["/w/b.py", "/w/c.py"]
