"""Which branches to check or merge, and into what: the rules both verbs (and the app) share.

Default: the latest run's branches into the branch the run started from. Branches may be
named as given (`parallel/auth`), by subtask slug (`auth`) or by subtask name; an explicit
list without a run merges into the repo's current branch unless `--into` says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.core.errors import GitError, UsageError
from engine.core.places import BRANCH_PREFIX
from engine.hosts.gitrepo import RepoGit
from engine.run.depends import depends_of
from engine.run.journal import Journal, RunRecord, SessionRecord
from engine.run.lookup import find_run


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    branch: str
    sha: str
    subtask: str = ""
    agent: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    target: str
    target_sha: str
    candidates: tuple[Candidate, ...]
    run: RunRecord | None
    missing: tuple[str, ...] = ()
    """Run branches that no longer exist (deleted by hand): reported, not merged."""
    depends: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Branch → the branches it builds on (the plan's `depends_on`), for the merge order."""


def select(g: RepoGit, journal: Journal, repo: Path, *, run_id: str | None, names: Sequence[str],
           into: str | None) -> Selection:
    """Resolve the run (unless branches are named), the branches and the target."""
    run = None if names and not run_id else find_run(journal, repo, run_id)
    heads = g.heads()
    if run is not None:
        found = _run_candidates(heads, journal.sessions(run.id), names)
        target = into or run.base_ref
    else:
        found = [(n, _candidate(heads, _branch_name(heads, n), "", "")) for n in names]
        target = into or _current_branch(g)
    present = tuple(c for _, c in found if c is not None)
    if not present:
        raise UsageError("none of the branches to merge exists any more",
                         hint="name existing branches with --branches, or pick a run with --run")
    target_sha = heads.get(f"refs/heads/{target}")
    if target_sha is None:
        raise UsageError(f"target branch {target!r} does not exist",
                         hint="name an existing branch with --into")
    return Selection(target=target, target_sha=target_sha, candidates=present, run=run,
                     missing=tuple(n for n, c in found if c is None),
                     depends=depends_of(journal.sessions(run.id)) if run else {})


def _run_candidates(heads: Mapping[str, str], sessions: Sequence[SessionRecord],
                    names: Sequence[str]) -> list[tuple[str, Candidate | None]]:
    by_key = {key: s for s in sessions for key in (s.branch, s.slug, s.name)}
    out: list[tuple[str, Candidate | None]] = []
    for name in names or [s.branch for s in sessions]:
        session = by_key.get(name)
        if session is None:
            out.append((name, _candidate(heads, _branch_name(heads, name), "", "")))
        else:
            out.append((session.branch, _candidate(heads, session.branch, session.name, session.agent)))
    return out


def _candidate(heads: Mapping[str, str], branch: str, subtask: str, agent: str) -> Candidate | None:
    sha = heads.get(f"refs/heads/{branch}")
    return Candidate(branch=branch, sha=sha, subtask=subtask, agent=agent) if sha else None


def _branch_name(heads: Mapping[str, str], name: str) -> str:
    for candidate in (name, BRANCH_PREFIX + name):
        if f"refs/heads/{candidate}" in heads:
            return candidate
    raise UsageError(f"no branch {name!r} (nor {BRANCH_PREFIX}{name})",
                     hint="list them with `git branch --list 'parallel/*'`")


def _current_branch(g: RepoGit) -> str:
    out = g.call("symbolic-ref", "-q", "--short", "HEAD", ok=(0, 1)).text.strip()
    if not out:
        raise GitError("HEAD is detached, so there is no branch to merge into",
                       hint="pass --into BRANCH")
    return out
