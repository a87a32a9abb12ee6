"""Bringing a run's branches home from its SSH hosts: `parallel/<slug>` in the local repo.

Check, merge, PRs and the report read branches in the local repo; a session on an SSH host
commits in the host's clone. So each such session's branch is fetched here (a bundle over the
host's connection: engine.hosts.remote_repo) when it ends (the supervisor) and whenever a
command needs it (`check`, `merge`, `parallel-tui fetch`). Each fetch is journaled
(BranchFetched): what came back, or why the branch here was kept as it was. A host that does
not answer is said so, and its sessions' branches here stay as they were.
"""

from __future__ import annotations

from pathlib import Path

from engine.core import events as rev
from engine.core.errors import GitError
from engine.hosts.registry import LOCAL_NAME, Hosts
from engine.run.journal import Journal, RunRecord, SessionRecord

FETCHABLE = ("started", "stopped")
"""Phases in which a session may have commits on its branch there (a cleaned one left nothing)."""


def fetch_session(run: RunRecord, record: SessionRecord, hosts: Hosts,
                  emit: rev.EmitRun) -> rev.BranchFetched:
    """Fetch one session's branch from its host and journal how it went."""
    from engine.hosts.remote import RemoteHost  # noqa: PLC0415 - asyncssh: only for SSH hosts
    from engine.hosts.remote_repo import fetch_branch  # noqa: PLC0415

    sha, problem = "", "its branch is not on the host"
    try:
        host = hosts.get(record.host)
        assert isinstance(host, RemoteHost)
        fetched = fetch_branch(host, Path(run.repo), record.branch, run.base_sha)
    except (OSError, GitError) as exc:
        problem = f"not fetched: {getattr(exc, 'problem', None) or getattr(exc, 'strerror', None) or exc}"
    else:
        if fetched is not None:
            sha, problem = fetched.sha, fetched.kept
    event = rev.BranchFetched(run_id=run.id, name=record.name, host=record.host, branch=record.branch,
                              sha=sha, problem=problem)
    emit(event)
    return event


def fetch_run(journal: Journal, run: RunRecord, hosts: Hosts, emit: rev.EmitRun = rev.ignore,
              ) -> list[rev.BranchFetched]:
    """Fetch the branch of every session of `run` that lives on an SSH host."""
    return [fetch_session(run, record, hosts, emit) for record in journal.sessions(run.id)
            if record.phase in FETCHABLE and record.host not in ("", LOCAL_NAME)]
