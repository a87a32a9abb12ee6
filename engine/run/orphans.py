"""Worktrees, branches and tmux windows of this tool that no journaled run knows.

After a journal is lost (corrupt, emptied, deleted) what its runs left is out of every
cleanup's sight: cleanup acts only on what the journal says the tool made. `cleanup
--orphans` finds them again by the tool's own naming (`parallel/<slug>` branches, worktrees
in the repo's worktree folder, windows of the repo's tmux session), shows what each holds
(commits not in the base, uncommitted edits) and, once confirmed, journals them as one
"recovered" run. From then on they are a run like any other: `cleanup` removes only what
holds no work, `--force` backs a branch up first (ARCHITECTURE.md §7), `merge` can take them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from engine.core.config import ParallelConfig
from engine.core.places import BRANCH_PREFIX
from engine.hosts.gitcli import git
from engine.hosts.host import Host
from engine.hosts.tmux_sessions import PLACEHOLDER, Tmux, legacy_session_name, server_path, session_name
from engine.hosts.worktrees import registered_worktrees, worktree_base, worktree_work
from engine.run.journal import Journal, RunRecord, SessionRecord

RECOVERED_TASK = "recovered: what runs left after their journal was lost"


@dataclass(frozen=True, slots=True, kw_only=True)
class Orphan:
    slug: str
    branch: str = ""
    worktree: str = ""
    window_id: str = ""
    unmerged: int = 0
    """Commits on the branch that are not in the base branch."""
    work: str = ""
    """The worktree's uncommitted state (`nothing`, `changes`, `unknown`); '' without one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Orphans:
    repo: str
    base_ref: str
    base_sha: str
    tmux_session: str
    """The session the windows were found in (the repo's own name when there are none)."""
    found: tuple[Orphan, ...]


def find_orphans(journal: Journal, repo: Path, config: ParallelConfig, host: Host) -> Orphans:
    """What the repo's host (`host`) holds under the tool's names that no journaled run knows."""
    runs = journal.runs(str(repo))
    sessions = [s for r in runs for s in journal.sessions(r.id)]
    known_branches = {s.branch for s in sessions}
    known_trees = {s.worktree for s in sessions}
    base = worktree_base(repo, config)
    by_slug: dict[str, Orphan] = {}
    for path, branch in registered_worktrees(repo, host=host).items():
        if Path(path).parent == base and path not in known_trees:
            slug = Path(path).name
            by_slug[slug] = Orphan(slug=slug, worktree=path, branch=branch)
    for branch in _tool_branches(repo, host) - known_branches:
        slug = branch.removeprefix(BRANCH_PREFIX).replace("/", "-")
        if not any(o.branch == branch for o in by_slug.values()):
            by_slug[slug] = replace(by_slug.get(slug, Orphan(slug=slug)), branch=branch)
    session, windows = _orphan_windows(journal, repo, config, runs, host)
    for name, window_id in windows.items():
        by_slug[name] = replace(by_slug.get(name, Orphan(slug=name)), window_id=window_id)
    base_ref, base_sha = _base(repo, host)
    found = tuple(_measured(repo, base_ref, o, host) for _, o in sorted(by_slug.items()))
    return Orphans(repo=str(repo), base_ref=base_ref, base_sha=base_sha, tmux_session=session, found=found)


def _tool_branches(repo: Path, host: Host) -> set[str]:
    out = git(repo, "for-each-ref", "--format=%(refname:short)", f"refs/heads/{BRANCH_PREFIX}", host=host)
    return {b for b in out.splitlines() if b}


def _orphan_windows(journal: Journal, repo: Path, config: ParallelConfig,
                    runs: list[RunRecord], host: Host) -> tuple[str, dict[str, str]]:
    """Windows of the repo's tmux session (either name it has had) that no live journaled
    session owns: name → window id."""
    live = {(r.tmux_session, s.window_name)
            for r in runs for s in journal.sessions(r.id) if s.phase != "cleaned"}
    for name in (session_name(repo), legacy_session_name(repo)):
        tmux = Tmux(config.tmux_socket, name, server_path(config.tmux_socket), host=host)
        panes = tmux.panes()
        windows = {p.window_name: wid for wid, p in panes.items()
                   if p.window_name != PLACEHOLDER and (name, p.window_name) not in live}
        if windows:
            return name, windows
    return session_name(repo), {}


def _base(repo: Path, host: Host) -> tuple[str, str]:
    ref = git(repo, "symbolic-ref", "-q", "--short", "HEAD", ok_codes=(0, 1), host=host).strip()
    return ref or "HEAD", git(repo, "rev-parse", "HEAD", host=host).strip()


def _measured(repo: Path, base_ref: str, orphan: Orphan, host: Host) -> Orphan:
    unmerged = 0
    if orphan.branch:
        count = git(repo, "rev-list", "--count", f"{base_ref}..refs/heads/{orphan.branch}", ok_codes=(0, 128),
                    host=host)
        unmerged = int(count.strip() or 0)
    work = worktree_work(Path(orphan.worktree), host=host) if orphan.worktree else ""
    return replace(orphan, unmerged=unmerged, work=work)


def adopt(journal: Journal, orphans: Orphans, config: ParallelConfig, run_id: str) -> RunRecord:
    """Journal the orphans as one stopped run, all at once. A worktree counts as this tool's
    (`made`, so cleanup may remove it when it holds nothing) because it sits in the tool's
    worktree folder under the tool's naming; its branch is kept unless merged, as any run's."""
    run = RunRecord(id=run_id, repo=orphans.repo, base_sha=orphans.base_sha, base_ref=orphans.base_ref,
                    agent="unknown", tmux_socket=config.tmux_socket, tmux_session=orphans.tmux_session,
                    task=RECOVERED_TASK, created_at=time.time(), pid=0,
                    tmux_server=server_path(config.tmux_socket))
    base = worktree_base(Path(orphans.repo), config)
    sessions = [SessionRecord(
        run_id=run_id, slug=o.slug, name=o.slug, branch=o.branch or f"{BRANCH_PREFIX}{o.slug}",
        worktree=o.worktree or str(base / o.slug), window_name=o.slug if o.window_id else "",
        window_id=o.window_id, agent="unknown", owned=(), phase="stopped", prompt_file="", hook_file="",
        stream_file="", made=bool(o.worktree)) for o in orphans.found]
    journal.add_run_with_sessions(run, sessions)
    return run
