"""A branch's own work: the commits and files that are its, not what it merged in.

A resolve merges the run's other branches (the target so far) into a branch, and a later
wave starts from its dependencies: those commits are theirs, and counting them again made the
board, merge review and the report disagree (and raised overlap warnings on files only the
other branch changed). All three count a branch by this one rule:

- its own commits: the non-merge commits on its first-parent line since the base (what a merge
  brought in hangs off a second parent), less those its dependencies hold (a later wave starts
  on a dependency's commits: first-parent ones, yet theirs);
- its own files: with nothing merged in, the diff from where it left the base to its tip (a
  file changed back is no change); else the files its own commits change.

Not "less what any other branch holds": after `b` merged `a` in, `a` moving on would have lost
its earlier commits to `b`.

Any number of branches cost two git processes (three when a tip is a ref, not a commit id):
one `rev-list --parents` of all of them, the graph walked here, and one `diff-tree --stdin`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.hosts.gitcli import git
from engine.hosts.host import Host

_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
Diff = list[tuple[str, str]]
"""(status, path) pairs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnWork:
    commits: int
    files: tuple[str, ...]
    """Sorted."""
    deleted: int
    """Files the whole branch deletes, from where it left the base (what merging it deletes)."""
    alone: bool = False
    """Its history since the base is a line of its own commits that left the base itself, and
    shares no commit with the other tips: merged onto the base plus any such others, git's merge
    base is the base, so it can only conflict where the files changed meet (`merge.check`)."""


def own_work(cwd: Path, base: str, tips: Mapping[str, str],
             builds_on: Mapping[str, Sequence[str]] | None = None, *,
             host: Host) -> dict[str, OwnWork]:
    """Each branch's own work since `base`; `tips` names each branch's commit (id, ref or
    `HEAD`), `builds_on` the branches (keys of `tips`) each one's work starts from. A tip git
    cannot find (a deleted branch) is left out of the answer and counts for no one. Every git
    process runs on `host`, where `cwd` is."""
    shas = _resolve(cwd, tips, host)
    if not shas:
        return {}
    parents = _graph(cwd, base, set(shas.values()), host)
    reach = {name: _ancestors(sha, parents) for name, sha in shas.items()}
    deps = builds_on or {}
    plans = {name: _plan(sha, reach[name], [reach[d] for d in deps.get(name, ()) if d in reach], parents)
             for name, sha in shas.items()}
    # each commit's own diff before any `<tip> <parent>` line: git takes that parent for the
    # tip from then on (for the rest of the input), so a tip asked alone later would be wrong
    singles = [c for plan in plans.values() for c in plan.singles]
    wholes = [plan.whole for plan in plans.values() if plan.whole]
    diffs = _diff_tree(cwd, singles + wholes, host)
    single_diffs, whole_diffs = iter(diffs[:len(singles)]), iter(diffs[len(singles):])
    shared = _shared(reach.values())
    work: dict[str, OwnWork] = {}
    for name, plan in plans.items():
        mine = [next(single_diffs) for _ in plan.singles]
        whole = next(whole_diffs) if plan.whole else _three_dot(cwd, base, shas[name], host)
        alone = plan.plain and bool(reach[name]) and plan.whole == f"{shas[name]} {base}" \
            and not reach[name] & shared
        work[name] = plan.finish(whole, mine, alone=alone)
    return work


def _shared(reaches: Iterable[set[str]]) -> set[str]:
    """The commits more than one tip holds."""
    seen: set[str] = set()
    shared: set[str] = set()
    for commits in reaches:
        shared |= commits & seen
        seen |= commits
    return shared


@dataclass(frozen=True, slots=True)
class _Plan:
    own: tuple[str, ...]
    whole: str
    """`<tip> <where it left the base>` for `diff-tree` (a commit and the parent to diff it
    against); '' when it left at several commits."""
    plain: bool
    """Nothing merged in: its own files are the whole diff's."""

    @property
    def singles(self) -> tuple[str, ...]:
        """The commits whose own diffs its files come from (none: the whole diff's)."""
        return () if self.plain else self.own

    def finish(self, whole: Diff, singles: list[Diff], *, alone: bool) -> OwnWork:
        mine = whole if self.plain else [entry for diff in singles for entry in diff]
        return OwnWork(commits=len(self.own), files=tuple(sorted({path for _, path in mine})),
                       deleted=sum(1 for kind, _ in whole if kind == "D"), alone=alone)


def _plan(tip: str, mine: set[str], theirs: list[set[str]], parents: Mapping[str, tuple[str, ...]]) -> _Plan:
    own = tuple(c for c in _first_parents(tip, parents)
                if len(parents[c]) == 1 and not any(c in t for t in theirs))
    left_at = {p for c in mine for p in parents[c] if p not in parents}
    whole = f"{tip} {next(iter(left_at))}" if len(left_at) == 1 else (f"{tip} {tip}" if not mine else "")
    return _Plan(own=own, whole=whole, plain=len(own) == len(mine))


def _resolve(cwd: Path, tips: Mapping[str, str], host: Host) -> dict[str, str]:
    if all(_OBJECT_ID.fullmatch(t) for t in tips.values()):
        return dict(tips)
    out = git(cwd, "cat-file", "--batch-check=%(objectname) %(objecttype)", host=host,
              stdin="".join(f"{t}^{{commit}}\n" for t in tips.values()).encode())
    answers = [line.split() for line in out.splitlines()]
    return {name: a[0] for name, a in zip(tips, answers, strict=True) if len(a) == 2 and a[1] == "commit"}


def _graph(cwd: Path, base: str, tips: Iterable[str], host: Host) -> dict[str, tuple[str, ...]]:
    """Every commit since `base` on any tip → its parents."""
    out = git(cwd, "rev-list", "--parents", *tips, "--not", base, "--", host=host)
    return {ids[0]: tuple(ids[1:]) for ids in (line.split() for line in out.splitlines()) if ids}


def _ancestors(tip: str, parents: Mapping[str, tuple[str, ...]]) -> set[str]:
    seen: set[str] = set()
    todo = [tip] if tip in parents else []
    while todo:
        commit = todo.pop()
        if commit not in seen:
            seen.add(commit)
            todo.extend(p for p in parents[commit] if p in parents)
    return seen


def _first_parents(tip: str, parents: Mapping[str, tuple[str, ...]]) -> list[str]:
    line, commit = [], tip
    while commit in parents:
        line.append(commit)
        commit = parents[commit][0] if parents[commit] else ""
    return line


def _diff_tree(cwd: Path, lines: list[str], host: Host) -> list[Diff]:
    """(status, path) of each line, in order: `<commit> <parent>` diffs parent → commit,
    `<commit>` diffs it against its own parent.
    Each line's output starts with a header (`--always`: also when its diff is empty)."""
    if not lines:
        return []
    out = git(cwd, "diff-tree", "--stdin", "--always", "-r", "-z", "--name-status", "--no-renames",
              host=host, stdin="".join(f"{line}\n" for line in lines).encode())
    results: list[Diff] = []
    fields = out.split("\0")
    i = 0
    while i < len(fields):
        field = fields[i]
        if _OBJECT_ID.fullmatch(field):  # the next line's header; a status is a letter or two
            results.append([])
            i += 1
        elif field and results:
            results[-1].append((field, fields[i + 1] if i + 1 < len(fields) else ""))
            i += 2
        else:
            i += 1
    return results


def _three_dot(cwd: Path, base: str, tip: str, host: Host) -> Diff:
    """The whole diff of a branch that left the base at several commits (it merged the base's
    branch in): from their merge base, as `git diff base...tip`."""
    fields = git(cwd, "diff", "--name-status", "-z", "--no-renames", f"{base}...{tip}", host=host).split("\0")
    return [(kind, path) for kind, path in zip(fields[::2], fields[1::2], strict=False) if path]
