"""Finding and removing what runs left behind, without losing a commit.

Leftovers come from the journal (everything was written there before it was created),
checked against tmux and git as they are now. Windows go. A worktree goes only when the
journal says this tool created it *and* git lists it as a worktree of the repo: a folder
of the user's is never touched, not even with --force. It stays, unless --force, when it
has uncommitted changes; it stays even with --force when its state cannot be read (unknown
is never "nothing to lose");
a half-made one (never checked out, so identical to its base) holds nothing and goes. A
branch goes only when every commit is in the base branch or on a remote; with --force an
unmerged branch is deleted only after a backup ref `refs/parallel-backup/<run>/<branch>`
keeps its commits reachable. Each run's windows, worktrees and branches are looked at and
removed on the host its sessions journaled. On an SSH host the branch in its clone goes only
once its commits are here (`hosts fetch`: the branch of that name here holds its tip), never
otherwise, not even with --force: there, unfetched work is the only copy; the fetched branch
here then follows the rules above.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core import events as rev
from engine.core import faults
from engine.hosts.gitcli import git, run_git
from engine.hosts.host import Host
from engine.hosts.on_host import is_remote, repo_on
from engine.hosts.registry import LOCAL_NAME, Hosts
from engine.hosts.tmux_sessions import PaneFacts
from engine.hosts.worktrees import (
    backup_and_delete_branch,
    branch_exists,
    delete_branch,
    git_dir,
    is_safe_to_delete,
    registered_worktrees,
    remove_worktree,
    worktree_work,
)
from engine.run.journal import Journal, RunRecord, SessionRecord
from engine.run.lock import held
from engine.run.lookup import Sites, find_run, pane_for, tmux_of
from engine.run.recorder import recorder_for


@dataclass(frozen=True, slots=True, kw_only=True)
class Leftover:
    run_id: str
    session: str
    kind: str
    """`window`, `worktree` or `branch`."""
    target: str
    action: str
    """`remove`, `keep`, `delete` or `backup+delete`."""
    reason: str = ""
    host: str = LOCAL_NAME
    """Where it is: `local`, or the SSH host the session ran on."""


def leftover_lines(leftovers: Sequence[Leftover]) -> str:
    """What a cleanup would do, one leftover a line (the text a person approves)."""
    return "\n".join(f"{x.action:<13} {x.kind:<8} {x.target}" + (f"  ({x.reason})" if x.reason else "")
                     for x in leftovers)


def runs_to_clean(journal: Journal, repo: Path, run_id: str | None, hosts: Hosts) -> list[RunRecord]:
    """The named run; else every run of `repo` that still has something: a session not yet
    cleaned, or a branch that outlived its cleanup (kept then, maybe merged since)."""
    if run_id:
        return [find_run(journal, repo, run_id)]
    return [r for r in journal.runs(str(repo))
            if any(s.phase != "cleaned" or branch_exists(repo, s.branch, host=hosts.local)
                   for s in journal.sessions(r.id))]


def find_leftovers(journal: Journal, runs: list[RunRecord], force: bool, hosts: Hosts) -> list[Leftover]:
    out: list[Leftover] = []
    for run in runs:
        records = journal.sessions(run.id)
        sites = Sites(run, records, hosts)
        panes = sites.panes()
        registered = {name: _registered(run, tmux.host) for name, tmux in sites.servers.items()}
        taken = _claimed_by_newer_runs(journal, run)
        for record in records:
            if (record.host or LOCAL_NAME) in sites.down and record.phase != "cleaned":
                out.append(Leftover(run_id=run.id, session=record.name, kind="worktree", action="keep",
                                    target=record.worktree, host=record.host,
                                    reason=f"host {record.host} does not answer: nothing there is touched"))
                continue
            host = sites.of(record).host
            found = _session_leftovers(run, record, panes, registered[host.name], force, taken, host)
            out.extend(dataclasses.replace(x, host=host.name) for x in found)
            if is_remote(host) and record.phase != "cleaned":
                out.extend(_local_copy(run, record, force, hosts.local))
    return out


def _registered(run: RunRecord, host: Host) -> dict[str, str]:
    """The worktrees git lists for the repo on `host` (none where its clone was never made)."""
    repo = repo_on(host, Path(run.repo))
    if is_remote(host) and not host.exists(repo):
        return {}
    return registered_worktrees(repo, host=host)


def _local_copy(run: RunRecord, record: SessionRecord, force: bool, here: Host) -> list[Leftover]:
    """The branch fetched here from an SSH host's session: the usual branch rules."""
    out: list[Leftover] = []

    def add(kind: str, target: str, action: str, reason: str = "") -> None:
        out.append(Leftover(run_id=run.id, session=record.name, kind=kind, target=target, action=action,
                            reason=reason))
    _branch_leftover(run, record, force, False, add, here)
    return out


def _claimed_by_newer_runs(journal: Journal, run: RunRecord) -> set[str]:
    """Worktree paths and branches that a later, not yet cleaned run of the repo uses."""
    taken: set[str] = set()
    for other in journal.runs(run.repo):
        if other.created_at > run.created_at:
            taken.update(x for s in journal.sessions(other.id) if s.phase != "cleaned"
                         for x in (s.worktree, s.branch))
    return taken


def _session_leftovers(run: RunRecord, record: SessionRecord, panes: dict[str, PaneFacts],
                       registered: dict[str, str], force: bool, taken: set[str],
                       host: Host) -> list[Leftover]:
    out: list[Leftover] = []

    def add(kind: str, target: str, action: str, reason: str = "") -> None:
        out.append(Leftover(run_id=run.id, session=record.name, kind=kind, target=target,
                            action=action, reason=reason))

    pane = pane_for(record, panes)
    running = pane is not None and not pane.dead and not force
    if pane is not None:
        if running:
            add("window", pane.window_id, "keep",
                f"agent still running; `parallel-tui stop {record.name}` first, or pass --force")
        else:
            add("window", pane.window_id, "remove", "" if pane.dead else "agent still running: killed")
    if record.worktree in taken or record.branch in taken:
        return out  # a later run (--reuse) works there now: that run's cleanup decides
    kept = _worktree_leftover(record, registered, force, running, add, host)
    _branch_leftover(run, record, force, kept, add, host)
    return out


def _worktree_leftover(record: SessionRecord, registered: dict[str, str], force: bool,
                       running: bool, add: Callable[..., None], host: Host) -> bool:
    """Plan the worktree; True when it stays (running agent, work in it, not ours)."""
    worktree = Path(record.worktree)
    if record.phase == "cleaned" or not (host.exists(worktree) or record.worktree in registered):
        return False
    if running:
        add("worktree", record.worktree, "keep", "its agent is still running")
        return True
    if why := _not_ours(record, registered, host):
        add("worktree", record.worktree, "keep", why)
        return record.worktree in registered  # a folder git does not list has no branch checked out
    work = worktree_work(worktree, host=host)
    if work == "unknown" or (work != "nothing" and not force):
        add("worktree", record.worktree, "keep", _KEEP[work])
        return True
    add("worktree", record.worktree, "remove", _DISCARD.get(work, ""))
    return False


_KEEP = {"changes": "uncommitted changes; commit them or pass --force",
         "unknown": "git cannot read its state: kept as unknown, even with --force; look at it, and "
                    "remove it by hand (git worktree remove --force PATH) if nothing in it matters"}
_DISCARD = {"changes": "uncommitted changes discarded"}


def _not_ours(record: SessionRecord, registered: dict[str, str], host: Host) -> str:
    """Why the folder is not this tool's to delete (not even with --force), or ''."""
    if record.worktree not in registered:
        return "git does not list it as a worktree of this repository: left alone"
    if not record.made:
        return "parallel-tui did not create this worktree: left alone"
    worktree = Path(record.worktree)
    if host.exists(worktree) and git_dir(worktree, host=host) is None:
        return ("its .git link is gone, so git cannot read it: kept as unknown; look at it, and remove it "
                "by hand if nothing in it matters")
    return ""


def _branch_leftover(run: RunRecord, record: SessionRecord, force: bool, worktree_kept: bool,
                     add: Callable[..., None], host: Host) -> None:
    repo = repo_on(host, Path(run.repo))
    if not branch_exists(repo, record.branch, host=host):
        return
    if is_remote(host):
        _host_branch(run, record, worktree_kept, add, host)
    elif worktree_kept:
        add("branch", record.branch, "keep", "its worktree is kept")
    elif is_safe_to_delete(repo, record.branch, run.base_ref, host=host):
        add("branch", record.branch, "delete", f"merged into {run.base_ref}")
    elif force:
        add("branch", record.branch, "backup+delete", f"unmerged; kept as refs/parallel-backup/{run.id}/")
    else:
        add("branch", record.branch, "keep", f"has commits not in {run.base_ref}; merge it or --force")


def _host_branch(run: RunRecord, record: SessionRecord, worktree_kept: bool, add: Callable[..., None],
                 host: Host) -> None:
    """A branch in an SSH host's clone: it goes once its tip is here, never before."""
    if worktree_kept:
        add("branch", record.branch, "keep", "its worktree is kept")
    elif fetched_here(run, record.branch, host):
        add("branch", record.branch, "delete", f"its commits are here (fetched as {record.branch})")
    else:
        add("branch", record.branch, "keep", "its commits are not here yet: `parallel-tui hosts fetch` first "
                                             "(kept even with --force: it is the only copy)")


def fetched_here(run: RunRecord, branch: str, host: Host) -> bool:
    """The host's branch tip is in the local branch of that name (or already in the base)."""
    tip = git(repo_on(host, Path(run.repo)), "rev-parse", "--verify", "-q", f"refs/heads/{branch}",
              ok_codes=(0, 1), host=host).strip()
    if not tip:
        return True  # nothing there to lose
    repo = Path(run.repo)
    here = [f"refs/heads/{branch}", run.base_ref]
    return any(run_git(repo, "merge-base", "--is-ancestor", tip, ref).returncode == 0 for ref in here)


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanupResult:
    removed: int
    kept: int
    """Planned keeps plus items kept because work appeared after the plan was shown."""
    failed: tuple[str, ...] = ()
    """Planned removals that did not happen (git refused, a file could not go): each
    `kind target`. Kept, never announced as removed; the command exits non-zero."""


def apply_cleanup(journal: Journal, runs: list[RunRecord], leftovers: list[Leftover],
                  emit: rev.EmitRun = rev.ignore, *, force: bool = False,
                  only: Collection[str] | None = None, hosts: Hosts) -> CleanupResult:
    """Do the planned actions run by run, holding each run's lock; then prune.

    A session is marked cleaned only when nothing of it was kept, so whatever stays is
    found again by the next cleanup. With `only`, just those sessions are touched (what a
    partial merge finished); the others stay as they are.
    """
    removed, emit, failed = 0, recorder_for(journal, emit), []
    for run in runs:
        mine = [item for item in leftovers
                if item.run_id == run.id and (only is None or item.session in only)]
        kept = {item.session for item in mine if item.action == "keep"}
        used = [hosts.get(name) for name in dict.fromkeys(
            [LOCAL_NAME, *(x.host for x in mine if x.action != "keep")])]  # a down host has only keeps
        with held(f"run:{run.id}", f"run {run.id}") as lock:
            for item in mine:
                if item.action == "keep":
                    continue
                done = _apply(run, item, hosts.get(item.host), force=force)
                if done == "done":
                    emit(rev.LeftoverRemoved(run_id=run.id, what=item.kind, target=item.target))
                    removed += 1
                    faults.reached("cleanup")
                else:
                    kept.add(item.session)
                    if done == "failed":
                        failed.append(f"{item.kind} {item.target}")
            for host in used:
                _tidy(run, host, [x.target for x in mine if x.kind == "worktree" and x.host == host.name])
            for record in journal.sessions(run.id):
                if (only is None or record.name in only) and record.name not in kept \
                        and record.phase != "cleaned":
                    journal.update_session(run.id, record.slug, phase="cleaned")
            if all(r.phase == "cleaned" for r in journal.sessions(run.id)):
                lock.remove()
    return CleanupResult(removed=removed, kept=len(leftovers) - removed, failed=tuple(failed))


def _tidy(run: RunRecord, host: Host, worktrees: list[str]) -> None:
    """After removals on `host`: git's worktree list pruned, our empty folder and session gone."""
    repo = repo_on(host, Path(run.repo))
    if not is_remote(host) or host.exists(repo):
        git(repo, "worktree", "prune", host=host)
    _drop_empty_parents(worktrees, host)
    tmux_of(run, host).kill_session_if_empty()


def _drop_empty_parents(worktrees: Iterable[str], host: Host) -> None:
    """The `<repo>.parallel/` folder we made goes too once it is empty (rmdir never deletes files)."""
    for parent in {Path(w).parent for w in worktrees}:
        if not parent.name.endswith(".parallel"):
            continue  # a configured worktree_root is the user's folder, not ours
        if host.exists(parent) and not host.listdir(parent):
            with contextlib.suppress(OSError):
                host.run(["rmdir", "--", str(parent)])


def _still_removable(repo: Path, worktree: Path, host: Host, *, force: bool) -> str:
    """Remove the worktree if it is still git's and ours to remove: `done`, `kept` (work or
    doubt appeared since the plan) or `failed` (it is still there after the removal)."""
    if str(worktree) not in registered_worktrees(repo, host=host):
        if host.exists(worktree):
            return "kept"  # no longer a worktree git knows: never delete a plain folder
        git(repo, "worktree", "prune", host=host)
        return "done"
    if host.exists(worktree) and git_dir(worktree, host=host) is None:
        return "kept"  # its .git link went since the plan: unknown, kept
    work = worktree_work(worktree, host=host)
    if work == "unknown" or (not force and work != "nothing"):
        return "kept"  # changes (or doubt) appeared since the plan was shown: keep them
    return "done" if remove_worktree(repo, worktree, host=host) else "failed"


def _apply(run: RunRecord, item: Leftover, host: Host, *, force: bool) -> str:
    """Act on one planned item, re-checking first (the agent may have worked since the plan
    was shown): `done`, `kept` after all, or `failed` (git left it in place)."""
    repo = repo_on(host, Path(run.repo))
    if item.kind == "window":
        tmux_of(run, host).kill_window(item.target)
        return "done"
    if item.kind == "worktree":
        return _still_removable(repo, Path(item.target), host, force=force)
    if item.target in registered_worktrees(repo, host=host).values():
        return "kept"  # still checked out (its worktree was kept just now)
    if is_remote(host):
        if not fetched_here(run, item.target, host):
            return "kept"  # commits appeared there since the plan: never delete the only copy
        delete_branch(repo, item.target, host=host)
        return "failed" if branch_exists(repo, item.target, host=host) else "done"
    if item.action == "backup+delete" or not is_safe_to_delete(repo, item.target, run.base_ref, host=host):
        if not force:
            return "kept"  # commits appeared since the plan was shown: keep the branch
        backup_and_delete_branch(repo, item.target, run.id, host=host)
    else:
        delete_branch(repo, item.target, host=host)
    return "failed" if branch_exists(repo, item.target, host=host) else "done"


def left_behind(journal: Journal, run: RunRecord, hosts: Hosts) -> dict[str, int]:
    """How many windows, worktrees and branches of `run` exist now: what an interrupted
    `run` tells the user it left."""
    counts = {"window": 0, "worktree": 0, "branch": 0}
    for item in find_leftovers(journal, [run], force=True, hosts=hosts):
        counts[item.kind] += 1
    return counts
