"""Ownership for agents without an edit hook: stop a session that changed another's files.

Claude Code sessions are stopped *before* an edit by their PreToolUse hook; codex, aider,
custom and demo agents (and Claude's Bash) can only be caught after the fact, by the
boundary watch. With `ownership = "deny"` (read from the session's ownership file, written
at launch) such a session is **stopped**, not paused: a SIGSTOPped agent looks frozen to a
user who attaches, holds its API connection until it times out and has no verb to resume
it, while a stopped one keeps its worktree and branch, so nothing is lost and the stray
change is in its diff for the user to judge.

What triggers the stop is a changed file outside the session's entries that the base commit
tracks (an existing file it was not given), or that another subtask names exactly (a file it
is to create). A new file inside another subtask's *folder*, or that nobody owns, is only
flagged: `src/__pycache__/a.pyc` written by a test run inside a folder another subtask owns is
a build artefact, and stopping an agent for its test run's droppings would be worse than the
stray file (the merge check still sees any real conflict).

Never silent: the reason goes into the session's hook file (`status` shows it as the detail
of the `exited` state and in `problem`), and a SessionStopped event is journaled and emitted
(`■ stopped NAME` while following).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from pathlib import Path

from engine.agents.hooks import guard_mode
from engine.core import events as rev
from engine.core.errors import GitError
from engine.core.ownership import normalize, owners, owns
from engine.hosts.files import read_or_empty
from engine.hosts.gitcli import git
from engine.hosts.host import Host
from engine.hosts.tmux_sessions import PaneFacts
from engine.hosts.worktrees import activity
from engine.run.control import stop_session
from engine.run.journal import Journal, RunRecord, SessionRecord

STOPPED_EVENT = "BoundaryStopped"
GRACE_S = 2.0


def mode_of(record: SessionRecord, host: Host) -> str:
    """The session's ownership mode as written at launch; `off` without a file (a merge
    resolution, or a run started before this existed), `deny` when it cannot be read."""
    return guard_mode(Path(record.hook_file), host)


def strays(record: SessionRecord, changed: tuple[str, ...], others: Mapping[str, tuple[str, ...]],
           tracked: frozenset[str]) -> tuple[str, ...]:
    """The changed files that stop the session under `deny` (see the module docstring)."""
    named = {normalize(e) for entries in others.values() for e in entries}
    outside = [f for f in changed if not owns(record.owned, f)] if record.owned else list(changed)
    return tuple(f for f in outside
                 if normalize(f) in named or (f in tracked and (record.owned or owners(others, f))))


def stray_reason(hook_file: Path, host: Host) -> str:
    """Why the boundary watch stopped this session, or "" (read back from its hook file)."""
    lines = read_or_empty(host, hook_file).decode("utf-8", errors="replace").splitlines()
    for raw in reversed(lines):
        with contextlib.suppress(ValueError):
            line = json.loads(raw)
            if isinstance(line, dict) and line.get("event") == STOPPED_EVENT:
                return str(line.get("reason", ""))
    return ""


def _tracked(repo: Path, base_sha: str, files: list[str]) -> frozenset[str]:
    if not files:
        return frozenset()
    try:
        out = git(repo, "ls-tree", "-r", "-z", "--name-only", base_sha, "--", *files)
    except GitError:
        return frozenset()
    return frozenset(f for f in out.split("\0") if f)


def enforce(journal: Journal, run: RunRecord, panes: dict[str, PaneFacts], host: Host,
            emit: rev.EmitRun = rev.ignore) -> list[str]:
    """Stop every live `deny` session whose worktree has a stray change; the names stopped.
    `host`: where these sessions (and `panes`) live."""
    records = journal.sessions(run.id)
    live = [r for r in records if r.phase == "started" and r.window_id in panes
            and not panes[r.window_id].dead and mode_of(r, host) == "deny"]
    stopped = []
    for record in live:
        progress = activity(Path(record.worktree), run.base_sha, host=host)
        if progress is None or not progress.files_changed:
            continue
        others = {r.name: r.owned for r in records if r.slug != record.slug}
        inherited = _inherited(run, record, records)
        changed = tuple(f for f in progress.files_changed if f not in inherited)
        found = strays(record, changed, others, _tracked(Path(run.repo), run.base_sha, list(changed)))
        if found:
            _stop(journal, run, record, found, others, emit, host)
            stopped.append(record.name)
    return stopped


def _inherited(run: RunRecord, record: SessionRecord, records: list[SessionRecord]) -> frozenset[str]:
    """Files its dependencies' branches changed: a later wave starts with them merged in, so
    they are not its strays."""
    branches = [f"refs/heads/{r.branch}" for r in records if r.name in record.depends_on]
    found: set[str] = set()
    for branch in branches:
        with contextlib.suppress(GitError):
            found |= {f for f in git(Path(run.repo), "diff", "--name-only", "-z", run.base_sha,
                                     branch).split("\0") if f}
    return frozenset(found)


def _stop(journal: Journal, run: RunRecord, record: SessionRecord, found: tuple[str, ...],
          others: Mapping[str, tuple[str, ...]], emit: rev.EmitRun, host: Host) -> None:
    """Say why in the session's hook file (status shows it), then stop it the one way sessions
    are stopped (`engine.run.control`: journaled, Ctrl-C, SIGTERM, wait until dead)."""
    whose = [f"{f} (subtask {owner[0]}'s)" if (owner := owners(others, f)) else f for f in found]
    reason = f"stopped: changed {', '.join(whose)} outside its files (ownership = deny)"
    line = {"event": STOPPED_EVENT, "at": time.time(), "paths": list(found), "reason": reason}
    host.append_bytes(Path(record.hook_file), (json.dumps(line) + "\n").encode("utf-8"))
    stop_session(journal, run, record, emit, reason=reason, host=host)
